"""The node's settings an administrator changes in the browser: name, description, contact, logo, colour,
languages offered, base URL and registration mode. They are stored in the catalog and replace
``node.settings`` at once, so the next page rendered shows them (no restart)."""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import replace

from PIL import Image, UnidentifiedImageError

from ..config import UI_LANGUAGES, ConfigError, coerce, with_stored
from ..domain.access import Viewer
from ..domain.errors import FieldError, Forbidden, InvalidInput
from ..domain.records import Role
from ..storage import site_settings
from . import accounts
from .node import Node

EDITABLE = ("node_name", "node_description", "admin_email", "accent_color", "languages", "base_url", "registration")
MAX_TEXT = {"node_name": 200, "node_description": 1000}
MAX_LOGO = 512 * 1024
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}  # SVG can carry scripts: refused
LOGO_DIR = "site"
LANGUAGES = UI_LANGUAGES
BAD_SETTINGS = "some settings are not valid; nothing was changed"
BAD_LOGO = "the logo must be a PNG or JPEG image of at most 512 KB"
BAD_URL = "the base URL is an http or https address with no query, such as https://data.example.org"
NO_NAME = "the node needs a name"
TOO_LONG = "this text is too long"
BAD_COLOUR = "a colour is # and six hex digits, dark enough for white text (contrast 4.5:1)"
BAD_LANGUAGES = "choose at least one of the languages offered"


def _admin(viewer: Viewer) -> None:
    if viewer.role is not Role.ADMIN or viewer.read_only:
        raise Forbidden("only an administrator changes the node's settings")


def _check(name: str, raw: object) -> object:
    """One value checked; raises ValueError with the message shown beside the field."""
    if name in MAX_TEXT:
        text = " ".join(str(raw).split()) if name == "node_name" else str(raw).strip()
        if name == "node_name" and not text:
            raise ValueError(NO_NAME)
        if len(text) > MAX_TEXT[name]:
            raise ValueError(TOO_LONG)
        return text
    if name == "admin_email":
        return accounts.check_email(str(raw)) if str(raw).strip() else ""
    if name == "base_url":
        return _base_url(str(raw))
    if name == "languages" and not raw:
        raise ValueError(BAD_LANGUAGES)
    try:
        return coerce(name, raw)
    except ConfigError:
        raise ValueError({"accent_color": BAD_COLOUR, "languages": BAD_LANGUAGES}.get(name, str(raw))) from None


def _base_url(raw: str) -> str:
    from urllib.parse import urlsplit

    value = raw.strip().rstrip("/")
    if not value:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(BAD_URL) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(BAD_URL)
    if any(c in value for c in "\"'<> \\"):
        raise ValueError(BAD_URL)
    return value


def update(node: Node, viewer: Viewer, changes: dict[str, object]) -> None:
    """Check every change, then store them all and apply them at once; one bad value changes nothing."""
    _admin(viewer)
    checked: dict[str, object] = {}
    errors: list[FieldError] = []
    for name, raw in changes.items():
        if name not in EDITABLE:
            errors.append(FieldError(name, "this setting cannot be changed here"))
            continue
        try:
            checked[name] = _check(name, raw)
        except (ValueError, InvalidInput) as exc:
            errors.append(FieldError(name, getattr(exc, "detail", None) or str(exc.args[0])))
    if errors:
        raise InvalidInput(BAD_SETTINGS, errors)
    _store(node, checked)


def _store(node: Node, checked: dict[str, object]) -> None:
    stored = {k: list(v) if isinstance(v, tuple) else v for k, v in checked.items()}
    with node.transaction() as tx:
        site_settings.write(tx, stored)
    node.settings = replace(node.settings, **checked)
    node.site_seen = node.site_seen | stored


# How often a process looks for settings another process (web worker, machine) stored.
REFRESH_SECONDS = 5.0


def refresh_due(node: Node) -> bool:
    return time.monotonic() >= node.site_checked + REFRESH_SECONDS


def refresh(node: Node) -> bool:
    """Apply the settings other processes stored since this one last looked; whether any changed."""
    node.site_checked = time.monotonic()
    with node.engine.connect() as conn:
        stored = site_settings.read(conn)
    if stored == node.site_seen:
        return False
    node.settings = with_stored(node.settings, stored)
    node.site_seen = stored
    return True


def save_logo(node: Node, viewer: Viewer, data: bytes) -> str:
    """Keep an uploaded logo (PNG or JPEG only, decoded to be sure) and make it the node's; its path."""
    _admin(viewer)
    if not data or len(data) > MAX_LOGO:
        raise InvalidInput(BAD_LOGO, [FieldError("logo", BAD_LOGO)])
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()  # a truncated or forged file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = ""
    if kind not in LOGO_FORMATS:
        raise InvalidInput(BAD_LOGO, [FieldError("logo", BAD_LOGO)])
    name = f"logo-{hashlib.sha256(data).hexdigest()[:16]}.{LOGO_FORMATS[kind]}"
    folder = node.settings.data_dir / LOGO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    path = f"/site/{name}"
    _store(node, {"logo_url": path})
    return path


def logo_file(node: Node, name: str):  # type: ignore[no-untyped-def]
    """The stored logo called ``name`` (a name this module made), or None."""
    stem, _, ext = name.partition(".")
    if not stem.startswith("logo-") or ext not in LOGO_FORMATS.values() or not stem[5:].isalnum():
        return None
    path = node.settings.data_dir / LOGO_DIR / name
    return path if path.is_file() else None
