"""Descriptive metadata of a record version, aligned with DataCite 4.7 (property names as in DataCite JSON).

Validation happens in two steps, so a depositor can save an unfinished draft:
``parse_metadata`` checks every value that is present (syntax, checksums, vocabularies) and
``publication_errors`` checks that DataCite's mandatory properties are all there.
Both report every problem with its field path.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from edtf import parse_edtf
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import identifiers, vocabularies
from .errors import FieldError, InvalidInput
from .licences import normalize_spdx

_LANG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$")

NonEmpty = Annotated[str, Field(min_length=1, max_length=10_000)]
ShortText = Annotated[str, Field(min_length=1, max_length=2_000)]


def _vocabulary(value: str | None, allowed: tuple[str, ...] | list[str], what: str) -> str | None:
    if value is not None and value not in allowed:
        raise ValueError(f"'{value}' is not a DataCite {what}; expected one of: {', '.join(allowed)}")
    return value


def _language(value: str | None) -> str | None:
    if value is not None and not _LANG.match(value):
        raise ValueError(f"'{value}' is not a language tag (BCP 47, e.g. 'en', 'pt-BR')")
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class _Part(BaseModel):
    # Unknown properties are errors: a typo ('creater') must not be silently dropped.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Title(_Part):
    title: NonEmpty
    lang: str | None = None
    titleType: str | None = None

    _lang = field_validator("lang")(_language)

    @field_validator("titleType")
    @classmethod
    def _type(cls, v: str | None) -> str | None:
        return _vocabulary(v, vocabularies.TITLE_TYPES, "titleType")


class Affiliation(_Part):
    name: ShortText
    ror: str | None = None

    @field_validator("ror")
    @classmethod
    def _ror(cls, v: str | None) -> str | None:
        return identifiers.normalize_ror(v) if v else None


class NameIdentifier(_Part):
    nameIdentifier: ShortText
    nameIdentifierScheme: ShortText
    schemeUri: str | None = None

    @field_validator("schemeUri")
    @classmethod
    def _uri(cls, v: str | None) -> str | None:
        return identifiers.validate_uri(v) if v else None


class Creator(_Part):
    name: ShortText | None = None
    nameType: str | None = None
    givenName: str | None = None
    familyName: str | None = None
    orcid: str | None = None
    nameIdentifiers: list[NameIdentifier] = Field(default_factory=list)
    affiliations: list[Affiliation] = Field(default_factory=list)

    @field_validator("nameType")
    @classmethod
    def _name_type(cls, v: str | None) -> str | None:
        return _vocabulary(v, vocabularies.NAME_TYPES, "nameType")

    @field_validator("orcid")
    @classmethod
    def _orcid(cls, v: str | None) -> str | None:
        return identifiers.normalize_orcid(v) if v else None

    @model_validator(mode="after")
    def _derive_name(self) -> Creator:
        if not self.name:
            if not self.familyName:
                raise ValueError("a name (or familyName and givenName) is required")
            self.name = f"{self.familyName}, {self.givenName}" if self.givenName else self.familyName
        if self.nameType is None and (self.orcid or self.givenName or self.familyName):
            self.nameType = "Personal"
        return self


class Contributor(Creator):
    contributorType: str

    @field_validator("contributorType")
    @classmethod
    def _type(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.CONTRIBUTOR_TYPES, "contributorType") or v


class Publisher(_Part):
    name: ShortText
    ror: str | None = None
    lang: str | None = None

    _ror = field_validator("ror")(lambda v: identifiers.normalize_ror(v) if v else None)
    _lang = field_validator("lang")(_language)


class ResourceType(_Part):
    resourceTypeGeneral: str
    resourceType: str | None = None

    @field_validator("resourceTypeGeneral")
    @classmethod
    def _general(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.RESOURCE_TYPES, "resourceTypeGeneral") or v


class Subject(_Part):
    subject: ShortText
    subjectScheme: str | None = None
    schemeUri: str | None = None
    valueUri: str | None = None
    classificationCode: str | None = None
    lang: str | None = None

    _lang = field_validator("lang")(_language)

    @field_validator("schemeUri", "valueUri", "classificationCode")
    @classmethod
    def _uri(cls, v: str | None) -> str | None:
        return identifiers.validate_uri(v) if v else None


# Plain ISO 8601 dates and date-times: nearly every date in practice. The edtf parser (a pyparsing grammar)
# takes tens of milliseconds per call, which made harvesting and indexing crawl; these are checked with the
# standard library instead, and only the rest (EDTF levels 1-2, RKMS ranges) goes to the full parser.
_PLAIN_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?")


def _plain_iso(value: str) -> bool:
    if not _PLAIN_DATE.fullmatch(value):
        return False
    try:
        if len(value) <= 7:
            datetime.strptime(value, "%Y-%m" if len(value) == 7 else "%Y")
        else:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def is_edtf_date(value: str) -> bool:
    """ISO 8601 / EDTF level 0-2 (dates, date-times and the RKMS-ISO8601 ranges DataCite uses)."""
    if _plain_iso(value):
        return True
    try:
        parse_edtf(value)
    except Exception:  # the edtf parser raises its own exception types
        return False
    return True


class Date(_Part):
    date: ShortText
    dateType: str
    dateInformation: str | None = None

    @field_validator("date")
    @classmethod
    def _date(cls, v: str) -> str:
        if not is_edtf_date(v):
            raise ValueError(f"'{v}' is not an ISO 8601 / EDTF date or range")
        return v

    @field_validator("dateType")
    @classmethod
    def _type(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.DATE_TYPES, "dateType") or v


class AlternateIdentifier(_Part):
    alternateIdentifier: ShortText
    alternateIdentifierType: ShortText


class RelatedIdentifier(_Part):
    relatedIdentifier: ShortText
    relatedIdentifierType: str
    relationType: str
    resourceTypeGeneral: str | None = None

    @field_validator("relatedIdentifierType")
    @classmethod
    def _kind(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.RELATED_IDENTIFIER_TYPES, "relatedIdentifierType") or v

    @field_validator("relationType")
    @classmethod
    def _relation(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.RELATION_TYPES, "relationType") or v

    @field_validator("resourceTypeGeneral")
    @classmethod
    def _general(cls, v: str | None) -> str | None:
        return _vocabulary(v, vocabularies.RESOURCE_TYPES, "resourceTypeGeneral")

    @model_validator(mode="after")
    def _check_identifier(self) -> RelatedIdentifier:
        try:
            self.relatedIdentifier = identifiers.normalize_identifier(
                self.relatedIdentifierType, self.relatedIdentifier
            )
        except ValueError as exc:
            raise ValueError(f"relatedIdentifier: {exc}") from exc
        return self


class RelatedItemIdentifier(_Part):
    relatedItemIdentifier: ShortText
    relatedItemIdentifierType: str

    @field_validator("relatedItemIdentifierType")
    @classmethod
    def _kind(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.RELATED_IDENTIFIER_TYPES, "relatedItemIdentifierType") or v

    @model_validator(mode="after")
    def _check_identifier(self) -> RelatedItemIdentifier:
        try:
            self.relatedItemIdentifier = identifiers.normalize_identifier(
                self.relatedItemIdentifierType, self.relatedItemIdentifier
            )
        except ValueError as exc:
            raise ValueError(f"relatedItemIdentifier: {exc}") from exc
        return self


class RelatedItem(_Part):
    """DataCite 4.4+ ``relatedItem``: a work described in place, e.g. the journal issue an article is published in
    (relationType ``IsPublishedIn``, relatedItemType ``Journal``, with volume, issue and pages)."""

    relatedItemType: str
    relationType: str
    relatedItemIdentifier: RelatedItemIdentifier | None = None
    titles: list[Title] = Field(default_factory=list)
    publicationYear: int | None = Field(default=None, ge=1000, le=9999)
    volume: ShortText | None = None
    issue: ShortText | None = None
    number: ShortText | None = None
    numberType: Literal["Article", "Chapter", "Report", "Other"] | None = None
    firstPage: ShortText | None = None
    lastPage: ShortText | None = None
    publisher: ShortText | None = None
    edition: ShortText | None = None

    @field_validator("relatedItemType")
    @classmethod
    def _general(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.RESOURCE_TYPES, "relatedItemType") or v

    @field_validator("relationType")
    @classmethod
    def _relation(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.RELATION_TYPES, "relationType") or v


class Rights(_Part):
    rights: str | None = None
    rightsUri: str | None = None
    rightsIdentifier: str | None = None
    rightsIdentifierScheme: str | None = None
    lang: str | None = None

    @field_validator("rightsUri")
    @classmethod
    def _uri(cls, v: str | None) -> str | None:
        return identifiers.validate_url(v) if v else None

    @model_validator(mode="after")
    def _spdx(self) -> Rights:
        if self.rightsIdentifier:
            scheme = self.rightsIdentifierScheme or "SPDX"
            if scheme == "SPDX":
                try:
                    self.rightsIdentifier = normalize_spdx(self.rightsIdentifier)
                except ValueError as exc:
                    raise ValueError(f"rightsIdentifier: {exc}") from exc
            self.rightsIdentifierScheme = scheme
        elif not (self.rights or self.rightsUri):
            raise ValueError("give a rightsIdentifier (SPDX expression), rights or rightsUri")
        return self


class Description(_Part):
    description: Annotated[str, Field(min_length=1, max_length=100_000)]
    descriptionType: str = "Abstract"
    lang: str | None = None

    _lang = field_validator("lang")(_language)

    @field_validator("descriptionType")
    @classmethod
    def _type(cls, v: str) -> str:
        return _vocabulary(v, vocabularies.DESCRIPTION_TYPES, "descriptionType") or v


class GeoPoint(_Part):
    pointLatitude: float = Field(ge=-90, le=90)
    pointLongitude: float = Field(ge=-180, le=180)


class GeoBox(_Part):
    westBoundLongitude: float = Field(ge=-180, le=180)
    eastBoundLongitude: float = Field(ge=-180, le=180)
    southBoundLatitude: float = Field(ge=-90, le=90)
    northBoundLatitude: float = Field(ge=-90, le=90)

    @model_validator(mode="after")
    def _order(self) -> GeoBox:
        if self.southBoundLatitude > self.northBoundLatitude:
            raise ValueError("southBoundLatitude is north of northBoundLatitude")
        return self


class GeoLocation(_Part):
    geoLocationPlace: str | None = None
    geoLocationPoint: GeoPoint | None = None
    geoLocationBox: GeoBox | None = None

    @model_validator(mode="after")
    def _something(self) -> GeoLocation:
        if not (self.geoLocationPlace or self.geoLocationPoint or self.geoLocationBox):
            raise ValueError("a geoLocation needs a place, a point or a box")
        return self


class FundingReference(_Part):
    funderName: ShortText
    funderIdentifier: str | None = None
    funderIdentifierType: str | None = None
    awardNumber: str | None = None
    awardUri: str | None = None
    awardTitle: str | None = None

    @field_validator("funderIdentifierType")
    @classmethod
    def _type(cls, v: str | None) -> str | None:
        return _vocabulary(v, vocabularies.FUNDER_IDENTIFIER_TYPES, "funderIdentifierType")

    @field_validator("awardUri")
    @classmethod
    def _uri(cls, v: str | None) -> str | None:
        return identifiers.validate_url(v) if v else None

    @model_validator(mode="after")
    def _ror(self) -> FundingReference:
        if self.funderIdentifier and self.funderIdentifierType == "ROR":
            try:
                self.funderIdentifier = identifiers.normalize_ror(self.funderIdentifier)
            except ValueError as exc:
                raise ValueError(f"funderIdentifier: {exc}") from exc
        return self


class Metadata(_Part):
    """All DataCite 4.7 mandatory and recommended properties, plus the optional ones users ask for."""

    doi: str | None = None
    titles: list[Title] = Field(default_factory=list)
    creators: list[Creator] = Field(default_factory=list)
    contributors: list[Contributor] = Field(default_factory=list)
    publisher: Publisher | None = None
    publicationYear: int | None = Field(default=None, ge=1000, le=9999)
    resourceType: ResourceType | None = None
    subjects: list[Subject] = Field(default_factory=list)
    dates: list[Date] = Field(default_factory=list)
    language: str | None = None
    alternateIdentifiers: list[AlternateIdentifier] = Field(default_factory=list)
    relatedIdentifiers: list[RelatedIdentifier] = Field(default_factory=list)
    relatedItems: list[RelatedItem] = Field(default_factory=list)
    sizes: list[ShortText] = Field(default_factory=list)
    formats: list[ShortText] = Field(default_factory=list)
    version: str | None = None
    rightsList: list[Rights] = Field(default_factory=list)
    descriptions: list[Description] = Field(default_factory=list)
    geoLocations: list[GeoLocation] = Field(default_factory=list)
    fundingReferences: list[FundingReference] = Field(default_factory=list)

    _lang = field_validator("language")(_language)

    @field_validator("doi")
    @classmethod
    def _doi(cls, v: str | None) -> str | None:
        return identifiers.normalize_doi(v) if v else None

    @field_validator("publisher", mode="before")
    @classmethod
    def _publisher(cls, v: Any) -> Any:
        # A plain string is the common case; DataCite 4.5+ gives the publisher an object form.
        return {"name": v} if isinstance(v, str) else v

    @field_validator("resourceType", mode="before")
    @classmethod
    def _resource_type(cls, v: Any) -> Any:
        return {"resourceTypeGeneral": v} if isinstance(v, str) else v

    # -- convenience views used by services and formats --------------------------------------
    @property
    def kind(self) -> str | None:
        return self.resourceType.resourceTypeGeneral if self.resourceType else None

    def main_title(self) -> str:
        for title in self.titles:
            if title.titleType is None:
                return title.title
        return self.titles[0].title if self.titles else "(untitled)"

    def container(self) -> RelatedItem | None:
        """The journal (or book, series) this work is published in, if it says."""
        for item in self.relatedItems:
            if item.relationType == "IsPublishedIn":
                return item
        return None

    def licences(self) -> list[str]:
        return [r.rightsIdentifier for r in self.rightsList if r.rightsIdentifier]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def _message(error: dict[str, Any]) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


_NAMED = re.compile(r"^(\w+): (.*)$", re.S)


def _field_error(error: Any) -> FieldError:
    path, message = _path(error["loc"]), _message(error)
    # Checks that span a whole part report as "field: problem"; move the field into the path.
    named = _NAMED.match(message)
    if named:
        path, message = f"{path}.{named.group(1)}", named.group(2)
    return FieldError(path, message)


def parse_metadata(data: Any) -> Metadata:
    """Parse and check every present value; raise ``InvalidInput`` listing all problems with paths."""
    if not isinstance(data, dict):
        raise InvalidInput("metadata must be a JSON object", [FieldError("(root)", "expected an object")])
    try:
        return Metadata.model_validate(data)
    except ValidationError as exc:
        errors = [_field_error(e) for e in exc.errors()]
        raise InvalidInput(f"metadata has {len(errors)} error(s)", errors) from None


REQUIRED_FOR_PUBLICATION: tuple[tuple[str, str], ...] = (
    ("titles", "at least one title is required"),
    ("creators", "at least one creator is required"),
    ("publisher", "a publisher is required"),
    ("publicationYear", "a publication year is required"),
    ("resourceType", "a resourceType with resourceTypeGeneral is required"),
)


def publication_errors(metadata: Metadata) -> list[FieldError]:
    """DataCite's mandatory properties that are still missing."""
    return [FieldError(name, msg) for name, msg in REQUIRED_FOR_PUBLICATION if not getattr(metadata, name)]


Level = Literal["open", "embargoed", "restricted", "metadata-only"]
