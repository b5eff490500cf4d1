"""Curators per community: a curator of one community may not act in another; the global roles keep theirs."""

from __future__ import annotations

import pytest

from osnode.domain.access import Viewer
from osnode.domain.errors import Conflict, Forbidden, NotFound
from osnode.domain.records import Role
from osnode.services import communities, curators
from osnode.services.node import Node
from tests.conftest import Account


def test_a_community_curator_curates_that_community_only(node: Node, admin: Account, depositor: Account) -> None:
    communities.create(node, admin.viewer, "rain", "Rainfall")
    communities.create(node, admin.viewer, "soil", "Soil")
    me = depositor.viewer
    assert not curators.may_curate(node, me, "rain")
    curators.add(node, admin.viewer, "rain", depositor.user.id)
    assert curators.may_curate(node, me, "rain")
    assert not curators.may_curate(node, me, "soil")  # a curator of one community acting in another
    assert not curators.may_curate(node, Viewer(me.user_id, me.role, read_only=True), "rain")
    # whoever creates a community curates it (here the admin), beside those added
    assert curators.of_community(node, "rain") == [(admin.user.id, "admin"), (depositor.user.id, "depositor")]
    with pytest.raises(Conflict):
        curators.add(node, admin.viewer, "rain", depositor.user.id)
    curators.remove(node, admin.viewer, "rain", depositor.user.id)
    assert not curators.may_curate(node, me, "rain")


def test_global_roles_keep_their_meaning(node: Node, admin: Account, curator: Account) -> None:
    communities.create(node, admin.viewer, "rain", "Rainfall")
    assert curators.may_curate(node, curator.viewer, "rain") and curators.may_curate(node, admin.viewer, "rain")
    assert not curators.may_curate(node, Viewer(), "rain")


def test_only_an_admin_names_curators(node: Node, admin: Account, curator: Account, depositor: Account) -> None:
    communities.create(node, admin.viewer, "rain", "Rainfall")
    with pytest.raises(Forbidden):
        curators.add(node, curator.viewer, "rain", depositor.user.id)
    with pytest.raises(NotFound):
        curators.add(node, admin.viewer, "nope", depositor.user.id)
    with pytest.raises(NotFound):
        curators.remove(node, admin.viewer, "rain", depositor.user.id)
    assert Role.READER.value == "reader"
