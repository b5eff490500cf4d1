"""Licences as SPDX expressions, checked with the license-expression library's SPDX list."""

from __future__ import annotations

from functools import lru_cache

from license_expression import Licensing, get_spdx_licensing


@lru_cache(maxsize=1)
def _licensing() -> Licensing:
    # Loading the SPDX key list takes ~100 ms; do it once.
    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def normalize_spdx(expression: str) -> str:
    """Return the normalized SPDX expression or raise ``ValueError`` naming the unknown keys.

    Cached: parsing an expression costs ~0.1 ms and a harvest checks the same few licences on
    every record (a failure is not cached, so it is raised again each time)."""
    if not expression or not expression.strip():
        raise ValueError("the licence is empty")
    try:
        info = _licensing().validate(expression.strip())
    except Exception as exc:  # the library crashes on some malformed input, e.g. 'MIT OR'
        raise ValueError(f"'{expression}' is not a valid SPDX expression") from exc
    # The library lists an empty symbol for a broken structure ('MIT AND ('): that names nothing.
    unknown = ", ".join(str(s) for s in info.invalid_symbols if str(s))
    if unknown:
        raise ValueError(f"unknown SPDX licence identifier(s): {unknown}")
    if info.errors or not info.normalized_expression:
        raise ValueError(f"'{expression}' is not a valid SPDX expression: {'; '.join(info.errors)}")
    return info.normalized_expression


@lru_cache(maxsize=4096)
def spdx_url(expression: str) -> str | None:
    """The SPDX page of a single-licence expression; compound expressions have none."""
    keys = _licensing().license_keys(expression)
    if len(keys) != 1:
        return None
    return f"https://spdx.org/licenses/{keys[0]}.html"
