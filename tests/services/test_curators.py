"""Curators per community, decided in one place (``services/curation.py``): a curator of one community may not
act in another; administrators curate every community; naming curators is for a community's curators and
administrators."""

from __future__ import annotations

import pytest

from osnode.domain.access import Viewer
from osnode.domain.errors import Forbidden, NotFound
from osnode.services import communities, curation
from osnode.services.node import Node
from tests.conftest import Account


def _curates(node: Node, viewer: Viewer, slug: str) -> bool:
    with node.engine.connect() as conn:
        return curation.curates(conn, viewer, slug)


def _add(node: Node, slug: str, user_id: int) -> None:
    with node.transaction() as tx:
        curation.add_curator(tx, slug, user_id)


def test_a_community_curator_curates_that_community_only(node: Node, admin: Account, depositor: Account) -> None:
    communities.create(node, admin.viewer, "rain", "Rainfall")
    communities.create(node, admin.viewer, "soil", "Soil")
    me = depositor.viewer
    assert not _curates(node, me, "rain")
    _add(node, "rain", depositor.user.id)
    assert _curates(node, me, "rain")
    assert not _curates(node, me, "soil")  # a curator of one community acting in another
    assert not _curates(node, Viewer(me.user_id, me.role, read_only=True), "rain")
    # whoever creates a community curates it (here the admin), beside those added
    assert [c.user_id for c in curation.curators_of(node, "rain")] == [admin.user.id, depositor.user.id]
    _add(node, "rain", depositor.user.id)  # twice is once
    assert len(curation.curators_of(node, "rain")) == 2
    curation.remove_curator(node, admin.viewer, "rain", depositor.user.id)
    assert not _curates(node, me, "rain")


def test_admins_curate_every_community_and_the_global_role_does_not(
    node: Node, admin: Account, curator: Account
) -> None:
    communities.create(node, admin.viewer, "rain", "Rainfall")
    assert _curates(node, admin.viewer, "rain")
    assert not _curates(node, curator.viewer, "rain")  # tests/communities/test_curation.py: one community only
    assert not _curates(node, Viewer(), "rain")


def test_only_curators_and_admins_name_curators(
    node: Node, admin: Account, curator: Account, depositor: Account
) -> None:
    communities.create(node, admin.viewer, "rain", "Rainfall")
    with pytest.raises(Forbidden):
        curation.add_curator_by_email(node, curator.viewer, "rain", "depositor@example.org")
    with pytest.raises(NotFound):
        curation.add_curator_by_email(node, admin.viewer, "nope", "depositor@example.org")
    with pytest.raises(NotFound):
        curation.remove_curator(node, admin.viewer, "rain", depositor.user.id)
    assert [c.user_id for c in curation.curators_of(node, "rain")] == [admin.user.id]
