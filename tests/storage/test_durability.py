"""Transactions are durable (fsynced at commit) unless one says it may be lost to a power cut, and
that choice never leaks into the next transaction on the same pooled connection."""

from __future__ import annotations

from osnode.services.node import Node


def _level(node: Node, tx) -> str:  # type: ignore[no-untyped-def]
    if node.engine.dialect.name == "sqlite":
        return {0: "off", 1: "normal", 2: "full", 3: "extra"}[tx.exec_driver_sql("PRAGMA synchronous").scalar()]
    return tx.exec_driver_sql("SHOW synchronous_commit").scalar()


def test_relaxed_transactions_do_not_leak(node: Node) -> None:
    sqlite = node.engine.dialect.name == "sqlite"
    durable, relaxed = ("full", "normal") if sqlite else ("on", "off")
    for _ in range(3):  # the pool hands the same connection back each time
        with node.transaction() as tx:
            assert _level(node, tx) == durable
        with node.transaction(durable=False) as tx:
            assert _level(node, tx) == relaxed
    with node.transaction() as tx:
        assert _level(node, tx) == durable
    with node.engine.connect() as conn, conn.begin():  # a plain read transaction is durable too
        assert _level(node, conn) == durable
