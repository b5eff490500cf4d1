"""The one Jinja2 environment every HTML page renders with.

Templates mark every user-visible string with ``{{ _("...") }}`` (jinja2's i18n extension) so the gettext
catalogs can translate them; pages add their own filters and globals here, never in a second environment.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

TEMPLATES = Path(__file__).parent / "templates"

templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, extensions=["jinja2.ext.i18n"])
)
templates.env.install_null_translations(newstyle=True)


def filesize(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


templates.env.filters["filesize"] = filesize
