"""The deposit form's service: flat fields <-> metadata, rows, saving raw input beside the draft."""

from __future__ import annotations

import pytest

from osnode.domain.errors import Forbidden, InvalidInput, NotFound
from osnode.services import deposit, deposit_form
from osnode.services.node import Node
from tests.conftest import Account

ORCID = "0000-0002-1825-0097"


def test_compact_drops_empty_rows_so_error_paths_name_form_fields() -> None:
    fields = {"creators.0.name": "", "creators.3.name": "Lee, Min", "creators.3.orcid": "x", "titles.0.title": "T"}
    assert deposit_form.compact(fields) == {
        "creators.0.name": "Lee, Min",
        "creators.0.orcid": "x",
        "titles.0.title": "T",
    }


def test_rows_move_up_and_are_removed() -> None:
    fields = {"creators.0.name": "A", "creators.1.name": "B", "creators.2.name": "C"}
    assert deposit_form.apply_action(fields, "up:creators.2", [])["creators.1.name"] == "C"
    removed = deposit_form.apply_action(fields, "remove:creators.0", [])
    assert removed == {"creators.0.name": "B", "creators.1.name": "C"}
    assert deposit_form.apply_action(fields, "add:nonsense", []) == fields
    assert deposit_form.apply_action(fields, "remove:creators.99", []) == fields


def test_hostile_field_names_are_ignored() -> None:
    raw = {"__class__": "x", "titles.0.title": "T", "a" * 300: "x", "titles.0.title.x.y.z.w": "x", "csrf": "c"}
    assert deposit_form.clean(raw) == {"titles.0.title": "T"}


def test_invalid_input_is_kept_valid_input_becomes_metadata(node: Node, depositor: Account) -> None:
    draft = deposit_form.start(node, depositor.viewer)
    saved = deposit_form.save(node, draft.id, depositor.viewer, {"titles.0.title": "T", "creators.0.orcid": "bad"})
    assert [e.path for e in saved.errors] == ["creators.0.orcid"] or saved.errors[0].path.startswith("creators.0")
    _, fields = deposit_form.load(node, draft.id, depositor.viewer)
    assert fields["creators.0.orcid"] == "bad"
    good = deposit_form.save(node, draft.id, depositor.viewer, {"titles.0.title": "T", "creators.0.orcid": ORCID,
                                                                "creators.0.name": "Lee, Min"})  # fmt: skip
    assert not good.errors and good.version.metadata["creators"][0]["orcid"] == ORCID


def test_another_depositor_can_neither_load_nor_save(node: Node, depositor: Account, other_depositor: Account) -> None:
    draft = deposit_form.start(node, depositor.viewer)
    with pytest.raises(NotFound):
        deposit_form.load(node, draft.id, other_depositor.viewer)
    with pytest.raises((Forbidden, NotFound)):
        deposit_form.save(node, draft.id, other_depositor.viewer, {"titles.0.title": "mine now"})
    assert deposit.form_fields(node, draft.id) is None


def test_the_workspace_lists_my_drafts_only(node: Node, depositor: Account, other_depositor: Account) -> None:
    mine = deposit_form.start(node, depositor.viewer)
    deposit_form.start(node, other_depositor.viewer)
    drafts, published = deposit_form.workspace(node, depositor.viewer)
    assert [d.id for d in drafts] == [mine.id] and published == []


def test_a_co_owner_edits_the_draft_publishes_and_starts_a_new_version(
    node: Node, depositor: Account, other_depositor: Account
) -> None:
    from tests.web.accounts_helpers import local_account

    bea = local_account(node, "bea@example.org")
    from osnode.services import co_owners, users

    bea_viewer = users.viewer_for(users.User(bea.id, bea.name, bea.role))
    draft = deposit_form.start(node, depositor.viewer)
    with pytest.raises(NotFound):
        deposit_form.load(node, draft.id, bea_viewer)
    with pytest.raises(Forbidden):  # only the owner shares a record
        co_owners.invite(node, other_depositor.viewer, draft.record_id, "bea@example.org")
    with pytest.raises(InvalidInput):
        co_owners.invite(node, depositor.viewer, draft.record_id, "not an address")
    first = co_owners.invite(node, depositor.viewer, draft.record_id, "bea@example.org")
    second = co_owners.invite(node, depositor.viewer, draft.record_id, "bea@example.org")
    assert co_owners.accept(node, bea_viewer, first.token) == draft.record_id
    assert co_owners.accept(node, bea_viewer, second.token) == draft.record_id  # twice is harmless
    with pytest.raises(InvalidInput):  # once only
        co_owners.accept(node, bea_viewer, first.token)
    fields = {"titles.0.title": "T", "creators.0.name": "Lee, Min", "resourceType.resourceTypeGeneral": "Dataset",
              "publicationYear": "2026", "access.level": "metadata-only"}  # fmt: skip
    saved = deposit_form.publish(node, draft.id, bea_viewer, fields)
    assert not saved.errors and saved.version.state.value == "published"
    assert [d.id for d in deposit_form.workspace(node, bea_viewer)[1]] == [draft.id]
    following = deposit.new_version(node, draft.record_id, bea_viewer)
    assert following.owner_id == depositor.user.id  # the record stays its owner's
    with pytest.raises((Forbidden, NotFound)):
        deposit_form.save(node, following.id, other_depositor.viewer, {"titles.0.title": "x"})
