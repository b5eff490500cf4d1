"""One insert-or-ignore for both dialects: a row whose key is already there is skipped, not an error, and the
row first stored is the one kept (two archives of one origin, or one blob deposited twice, race like this)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from osnode.services.node import Node
from osnode.storage.catalog import insert_or_ignore
from osnode.storage.software import insert_ignoring_duplicates, swh_objects, swh_origins


def test_a_duplicate_key_is_skipped_and_the_first_row_kept(node: Node) -> None:
    with node.transaction() as tx:
        tx.execute(swh_origins.insert().values(url="https://example.org/repo.git"))
        first = tx.execute(select(swh_origins.c.id)).scalar_one()
    with node.transaction() as tx:
        tx.execute(insert_or_ignore(tx, swh_origins, index_elements=["url"]).values(url="https://example.org/repo.git"))
    with node.engine.connect() as conn:
        assert conn.execute(select(swh_origins.c.id)).scalars().all() == [first]
    # Without the helper the same insert is an error on both backends: the test above is not vacuous.
    with pytest.raises(IntegrityError), node.transaction() as tx:
        tx.execute(swh_origins.insert().values(url="https://example.org/repo.git"))


def test_batches_with_known_rows_insert_only_the_new_ones(node: Node) -> None:
    with node.transaction() as tx:
        insert_ignoring_duplicates(tx, swh_objects, [{"sha1_git": "a" * 40, "type": "cnt"}])
    rows = [{"sha1_git": f"{i:040x}", "type": "dir"} for i in range(1, 1200)] + [{"sha1_git": "a" * 40, "type": "dir"}]
    with node.transaction() as tx:
        insert_ignoring_duplicates(tx, swh_objects, rows)
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(swh_objects)).scalar_one() == 1200
        kept = conn.execute(select(swh_objects.c.type).where(swh_objects.c.sha1_git == "a" * 40)).scalar_one()
        assert kept == "cnt"
