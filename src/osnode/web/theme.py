"""The node's face: its name, logo, accent colour and contact, from the settings, for every page.

The palette is declared once here and written into ``base.html`` as CSS custom properties, so the contrast
test (tests/web/test_face.py) checks the very colours the pages use. An operator re-colours the node with
``accent_color`` (checked for WCAG AA contrast with white when the settings load) and brands it with
``logo_url``; everything else follows.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

# Fixed colours; the accent comes from the settings.
PALETTE: dict[str, str] = {
    "text": "#1a1a1a",
    "muted": "#555555",
    "bg": "#ffffff",
    "soft": "#f3f5f8",
    "line": "#d3d9e0",
    "badge": "#e4ebf5",
}
# Text colour on background colour, as the stylesheet pairs them ("accent" is the operator's colour).
TEXT_PAIRS: list[tuple[str, str]] = [
    ("text", "bg"),
    ("muted", "bg"),
    ("text", "soft"),
    ("muted", "soft"),
    ("text", "badge"),
    ("accent", "bg"),
    ("accent", "soft"),
    ("bg", "accent"),
]
DEFAULT_LOGO = "/favicon.svg"


def site(request: Request) -> dict[str, Any]:
    """What base.html needs about the node, whatever page (an error page too) is rendered."""
    node = getattr(request.app.state, "node", None)
    settings = node.settings if node is not None else None
    if settings is None:
        return {"site": None, "palette": PALETTE}
    return {
        "site": {
            "name": settings.node_name,
            "description": settings.node_description,
            "contact": settings.admin_email,
            "accent": settings.accent_color,
            "logo": settings.logo_url or DEFAULT_LOGO,
            "url": settings.public_url,
        },
        "palette": PALETTE,
    }
