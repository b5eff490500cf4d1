"""Lifecycle rules, file names and ids."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osnode.domain.errors import Conflict
from osnode.domain.records import (
    ID_BITS,
    Access,
    AccessLevel,
    FileEntry,
    State,
    Version,
    ensure_editable,
    ensure_publishable,
    ensure_withdrawable,
    id_of,
    new_id,
    validate_file_key,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def version(state: State) -> Version:
    return Version(
        id="abcde-fghjk",
        record_id="mnpqr-stvwx",
        number=1,
        state=state,
        metadata={},
        access=Access(),
        owner_id=1,
        created=NOW,
        updated=NOW,
    )


# -- lifecycle ------------------------------------------------------------------------------------


def test_only_drafts_are_editable_and_publishable() -> None:
    ensure_editable(version(State.DRAFT))
    ensure_publishable(version(State.DRAFT))
    for state in (State.PUBLISHED, State.WITHDRAWN):
        with pytest.raises(Conflict) as caught:
            ensure_editable(version(state))
        assert caught.value.status == 409
        assert state.value in caught.value.detail and "new version" in caught.value.detail
        with pytest.raises(Conflict):
            ensure_publishable(version(state))


def test_only_published_versions_are_withdrawable() -> None:
    ensure_withdrawable(version(State.PUBLISHED))
    with pytest.raises(Conflict) as draft:
        ensure_withdrawable(version(State.DRAFT))
    assert "delete" in draft.value.detail
    with pytest.raises(Conflict) as withdrawn:
        ensure_withdrawable(version(State.WITHDRAWN))
    assert "already withdrawn" in withdrawn.value.detail


def test_rules_leave_the_version_untouched() -> None:
    published = version(State.PUBLISHED)
    with pytest.raises(Conflict):
        ensure_editable(published)
    assert published.state is State.PUBLISHED


def test_version_file_lookup_and_access_dict() -> None:
    entry = FileEntry("data.csv", "a" * 64, 3, "text/csv", NOW)
    v = version(State.DRAFT)
    v.files.append(entry)
    assert v.file("data.csv") is entry
    assert v.file("DATA.csv") is None
    assert Access().as_dict() == {"level": "open", "embargo_until": None}
    assert Access(AccessLevel.EMBARGOED, date(2030, 1, 2)).as_dict() == {
        "level": "embargoed",
        "embargo_until": "2030-01-02",
    }


# -- file keys ------------------------------------------------------------------------------------

CONTROL_CHARS = [chr(c) for c in range(32)] + [chr(127)] + [chr(c) for c in range(0x80, 0xA0)]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        ".",
        "..",
        "a/b",
        "/abs",
        "dir/",
        "a\\b",
        "C:data",
        "what?.csv",
        "star*.csv",
        '"quoted"',
        "<tag>",
        "pipe|name",
        " leading-space",
        "trailing-space ",
        "x" * 256,
        "é" * 128,  # 128 characters but 256 bytes in UTF-8
    ],
)
def test_bad_file_keys(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_file_key(bad)


@pytest.mark.parametrize("control", CONTROL_CHARS, ids=[f"U+{ord(c):04X}" for c in CONTROL_CHARS])
def test_control_characters_are_refused(control: str) -> None:
    with pytest.raises(ValueError):
        validate_file_key(f"data{control}.csv")


@pytest.mark.parametrize(
    "good",
    ["data.csv", ".hidden", "...", "a..b", "résumé.pdf", "数据.csv", "with space.txt", "x" * 255, "é" * 127 + "x"],
)
def test_good_file_keys_are_returned_unchanged(good: str) -> None:
    assert validate_file_key(good) == good


@given(st.text(min_size=1, max_size=300))
def test_any_accepted_key_is_a_single_safe_segment(key: str) -> None:
    try:
        accepted = validate_file_key(key)
    except ValueError:
        return
    assert accepted == key
    assert "/" not in key and "\\" not in key and key not in (".", "..")
    assert len(key.encode()) <= 255
    assert all(ord(c) >= 32 and not 0x7F <= ord(c) < 0xA0 for c in key)
    assert key == key.strip()


@given(st.text(alphabet=st.characters(exclude_characters="/"), min_size=1, max_size=20), st.text(max_size=20))
def test_any_key_with_a_slash_is_refused(head: str, tail: str) -> None:
    with pytest.raises(ValueError):
        validate_file_key(f"{head}/{tail}")


# -- ids ------------------------------------------------------------------------------------------

ID_FORMAT = re.compile(r"^[0-9abcdefghjkmnpqrstvwxyz]{5}-[0-9abcdefghjkmnpqrstvwxyz]{5}$")


def test_new_id_format() -> None:
    ids = [new_id() for _ in range(2000)]
    for value in ids:
        assert ID_FORMAT.match(value), value
        assert not set(value) & set("ilou"), value
    assert len(set(ids)) == len(ids)
    # Every character of the alphabet turns up: the ids use all 32 symbols (50 bits).
    assert set("".join(ids)) - {"-"} == set("0123456789abcdefghjkmnpqrstvwxyz")


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=2**ID_BITS - 2))
def test_id_of_spells_numbers_in_order(number: int) -> None:
    """Consecutive numbers give ids that sort next to each other, in the same shape as new_id's."""
    here, after = id_of(number), id_of(number + 1)
    assert here < after
    assert re.fullmatch(r"[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}", here)
    assert re.fullmatch(r"[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}", new_id())
    assert id_of(0) == "00000-00000" and id_of(2**ID_BITS - 1) == "zzzzz-zzzzz"
