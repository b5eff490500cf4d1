"""Curation: submitting a record (draft or published) to a community, the review queue, accept/decline with a
message, per-community curators (a curator of one community has no say in another) and the draft access rule."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from osnode.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from osnode.services import communities, curation, deposit, records
from osnode.services.node import Node
from osnode.storage.communities import record_communities
from tests.conftest import Account, minimal_metadata
from tests.oaipmh.conftest import publish


def _row(node: Node, record_id: str, slug: str):  # type: ignore[no-untyped-def]
    rc = record_communities
    with node.engine.connect() as conn:
        return conn.execute(select(rc).where(rc.c.record_id == record_id, rc.c.slug == slug)).first()


@pytest.fixture
def two(node: Node, curator: Account, admin: Account) -> None:
    communities.create(node, curator.viewer, "soil", "Soil")
    communities.create(node, admin.viewer, "rain", "Rain")


def test_submit_a_draft_review_it_and_accept_with_a_message(
    node: Node, two: None, curator: Account, depositor: Account, other_depositor: Account
) -> None:
    draft = deposit.create_draft(node, depositor.viewer, minimal_metadata(titles=[{"title": "Wet <b>soil</b>"}]))
    done = curation.submit(node, depositor.viewer, "soil", draft.record_id, "  please look  ")
    assert (done.status, done.message, done.state, done.depositor) == ("requested", "please look", "draft", "depositor")
    queue = curation.queue(node, curator.viewer, "soil")
    assert [(s.record_id, s.version_id) for s in queue] == [(draft.record_id, draft.id)]
    assert queue[0].metadata["titles"][0]["title"] == "Wet <b>soil</b>"
    decision = curation.decide(node, curator.viewer, "soil", draft.record_id, True, "Welcome!")
    assert decision.accepted and decision.depositor is not None and decision.depositor.id == depositor.user.id
    row = _row(node, draft.record_id, "soil")
    assert (row.status, row.decision_message, row.decided_by) == ("accepted", "Welcome!", curator.user.id)
    assert curation.queue(node, curator.viewer, "soil") == []
    with pytest.raises(Conflict):  # decided once
        curation.decide(node, curator.viewer, "soil", draft.record_id, False, "no")
    with pytest.raises(Conflict):
        curation.submit(node, depositor.viewer, "soil", draft.record_id)
    # A draft is in no public listing until it is published.
    assert communities.records_in(node, "soil") == []


def test_a_curator_of_one_community_acting_in_another_is_refused_and_changes_nothing(
    node: Node, two: None, curator: Account, depositor: Account
) -> None:
    record = publish(node, depositor.viewer)
    curation.submit(node, depositor.viewer, "rain", record, "for rain")
    with pytest.raises(Forbidden):
        curation.queue(node, curator.viewer, "rain")
    with pytest.raises(Forbidden):
        curation.decide(node, curator.viewer, "rain", record, True, "mine now")
    with pytest.raises(Forbidden):  # nor through the older include call
        communities.include(node, curator.viewer, "rain", record)
    row = _row(node, record, "rain")
    assert (row.status, row.decided_by, row.decision_message) == ("requested", None, "")


def test_declined_requests_keep_the_reason_and_may_be_made_again(
    node: Node, two: None, admin: Account, depositor: Account
) -> None:
    record = publish(node, depositor.viewer)
    curation.submit(node, depositor.viewer, "rain", record)
    curation.decide(node, admin.viewer, "rain", record, False, "Out of scope")
    assert _row(node, record, "rain").status == "declined"
    assert communities.of_record(node, record) == []
    again = curation.submit(node, depositor.viewer, "rain", record, "now in scope")
    assert (again.status, again.message, again.decision_message) == ("requested", "now in scope", "")


def test_only_the_owner_submits_and_bad_input_changes_nothing(
    node: Node, two: None, depositor: Account, other_depositor: Account
) -> None:
    record = publish(node, depositor.viewer)
    with pytest.raises(Forbidden):
        curation.submit(node, other_depositor.viewer, "soil", record)
    with pytest.raises(NotFound):
        curation.submit(node, depositor.viewer, "nowhere", record)
    with pytest.raises(NotFound):
        curation.submit(node, depositor.viewer, "soil", "nope\x00")
    with pytest.raises(InvalidInput):
        curation.submit(node, depositor.viewer, "soil", record, "x" * (curation.MAX_MESSAGE + 1))
    with pytest.raises(InvalidInput):
        curation.submit(node, depositor.viewer, "soil", record, "bad \x00")
    assert _row(node, record, "soil") is None


def test_a_community_curator_sees_a_draft_submitted_to_their_community_only(
    node: Node, two: None, admin: Account, depositor: Account, other_depositor: Account
) -> None:
    """The reviewer rule: a non-staff account that curates 'rain' reads the draft submitted there, and no other."""
    with node.transaction() as tx:
        curation.add_curator(tx, "rain", other_depositor.user.id)
    draft = deposit.create_draft(node, depositor.viewer, minimal_metadata())
    other = deposit.create_draft(node, depositor.viewer, minimal_metadata())
    with pytest.raises(NotFound):
        records.get_version(node, draft.id, other_depositor.viewer)
    curation.submit(node, depositor.viewer, "rain", draft.record_id)
    curation.submit(node, depositor.viewer, "soil", other.record_id)
    assert records.get_version(node, draft.id, other_depositor.viewer).id == draft.id
    with pytest.raises(NotFound):  # submitted to a community they do not curate
        records.get_version(node, other.id, other_depositor.viewer)
    curation.decide(node, other_depositor.viewer, "rain", draft.record_id, False, "no")
    with pytest.raises(NotFound):  # decided: the draft is private again
        records.get_version(node, draft.id, other_depositor.viewer)


def test_search_filters_by_community_once_accepted(node: Node, two: None, curator: Account, depositor: Account) -> None:
    from osnode.services import search

    inside = publish(node, depositor.viewer, titles=[{"title": "Loam"}])
    outside = publish(node, depositor.viewer, titles=[{"title": "Clay"}])
    curation.submit(node, depositor.viewer, "soil", inside, "")
    curation.submit(node, depositor.viewer, "soil", outside, "")
    assert search.query(node, "", {"community": ["soil"]}).total == 0  # requests are not memberships
    curation.decide(node, curator.viewer, "soil", inside, True, "")
    curation.decide(node, curator.viewer, "soil", outside, False, "")
    found = search.query(node, "", {"community": ["soil"]})
    assert [i["record_id"] for i in found.items] == [inside] and not found.messages
    assert search.query(node, "loam", {"community": ["rain"]}).total == 0
    assert {"value": "soil", "label": "soil", "count": 1, "selected": True} in found.facets["community"]
    communities.remove(node, curator.viewer, "soil", inside)
    assert search.query(node, "", {"community": ["soil"]}).total == 0
    search.reindex(node)  # a rebuilt index keeps the facet
    curation.submit(node, depositor.viewer, "soil", outside, "again")
    curation.decide(node, curator.viewer, "soil", outside, True, "")
    search.reindex(node)
    assert [i["record_id"] for i in search.query(node, "", {"community": ["soil"]}).items] == [outside]
