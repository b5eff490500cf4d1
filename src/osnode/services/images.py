"""Logos people upload (the node's, a community's): PNG or JPEG only, decoded by Pillow and re-encoded, so what
is served is pixels this node wrote (no metadata, no trailing bytes, no polyglot), at a bounded size. Stored in
the data folder's ``site/`` under a name made of the content's hash and served at ``/site/{name}``."""

from __future__ import annotations

import hashlib
import io
import warnings

from PIL import Image, UnidentifiedImageError

from ..domain.errors import FieldError, InvalidInput
from .node import Node

MAX_BYTES = 512 * 1024
MAX_SIDE = 4096  # larger images are refused before they are decoded
SHOWN_SIDE = 512  # a logo is shown small: kept at most this wide and high
FORMATS = {"PNG": "png", "JPEG": "jpg"}  # SVG can carry scripts: refused
FOLDER = "site"
BAD_LOGO = "the logo must be a PNG or JPEG image of at most 512 KB"


def _refuse(field: str) -> InvalidInput:
    return InvalidInput(BAD_LOGO, [FieldError(field, BAD_LOGO)])


def reencode(data: bytes, field: str = "logo") -> tuple[bytes, str]:
    """The image decoded and written again (at most ``SHOWN_SIDE`` pixels a side); its bytes and extension."""
    if not data or len(data) > MAX_BYTES:
        raise _refuse(field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or ""
                if kind not in FORMATS or max(image.size) > MAX_SIDE or min(image.size) < 1:
                    raise _refuse(field)
                image.load()  # a truncated or forged file fails here
                image.thumbnail((SHOWN_SIDE, SHOWN_SIDE))
                out = io.BytesIO()
                if kind == "PNG":
                    clean = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")
                    clean.save(out, "PNG", optimize=True)
                else:
                    clean = image if image.mode in ("RGB", "L") else image.convert("RGB")
                    clean.save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):  # fmt: skip
        raise _refuse(field) from None
    return out.getvalue(), FORMATS[kind]


def store_logo(node: Node, data: bytes, field: str = "logo") -> str:
    """Re-encode and keep an uploaded logo; the path it is served at (``/site/logo-<hash>.<ext>``)."""
    clean, ext = reencode(data, field)
    name = f"logo-{hashlib.sha256(clean).hexdigest()[:16]}.{ext}"
    folder = node.settings.data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():  # same bytes, same name: written once
        partial = folder / f".{name}.part"
        partial.write_bytes(clean)
        partial.replace(target)
    return f"/site/{name}"


def logo_file(node: Node, name: str):  # type: ignore[no-untyped-def]
    """The stored logo called ``name`` (a name this module made), or None."""
    stem, _, ext = name.partition(".")
    if not stem.startswith("logo-") or ext not in FORMATS.values() or not stem[5:].isalnum():
        return None
    path = node.settings.data_dir / FOLDER / name
    return path if path.is_file() else None
