"""The node's settings an administrator changes in the browser: name, description, contact, logo, colour,
languages offered, base URL and registration mode. They are stored in the catalog and replace
``node.settings`` at once, so the next page rendered shows them (no restart); every other process (another
worker, another machine) takes them up at its next request (``refresh``)."""

from __future__ import annotations

from dataclasses import replace

from ..config import UI_LANGUAGES, ConfigError, coerce, with_stored
from ..domain.access import Viewer
from ..domain.errors import FieldError, Forbidden, InvalidInput
from ..domain.records import Role
from ..storage import site_settings
from . import accounts, images
from .node import Node

EDITABLE = ("node_name", "node_description", "admin_email", "accent_color", "languages", "base_url", "registration")
MAX_TEXT = {"node_name": 200, "node_description": 1000}
MAX_LOGO = images.MAX_BYTES
LANGUAGES = UI_LANGUAGES
BAD_SETTINGS = "some settings are not valid; nothing was changed"
BAD_LOGO = images.BAD_LOGO
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
        previous = site_settings.stamp(tx)
        fresh = site_settings.write(tx, stored)
    if previous != node.site_stamp:  # another process changed settings too: take all of them from the catalog
        refresh(node)
    node.settings = replace(node.settings, **checked)
    node.site_stamp = fresh


def refresh(node: Node) -> bool:
    """Take up the settings another process stored, if the catalog's stamp moved since this process looked:
    one row read by its key when nothing changed (every request asks, see ``web/app.py``)."""
    with node.engine.connect() as conn:
        current = site_settings.stamp(conn)
        if current == node.site_stamp:
            return False
        stored = site_settings.read(conn)
    node.settings = with_stored(node.base_settings or node.settings, stored)
    node.site_stamp = current
    return True


def save_logo(node: Node, viewer: Viewer, data: bytes) -> str:
    """Keep an uploaded logo (PNG or JPEG only, re-encoded by ``services.images``) and make it the node's."""
    _admin(viewer)
    path = images.store_logo(node, data)
    _store(node, {"logo_url": path})
    return path


logo_file = images.logo_file
