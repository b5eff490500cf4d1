"""BagIt (RFC 8493) bags through the Library of Congress ``bagit`` library: make, and validate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bagit

ALGORITHMS = ["sha256", "sha512"]


class BagError(ValueError):
    """A bag that is not valid: missing, extra or changed files, or a bad manifest."""


def make(folder: Path, info: dict[str, str]) -> None:
    """Turn ``folder`` (its content becomes the payload under data/) into a bag, in place."""
    bagit.make_bag(str(folder), bag_info=info, checksums=ALGORITHMS)


@dataclass(frozen=True)
class Validated:
    info: dict[str, str]
    sha256: dict[str, str]
    """The SHA-256 the manifest gives each payload file (``data/...``), checked against its bytes."""


def validate(folder: Path) -> Validated:
    """Check every payload file against every manifest; raises ``BagError``."""
    try:
        bag = bagit.Bag(str(folder))
        bag.validate()
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in getattr(exc, "details", [])[:5])
        raise BagError(f"{folder} is not a valid bag: {exc.message}{': ' + details if details else ''}") from None
    except bagit.BagError as exc:
        raise BagError(f"{folder} is not a valid bag: {exc}") from None
    digests = {path: hashes["sha256"] for path, hashes in bag.entries.items() if "sha256" in hashes}
    return Validated(dict(bag.info), digests)
