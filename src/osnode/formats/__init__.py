"""Serializers, one module per standard: each is a pure function of a ``RecordView``.

The view holds everything a standard needs that is not in the DataCite metadata itself (landing
URLs, files, the node's name), so serializers need no database, no web request and no settings,
and the same record looks the same on a landing page, in content negotiation and in OAI-PMH.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ..domain.access import level_in_force
from ..domain.duo import DataUse
from ..domain.metadata import Metadata
from ..domain.records import Access, AccessLevel, FileEntry, Version
from . import trusted

if TYPE_CHECKING:
    from .articles import JournalFacts


class FileView(NamedTuple):
    """One downloadable file; a plain ``(key, size, sha256, mimetype, download_url)`` tuple works too."""

    key: str
    size: int
    sha256: str
    mimetype: str
    download_url: str


@dataclass(frozen=True)
class RecordView:
    """One record version as the outside world sees it."""

    metadata: Metadata
    identifier: str
    """Landing page URL of this version."""
    record_url: str
    """Landing page URL of the concept (always its latest version)."""
    version_number: int | None = None
    published_at: datetime | None = None
    files: tuple[FileView, ...] = field(default=())
    node_name: str = "Open Science Node"
    origin_node: str | None = None
    """Set on records harvested from another node: where the record lives."""
    origin_url: str | None = None
    """For a harvested copy: the original record's own address (its landing page at the origin)."""
    access_level: AccessLevel = AccessLevel.OPEN
    """The level in force on the day the view is built: an embargo past its end is ``OPEN``."""
    embargo_until: date | None = None
    """The day the files become (or became) open, for embargoed records; kept after it lifts,
    since it stays the day the files became available."""
    data_use: DataUse | None = None
    """GA4GH DUO terms of a managed (restricted) version."""
    journal: JournalFacts | None = None
    """For an article of this node's journals: what the record's container cannot hold (both ISSNs, the
    issue's title), filled by ``services.exports.record_view``; the article formats prefer it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(FileView(*f) for f in self.files))

    @classmethod
    def from_version(
        cls,
        version: Version,
        *,
        identifier: str,
        record_url: str,
        file_url: Callable[[FileEntry], str],
        node_name: str,
        today: date,
        stored: bool = False,
    ) -> RecordView:
        """The view of a stored version on ``today``; ``file_url`` says where each file can be downloaded.
        ``stored``: the metadata is as publication stored it (validated then), so it is read back
        without validating again (``trusted``), which is what keeps OAI-PMH list pages fast."""
        return cls(
            metadata=trusted.metadata(version.metadata) if stored else Metadata.model_validate(version.metadata),
            identifier=identifier,
            record_url=record_url,
            version_number=version.number,
            published_at=version.published_at,
            files=tuple(FileView(f.key, f.size, f.sha256, f.mimetype, file_url(f)) for f in version.files),
            node_name=node_name,
            origin_node=version.origin_node,
            **access_fields(version.access, today),
            data_use=version.access.data_use if version.access.level is AccessLevel.RESTRICTED else None,
        )

    # -- values several standards derive the same way ----------------------------------------

    @property
    def policy_url(self) -> str:
        """The record's usage policy as ODRL JSON-LD (``formats.odrl``), at a stable URL beside the landing page."""
        return f"{self.identifier}/policy.jsonld"

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.metadata.doi}" if self.metadata.doi else None

    @property
    def pid_url(self) -> str:
        """What to cite and link: the DOI when there is one, else the version's landing page."""
        return self.doi_url or self.identifier

    @property
    def cite_url(self) -> str:
        """What a citation points at: the DOI, else for a harvested copy the original record (its
        address at the origin, else the origin itself), else this version's landing page."""
        return self.doi_url or self.origin_url or self.origin_node or self.identifier

    @property
    def year(self) -> int | None:
        """Publication year: the depositor's, else the year the node published the version."""
        if self.metadata.publicationYear:
            return self.metadata.publicationYear
        return self.published_at.year if self.published_at else None

    @property
    def issued(self) -> str | None:
        """Publication date as ISO 8601: the day the node published the version when that is in
        the publication year, else the year alone (a 1973 data set republished today is from 1973)."""
        if self.published_at and self.published_at.year == self.year:
            return self.published_at.date().isoformat()
        return str(self.year) if self.year else None

    @property
    def version_label(self) -> str | None:
        """The depositor's version label ("1.0"), else the node's version number."""
        if self.metadata.version:
            return self.metadata.version
        return str(self.version_number) if self.version_number is not None else None

    @property
    def publisher_name(self) -> str:
        """The publisher, defaulting to the node, as publishing does."""
        return self.metadata.publisher.name if self.metadata.publisher else self.node_name

    @property
    def is_open(self) -> bool:
        """Whether anyone may download the files today."""
        return self.access_level is AccessLevel.OPEN

    @property
    def kind(self) -> str:
        return self.metadata.kind or "Other"

    def formats(self) -> list[str]:
        """Declared formats, then the media types of the files, without repeats."""
        return unique([*self.metadata.formats, *(f.mimetype for f in self.files if f.mimetype)])

    def sizes(self) -> list[str]:
        """Declared sizes, then the file count and total bytes."""
        derived = []
        if self.files:
            count = len(self.files)
            derived = [f"{count} file{'s' if count != 1 else ''}", f"{sum(f.size for f in self.files)} bytes"]
        return unique([*self.metadata.sizes, *derived])

    def abstract(self) -> str | None:
        """The abstract in the record's language if there is one, else the first abstract, else
        the first description."""
        descriptions = self.metadata.descriptions
        abstracts = [d for d in descriptions if d.descriptionType == "Abstract"]
        for d in abstracts:
            if d.lang and d.lang == self.metadata.language:
                return d.description
        chosen = abstracts or descriptions
        return chosen[0].description if chosen else None


def access_fields(access: Access, today: date) -> dict[str, Any]:
    """``RecordView``'s access fields for a version's stored ``access``, on ``today``."""
    return {
        "access_level": level_in_force(access, today),
        "embargo_until": access.embargo_until if access.level is AccessLevel.EMBARGOED else None,
    }


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


__all__ = ["FileView", "RecordView", "access_fields", "unique"]
