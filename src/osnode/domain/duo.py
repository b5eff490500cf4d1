"""GA4GH Data Use Ontology (DUO): the terms a version's data may be used under, and the pre-check of an
access request's purpose against them. Pure: the official term list ships in ``data/duo.csv`` (CC BY 4.0,
see ``data/README.md``) and is read once from the package.

A version carries one permission (what research the data may serve) and any modifiers (conditions on who
and how). Some modifiers take a parameter: GS the countries, TS the months, MOR the date, IS the
institutions (ROR ids), PS the project; DS names its disease. The consent basis and the data's jurisdiction
(ISO 3166-1 alpha-2) travel with them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale

from .errors import FieldError, InvalidInput

PURL = "http://purl.obolibrary.org/obo/"
SCHEME = "Data Use Ontology"
SCHEME_URI = "http://purl.obolibrary.org/obo/duo.owl"

# The permissions (DUO:0000001's children); every other shorthand is a modifier (DUO:0000017's children).
PERMISSIONS = ("NRES", "GRU", "HMB", "DS", "POA")
# Purposes a requester may state, coded as the permission they fall under (general research is GRU).
PURPOSES = ("GRU", "HMB", "DS", "POA")
# Modifiers whose conditions the node checks against the request; the rest the requester accepts as written.
CHECKED = ("NPU", "NCU", "NPUNCU", "GS", "IRB", "IS", "PS", "NPOA", "NMDS", "COL")
MAX_TEXT = 500
_ROR = re.compile(r"^(?:https://ror\.org/)?(0[a-hj-km-np-tv-z0-9]{6}[0-9]{2})$")


@dataclass(frozen=True)
class Term:
    id: str  # DUO:0000042
    shorthand: str
    label: str
    description: str

    @property
    def purl(self) -> str:
        return PURL + self.id.replace(":", "_")


@cache
def terms() -> dict[str, Term]:
    """The official terms by shorthand (the two abstract roots, which have none, are left out)."""
    text = resources.files(__package__).joinpath("data/duo.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    return {r["shorthand"]: Term(r["id"], r["shorthand"], r["label"], r["description"]) for r in rows if r["shorthand"]}


def modifiers() -> tuple[str, ...]:
    return tuple(sorted(s for s in terms() if s not in PERMISSIONS))


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (as CLDR lists them)."""
    # CLDR also names groupings and the unknown region, which are no country.
    groupings = {"ZZ", "QO", "EU", "EZ", "UN"}
    return frozenset(c for c in Locale("en").territories if len(c) == 2 and c.isalpha() and c not in groupings)


def country_name(code: str, language: str = "en") -> str:
    try:
        return Locale.parse(language.replace("-", "_")).territories.get(code, code)
    except (ValueError, TypeError):
        return code


@dataclass(frozen=True)
class DataUse:
    """The terms a version's data may be used under."""

    permission: str
    modifiers: tuple[str, ...] = ()
    disease: str | None = None  # DS: a MONDO/DOID id or the disease's name
    countries: tuple[str, ...] = ()  # GS
    months: int | None = None  # TS
    moratorium_until: date | None = None  # MOR
    institutions: tuple[str, ...] = ()  # IS: ROR ids
    project: str | None = None  # PS
    consent_basis: str | None = None
    jurisdiction: str | None = None  # ISO 3166-1 alpha-2

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"permission": self.permission, "modifiers": list(self.modifiers)}
        optional = {
            "disease": self.disease,
            "countries": list(self.countries) or None,
            "months": self.months,
            "moratorium_until": self.moratorium_until.isoformat() if self.moratorium_until else None,
            "institutions": list(self.institutions) or None,
            "project": self.project,
            "consent_basis": self.consent_basis,
            "jurisdiction": self.jurisdiction,
        }
        return out | {k: v for k, v in optional.items() if v is not None}

    def codes(self) -> tuple[str, ...]:
        return (self.permission, *self.modifiers)

    def term_list(self) -> list[Term]:
        known = terms()
        return [known[c] for c in self.codes() if c in known]


def _text(value: Any, path: str, errors: list[FieldError]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_TEXT:
        errors.append(FieldError(path, f"expected text of at most {MAX_TEXT} characters"))
        return None
    return value.strip() or None


def _country(value: Any, path: str, errors: list[FieldError]) -> str | None:
    code = str(value).strip().upper() if isinstance(value, str) else ""
    if code not in countries():
        errors.append(FieldError(path, f"'{value}' is not an ISO 3166-1 alpha-2 country code"))
        return None
    return code


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def ror_id(value: str) -> str | None:
    """The ROR id (``https://ror.org/0abcdef12``) ``value`` names, or ``None``."""
    found = _ROR.match(value.strip().lower())
    return f"https://ror.org/{found.group(1)}" if found else None


def parse_data_use(data: Any, prefix: str = "access.data_use") -> DataUse:
    """Data-use terms from JSON, every problem reported at once under ``prefix``."""
    if not isinstance(data, dict):
        raise InvalidInput("data-use terms must be an object", [FieldError(prefix, "expected an object")])
    errors: list[FieldError] = []
    allowed = {
        "permission",
        "modifiers",
        "disease",
        "countries",
        "months",
        "moratorium_until",
        "institutions",
        "project",
        "consent_basis",
        "jurisdiction",
    }
    errors += [FieldError(f"{prefix}.{k}", "unknown property") for k in sorted(set(data) - allowed)]
    permission = str(data.get("permission") or "").strip().upper()
    if permission not in PERMISSIONS:
        errors.append(
            FieldError(f"{prefix}.permission", f"expected one of the DUO permissions: {', '.join(PERMISSIONS)}")
        )
    mods: list[str] = []
    for i, raw in enumerate(_list(data.get("modifiers"))):
        code = str(raw).strip().upper()
        if code not in modifiers():
            errors.append(FieldError(f"{prefix}.modifiers.{i}", f"'{raw}' is not a DUO data use modifier"))
        elif code not in mods:
            mods.append(code)
    disease = _text(data.get("disease"), f"{prefix}.disease", errors)
    if permission == "DS" and not disease:
        errors.append(FieldError(f"{prefix}.disease", "disease-specific research (DS) names its disease"))
    gs = [_country(c, f"{prefix}.countries.{i}", errors) for i, c in enumerate(_list(data.get("countries")))]
    if "GS" in mods and not gs:
        errors.append(FieldError(f"{prefix}.countries", "a geographical restriction (GS) lists its countries"))
    months = None
    if data.get("months") not in (None, ""):
        try:
            months = int(data["months"])
            if not 1 <= months <= 1200:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError(f"{prefix}.months", "expected a whole number of months from 1 to 1200"))
    if "TS" in mods and months is None and not any(e.path == f"{prefix}.months" for e in errors):
        errors.append(FieldError(f"{prefix}.months", "a time limit (TS) gives its months"))
    moratorium = None
    if data.get("moratorium_until") not in (None, ""):
        try:
            moratorium = date.fromisoformat(str(data["moratorium_until"]))
        except ValueError:
            errors.append(FieldError(f"{prefix}.moratorium_until", "expected a date, YYYY-MM-DD"))
    if "MOR" in mods and moratorium is None and not any(e.path == f"{prefix}.moratorium_until" for e in errors):
        errors.append(FieldError(f"{prefix}.moratorium_until", "a publication moratorium (MOR) gives its end date"))
    institutions: list[str] = []
    for i, raw in enumerate(_list(data.get("institutions"))):
        ror = ror_id(str(raw))
        if ror is None:
            errors.append(FieldError(f"{prefix}.institutions.{i}", f"'{raw}' is not a ROR id"))
        else:
            institutions.append(ror)
    if "IS" in mods and not institutions:
        errors.append(FieldError(f"{prefix}.institutions", "an institution restriction (IS) lists ROR ids"))
    project = _text(data.get("project"), f"{prefix}.project", errors)
    consent = _text(data.get("consent_basis"), f"{prefix}.consent_basis", errors)
    jurisdiction = None
    if data.get("jurisdiction") not in (None, ""):
        jurisdiction = _country(data["jurisdiction"], f"{prefix}.jurisdiction", errors)
    if errors:
        raise InvalidInput("invalid data-use terms", errors)
    return DataUse(
        permission=permission,
        modifiers=tuple(mods),
        disease=disease if permission == "DS" else None,
        countries=tuple(c for c in gs if c),
        months=months,
        moratorium_until=moratorium,
        institutions=tuple(institutions),
        project=project,
        consent_basis=consent,
        jurisdiction=jurisdiction,
    )


def data_use_of(stored: Any) -> DataUse | None:
    """The terms as the catalog stores them (``as_dict``), or ``None``."""
    return parse_data_use(stored) if stored else None


# -- the pre-check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purpose:
    """What a requester says they will do with the data, and who they are."""

    code: str  # one of PURPOSES
    disease: str | None = None
    methods: bool = False  # develops methods or software (NMDS forbids it)
    commercial: bool = False
    not_for_profit: bool = False
    country: str | None = None
    institution_ror: str | None = None
    project: str | None = None
    has_ethics: bool = False
    collaborates: bool = False


@dataclass(frozen=True)
class Mismatch:
    code: str  # the DUO shorthand whose condition the request does not meet
    message: str


@dataclass(frozen=True)
class Precheck:
    mismatches: tuple[Mismatch, ...] = ()
    conditions: tuple[Term, ...] = field(default=())  # modifiers the requester accepts as written

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.strip().casefold() == b.strip().casefold()  # type: ignore[union-attr]


def precheck(use: DataUse, purpose: Purpose) -> Precheck:
    """Each condition of ``use`` the request does not meet (shown to the committee, which decides)."""
    out: list[Mismatch] = []
    p = use.permission
    if p == "HMB" and purpose.code not in ("HMB", "DS"):
        out.append(Mismatch("HMB", "the data may serve health, medical or biomedical research only"))
    elif p == "DS" and not (purpose.code == "DS" and _same(purpose.disease, use.disease)):
        out.append(Mismatch("DS", f"the data may serve research on {use.disease} only"))
    elif p == "POA" and purpose.code != "POA":
        out.append(Mismatch("POA", "the data may serve population origins or ancestry research only"))
    mods = set(use.modifiers)
    if "NPOA" in mods and purpose.code == "POA":
        out.append(Mismatch("NPOA", "population origins or ancestry research is prohibited"))
    if mods & {"NPU", "NPUNCU"} and not purpose.not_for_profit:
        out.append(Mismatch("NPU", "use is limited to not-for-profit organisations"))
    if mods & {"NCU", "NPUNCU"} and purpose.commercial:
        out.append(Mismatch("NCU", "use is limited to non-commercial purposes"))
    if "NMDS" in mods and purpose.methods:
        out.append(Mismatch("NMDS", "methods development is not allowed"))
    if "GS" in mods and purpose.country not in use.countries:
        out.append(Mismatch("GS", f"use is limited to these countries: {', '.join(use.countries)}"))
    if "IRB" in mods and not purpose.has_ethics:
        out.append(Mismatch("IRB", "an ethics approval document is required"))
    if "IS" in mods and purpose.institution_ror not in use.institutions:
        out.append(Mismatch("IS", "use is limited to the listed institutions"))
    if "PS" in mods and not (purpose.project and (not use.project or _same(purpose.project, use.project))):
        out.append(Mismatch("PS", f"use is limited to the project {use.project or 'the committee approves'}"))
    if "COL" in mods and not purpose.collaborates:
        out.append(Mismatch("COL", "collaboration with the study's investigators is required"))
    known = terms()
    accepted = tuple(known[m] for m in use.modifiers if m not in CHECKED and m in known)
    return Precheck(tuple(out), accepted)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")
