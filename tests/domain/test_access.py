"""Who may see a version and who may get its files: every level x state x viewer.

The expected outcomes are written out as a table rather than recomputed, so the test states the
policy instead of mirroring the code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osnode.domain.access import (
    ANONYMOUS,
    Viewer,
    access_change_refusal,
    can_see,
    copy_refusal,
    files_refusal,
    opens_up,
    publish_refusal,
)
from osnode.domain.records import Access, AccessLevel, FileEntry, Role, State, Version

OWNER_ID = 7
TODAY = date(2025, 6, 15)

VIEWERS = {
    "anonymous": ANONYMOUS,
    "owner": Viewer(OWNER_ID, Role.DEPOSITOR),
    "other": Viewer(OWNER_ID + 1, Role.DEPOSITOR),
    "reader": Viewer(OWNER_ID + 4, Role.READER),  # signed in, may not deposit: reads what anyone may
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


def version(state: State, access: Access, owner_id: int = OWNER_ID, files: list[FileEntry] | None = None) -> Version:
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
        files=files or [],
    )


# Who gets the files of a published version, per access.
PUBLISHED_FILES = {
    "open": {"anonymous", "owner", "other", "reader", "curator", "admin"},
    "embargo-future": {"owner", "admin"},
    "embargo-today": {"anonymous", "owner", "other", "reader", "curator", "admin"},  # lifts on its date
    "embargo-past": {"anonymous", "owner", "other", "reader", "curator", "admin"},
    "embargo-undated": {"owner", "admin"},
    "restricted": {"owner", "admin"},
    "metadata-only": {"owner", "admin"},
}
# Draft files: the owner and admins; curators (who review deposits) only where the draft's access
# would let them read the files once published, for a new version carries a record's files over.
DRAFT_FILES = {
    "open": {"owner", "curator", "admin"},
    "embargo-future": {"owner", "admin"},
    "embargo-today": {"owner", "curator", "admin"},
    "embargo-past": {"owner", "curator", "admin"},
    "embargo-undated": {"owner", "admin"},
    "restricted": {"owner", "admin"},
    "metadata-only": {"owner", "admin"},
}
# Withdrawn: nobody, not even the owner or an admin.
WITHDRAWN_FILES: set[str] = set()

EXPECTED_FILES = {
    State.PUBLISHED: PUBLISHED_FILES,
    State.DRAFT: DRAFT_FILES,
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


# -- moving files to new readers: new versions, access changes, publication ------------------------

FILE = FileEntry("cohort.csv", "a" * 64, 10, "text/csv", datetime(2025, 1, 1, tzinfo=UTC))

# old -> the accesses that open the files to someone ``old`` keeps them from (on TODAY).
OPENS_UP = {
    "open": set(),
    "embargo-future": {"open", "embargo-today", "embargo-past"},
    "embargo-today": set(),  # already lifted: nobody is kept out any more
    "embargo-past": set(),
    "embargo-undated": {"open", "embargo-future", "embargo-today", "embargo-past"},
    "restricted": {"open", "embargo-future", "embargo-today", "embargo-past"},
    "metadata-only": {"open", "embargo-future", "embargo-today", "embargo-past"},
}


@pytest.mark.parametrize("old", list(ACCESSES))
@pytest.mark.parametrize("new", list(ACCESSES))
def test_opens_up(old: str, new: str) -> None:
    assert opens_up(ACCESSES[old], ACCESSES[new], TODAY) is (new in OPENS_UP[old])


def test_an_earlier_embargo_end_opens_up_a_later_one_does_not() -> None:
    soon = Access(AccessLevel.EMBARGOED, TODAY + timedelta(days=2))
    late = Access(AccessLevel.EMBARGOED, TODAY + timedelta(days=30))
    assert opens_up(late, soon, TODAY) is True
    assert opens_up(soon, late, TODAY) is False
    assert opens_up(soon, soon, TODAY) is False


@pytest.mark.parametrize("access", list(ACCESSES))
@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_only_readers_of_the_files_start_a_new_version(access: str, viewer: str) -> None:
    base = version(State.PUBLISHED, ACCESSES[access], files=[FILE])
    refusal = copy_refusal(base, VIEWERS[viewer], TODAY)
    assert (refusal is None) is (viewer in PUBLISHED_FILES[access])
    # Nothing to carry over, nothing to refuse.
    assert copy_refusal(version(State.PUBLISHED, ACCESSES[access]), VIEWERS[viewer], TODAY) is None


@pytest.mark.parametrize("access", list(ACCESSES))
def test_only_readers_of_a_drafts_files_open_them(access: str) -> None:
    draft = version(State.DRAFT, ACCESSES[access], files=[FILE])
    opening = ACCESSES["open"]
    for name, viewer in VIEWERS.items():
        if name in ("anonymous", "other", "reader"):
            continue  # they may not edit the draft at all (decided before this rule)
        refusal = access_change_refusal(draft, opening, viewer, TODAY)
        assert (refusal is None) is (name in DRAFT_FILES[access]), name
        # Closing is never refused on these grounds.
        assert access_change_refusal(draft, ACCESSES["restricted"], viewer, TODAY) is None


def test_publishing_checks_the_files_against_the_previous_version() -> None:
    curator, owner = VIEWERS["curator"], VIEWERS["owner"]
    previous = version(State.PUBLISHED, ACCESSES["restricted"], files=[FILE])
    opened = version(State.DRAFT, ACCESSES["open"], files=[FILE])
    refusal = publish_refusal(opened, previous, curator, TODAY)
    assert refusal is not None and "restricted" in refusal
    assert publish_refusal(opened, previous, owner, TODAY) is None
    assert publish_refusal(opened, previous, VIEWERS["admin"], TODAY) is None
    # As it stands (restricted), a curator may publish it: nobody new reads anything.
    assert publish_refusal(version(State.DRAFT, ACCESSES["restricted"], files=[FILE]), previous, curator, TODAY) is None
    # New files only (none carried over), or no previous version: nothing of the past opens.
    other_file = FileEntry("new.csv", "b" * 64, 1, "text/csv", FILE.created)
    assert publish_refusal(version(State.DRAFT, ACCESSES["open"], files=[other_file]), previous, curator, TODAY) is None
    assert publish_refusal(opened, None, curator, TODAY) is None
