"""BagIt (RFC 8493) bags through the Library of Congress ``bagit`` library: make, and validate."""

from __future__ import annotations

from pathlib import Path

import bagit

ALGORITHMS = ["sha256", "sha512"]


class BagError(ValueError):
    """A bag that is not valid: missing, extra or changed files, or a bad manifest."""


def make(folder: Path, info: dict[str, str]) -> None:
    """Turn ``folder`` (its content becomes the payload under data/) into a bag, in place."""
    bagit.make_bag(str(folder), bag_info=info, checksums=ALGORITHMS)


def validate(folder: Path) -> dict[str, str]:
    """Check every payload file against every manifest; returns the bag-info, raises ``BagError``."""
    try:
        bag = bagit.Bag(str(folder))
        bag.validate()
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in getattr(exc, "details", [])[:5])
        raise BagError(f"{folder} is not a valid bag: {exc.message}{': ' + details if details else ''}") from None
    except bagit.BagError as exc:
        raise BagError(f"{folder} is not a valid bag: {exc}") from None
    return dict(bag.info)
