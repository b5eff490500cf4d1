"""Who may see a version and who may get its files: every level x state x viewer.

The expected outcomes are written out as a table rather than recomputed, so the test states the
policy instead of mirroring the code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osnode.domain.access import ANONYMOUS, Viewer, can_see, files_refusal
from osnode.domain.records import Access, AccessLevel, Role, State, Version

OWNER_ID = 7
TODAY = date(2025, 6, 15)

VIEWERS = {
    "anonymous": ANONYMOUS,
    "owner": Viewer(OWNER_ID, Role.DEPOSITOR),
    "other": Viewer(OWNER_ID + 1, Role.DEPOSITOR),
    "curator": Viewer(OWNER_ID + 2, Role.CURATOR),
    "admin": Viewer(OWNER_ID + 3, Role.ADMIN),
}

ACCESSES = {
    "open": Access(AccessLevel.OPEN),
    "embargo-future": Access(AccessLevel.EMBARGOED, TODAY + timedelta(days=1)),
    "embargo-today": Access(AccessLevel.EMBARGOED, TODAY),
    "embargo-past": Access(AccessLevel.EMBARGOED, TODAY - timedelta(days=365)),
    "embargo-undated": Access(AccessLevel.EMBARGOED, None),
    "restricted": Access(AccessLevel.RESTRICTED),
    "metadata-only": Access(AccessLevel.METADATA_ONLY),
}


def version(state: State, access: Access, owner_id: int = OWNER_ID) -> Version:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return Version(
        id="abcde-fghjk",
        record_id="mnpqr-stvwx",
        number=1,
        state=state,
        metadata={},
        access=access,
        owner_id=owner_id,
        created=now,
        updated=now,
    )


# Who gets the files of a published version, per access.
PUBLISHED_FILES = {
    "open": {"anonymous", "owner", "other", "curator", "admin"},
    "embargo-future": {"owner", "admin"},
    "embargo-today": {"anonymous", "owner", "other", "curator", "admin"},  # lifts on its date
    "embargo-past": {"anonymous", "owner", "other", "curator", "admin"},
    "embargo-undated": {"owner", "admin"},
    "restricted": {"owner", "admin"},
    "metadata-only": {"owner", "admin"},
}
# Draft files: the owner and staff (curators review deposits), whatever the access chosen.
DRAFT_FILES = {"owner", "curator", "admin"}
# Withdrawn: nobody, not even the owner or an admin.
WITHDRAWN_FILES: set[str] = set()

EXPECTED_FILES = {
    State.PUBLISHED: PUBLISHED_FILES,
    State.DRAFT: dict.fromkeys(ACCESSES, DRAFT_FILES),
    State.WITHDRAWN: dict.fromkeys(ACCESSES, WITHDRAWN_FILES),
}
EXPECTED_SEE = {
    State.DRAFT: {"owner", "curator", "admin"},
    State.PUBLISHED: set(VIEWERS),
    State.WITHDRAWN: set(VIEWERS),  # as a tombstone
}

MATRIX = [(state, access, viewer) for state in State for access in ACCESSES for viewer in VIEWERS]


@pytest.mark.parametrize(("state", "access", "viewer"), MATRIX)
def test_files_refusal_matrix(state: State, access: str, viewer: str) -> None:
    refusal = files_refusal(version(state, ACCESSES[access]), VIEWERS[viewer], TODAY)
    allowed = viewer in EXPECTED_FILES[state][access]
    if allowed:
        assert refusal is None
    else:
        assert isinstance(refusal, str) and refusal, "a refusal says why"


@pytest.mark.parametrize(("state", "access", "viewer"), MATRIX)
def test_can_see_matrix(state: State, access: str, viewer: str) -> None:
    assert can_see(version(state, ACCESSES[access]), VIEWERS[viewer]) is (viewer in EXPECTED_SEE[state])


def test_matrix_covers_every_state_level_and_role() -> None:
    assert {a.level for a in ACCESSES.values()} == set(AccessLevel)
    assert {v.role for v in VIEWERS.values()} == set(Role) | {None}
    assert len(MATRIX) == len(State) * len(ACCESSES) * len(VIEWERS)


# -- embargo --------------------------------------------------------------------------------------


def test_embargo_lifts_on_its_date_by_itself() -> None:
    until = date(2026, 1, 1)
    embargoed = version(State.PUBLISHED, Access(AccessLevel.EMBARGOED, until))
    day_before = files_refusal(embargoed, ANONYMOUS, until - timedelta(days=1))
    assert day_before is not None and "2026-01-01" in day_before
    assert files_refusal(embargoed, ANONYMOUS, until) is None
    assert files_refusal(embargoed, ANONYMOUS, until + timedelta(days=1)) is None


@given(st.dates(), st.dates())
def test_embargo_property(until: date, today: date) -> None:
    embargoed = version(State.PUBLISHED, Access(AccessLevel.EMBARGOED, until))
    for name in ("anonymous", "other", "curator"):
        assert (files_refusal(embargoed, VIEWERS[name], today) is None) is (today >= until)
    # The owner and admins are never kept out of a published record by its embargo.
    assert files_refusal(embargoed, VIEWERS["owner"], today) is None
    assert files_refusal(embargoed, VIEWERS["admin"], today) is None


def test_undated_embargo_never_lifts() -> None:
    embargoed = version(State.PUBLISHED, Access(AccessLevel.EMBARGOED, None))
    refusal = files_refusal(embargoed, ANONYMOUS, date.max)
    assert refusal is not None and "further notice" in refusal


# -- withdrawal -----------------------------------------------------------------------------------


@given(st.sampled_from(list(ACCESSES.values())), st.sampled_from(list(VIEWERS.values())), st.dates())
def test_withdrawn_never_serves_files(access: Access, viewer: Viewer, today: date) -> None:
    refusal = files_refusal(version(State.WITHDRAWN, access), viewer, today)
    assert refusal is not None and "withdrawn" in refusal


# -- viewers --------------------------------------------------------------------------------------


def test_ownership_is_by_user_id_whatever_the_role() -> None:
    draft = version(State.DRAFT, Access(AccessLevel.RESTRICTED))
    assert Viewer(OWNER_ID, Role.CURATOR).owns(draft)
    assert Viewer(OWNER_ID, None).owns(draft)
    assert not Viewer(OWNER_ID + 1, Role.ADMIN).owns(draft)
    assert not ANONYMOUS.owns(draft)
    assert can_see(draft, Viewer(OWNER_ID, None))
    assert files_refusal(draft, Viewer(OWNER_ID, None), TODAY) is None


def test_staff_is_admins_and_curators_only() -> None:
    assert VIEWERS["admin"].is_staff and VIEWERS["curator"].is_staff
    assert not VIEWERS["owner"].is_staff and not VIEWERS["other"].is_staff and not ANONYMOUS.is_staff


def test_refusals_say_what_kind_of_refusal() -> None:
    other = VIEWERS["other"]
    restricted = files_refusal(version(State.PUBLISHED, ACCESSES["restricted"]), other, TODAY)
    metadata_only = files_refusal(version(State.PUBLISHED, ACCESSES["metadata-only"]), other, TODAY)
    draft = files_refusal(version(State.DRAFT, ACCESSES["open"]), other, TODAY)
    assert restricted is not None and "restricted" in restricted
    assert metadata_only is not None and "metadata only" in metadata_only
    assert draft is not None and "draft" in draft
