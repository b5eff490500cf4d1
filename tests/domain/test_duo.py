"""The DUO vocabulary shipped with the node, the terms' parsing, and the pre-check of a request's purpose."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from osnode.domain import duo
from osnode.domain.errors import InvalidInput

SHARED = Path("/work/shared/vocabularies/duo.csv")


def test_the_packaged_list_is_the_official_one() -> None:
    packaged = resources.files("osnode.domain").joinpath("data/duo.csv").read_bytes()
    if SHARED.is_file():  # CI may have no shared folder: the copy then stands alone
        assert packaged == SHARED.read_bytes()
    terms = duo.terms()
    assert terms["GRU"].id == "DUO:0000042"
    assert terms["GRU"].purl == "http://purl.obolibrary.org/obo/DUO_0000042"
    assert set(duo.PERMISSIONS) <= set(terms)
    assert "GS" in duo.modifiers() and "HMB" not in duo.modifiers()


def test_terms_parse_and_round_trip() -> None:
    use = duo.parse_data_use(
        {
            "permission": "ds",
            "disease": "MONDO:0004992",
            "modifiers": ["GS", "NPU", "TS", "IRB"],
            "countries": "FR, de",
            "months": "12",
            "jurisdiction": "fr",
            "consent_basis": "broad consent",
        }
    )
    assert use.permission == "DS" and use.countries == ("FR", "DE") and use.months == 12
    assert use.jurisdiction == "FR"
    assert duo.parse_data_use(use.as_dict()) == use


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"permission": "XYZ"}, "access.data_use.permission"),
        ({"permission": "DS"}, "access.data_use.disease"),
        ({"permission": "GRU", "modifiers": ["GS"]}, "access.data_use.countries"),
        ({"permission": "GRU", "modifiers": ["GS"], "countries": ["ZZ"]}, "access.data_use.countries.0"),
        ({"permission": "GRU", "modifiers": ["TS"], "months": "soon"}, "access.data_use.months"),
        ({"permission": "GRU", "modifiers": ["NOPE"]}, "access.data_use.modifiers.0"),
        ({"permission": "GRU", "modifiers": ["IS"], "institutions": ["harvard"]}, "access.data_use.institutions.0"),
        ({"permission": "GRU", "jurisdiction": "Atlantis"}, "access.data_use.jurisdiction"),
        ({"permission": "GRU", "colour": "red"}, "access.data_use.colour"),
    ],
)
def test_bad_terms_are_refused_with_their_path(data: dict, path: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput) as caught:
        duo.parse_data_use(data)
    assert path in [e.path for e in caught.value.errors]


def _codes(use: duo.DataUse, purpose: duo.Purpose) -> set[str]:
    return {m.code for m in duo.precheck(use, purpose).mismatches}


def test_precheck_names_each_mismatch() -> None:
    cancer = duo.DataUse("DS", disease="cancer")
    assert _codes(cancer, duo.Purpose("HMB")) == {"DS"}
    assert _codes(cancer, duo.Purpose("DS", disease="Cancer")) == set()
    assert _codes(cancer, duo.Purpose("DS", disease="diabetes")) == {"DS"}
    hmb = duo.DataUse("HMB", modifiers=("NPU", "GS", "IRB"), countries=("FR", "DE"))
    purpose = duo.Purpose("POA", not_for_profit=False, country="US")
    assert _codes(hmb, purpose) == {"HMB", "NPU", "GS", "IRB"}
    fixed = duo.Purpose("HMB", not_for_profit=True, country="FR", has_ethics=True)
    assert duo.precheck(hmb, fixed).ok
    assert _codes(duo.DataUse("GRU", modifiers=("NCU",)), duo.Purpose("GRU", commercial=True)) == {"NCU"}
    assert _codes(duo.DataUse("NRES", modifiers=("NMDS",)), duo.Purpose("GRU", methods=True)) == {"NMDS"}
    # Conditions the node cannot check are listed for the requester to accept.
    pub = duo.precheck(duo.DataUse("GRU", modifiers=("PUB", "RTN")), duo.Purpose("GRU"))
    assert pub.ok and [t.shorthand for t in pub.conditions] == ["PUB", "RTN"]


def test_add_months_keeps_the_calendar() -> None:
    assert duo.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert duo.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_crossborder_policy() -> None:
    from osnode.domain.access import copies_may_live, crossborder_refusal
    from osnode.domain.records import Access, AccessLevel

    today = date(2026, 12, 6)
    gs = Access(AccessLevel.RESTRICTED, data_use=duo.DataUse("HMB", ("GS",), countries=("FR", "DE")))
    plain = Access(AccessLevel.RESTRICTED, data_use=duo.DataUse("GRU"))
    assert crossborder_refusal(Access(), today, "US", ()) is None
    assert "never leaves FR, DE" in str(crossborder_refusal(gs, today, "US", ("US", "DE")))
    assert crossborder_refusal(gs, today, "DE", ("DE",)) is None
    assert "declared" in str(crossborder_refusal(plain, today, None, ("DE",)))
    assert "keeps managed data" in str(crossborder_refusal(plain, today, "BR", ("DE",)))
    assert copies_may_live(gs, "FR", ("DE", "US")) == ("FR", "DE")
    assert copies_may_live(plain, "FR", ()) == ("FR",)
    assert copies_may_live(Access(), "FR", ()) is None
