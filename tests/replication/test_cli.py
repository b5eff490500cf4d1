"""``osnode peers replicate NAME --policy ...`` and ``osnode replicate [PEER] [--json]``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from osnode.services.node import Node
from tests.blob_stores import remove
from tests.replication.conftest import Origin, harvest_origin
from tests.test_cli import Cli, cli, fails, ok  # noqa: F401  (cli is a fixture)


def test_policy_and_replicate_commands(
    node: Node,
    make_origin: Callable[..., Origin],
    cli: Cli,  # noqa: F811
) -> None:
    origin = make_origin([{"a.txt": b"alpha\n", "b.txt": b"beta\n"}])
    harvest_origin(node, origin)
    env = {"OSNODE_DATABASE_URL": node.settings.catalog_url}
    data = ("--data", node.settings.data_dir)

    fails(cli("replicate", *data, env=env), "no peer has a files policy")
    fails(cli("replicate", "nobody", *data, env=env), "no peer named 'nobody'")
    fails(cli("peers", "replicate", "origin", "--policy", "sets", *data, env=env), "at least one --set")
    fails(cli("peers", "replicate", "origin", "--policy", "all", *data, env=env), "not a replication policy")
    assert ok(cli("peers", "replicate", "origin", "--json", *data, env=env)).json()["policy"] == "metadata"

    shown = ok(cli("peers", "replicate", "origin", "--policy", "open", *data, env=env)).stdout
    assert "origin: open" in shown
    report = ok(cli("replicate", "--json", *data, env=env)).json()["reports"][0]
    assert (report["peer"], report["replicated"], report["skipped"], report["failed"]) == ("origin", 1, 1, 0)
    assert report["blobs_fetched"] == 2
    for data_bytes in (b"alpha\n", b"beta\n"):
        assert node.blobs.read_bytes(hashlib.sha256(data_bytes).hexdigest()) == data_bytes

    again = ok(cli("replicate", "origin", *data, env=env)).stdout
    assert "1 unchanged" in again and "0 blob(s) fetched" in again

    # A peer that no longer answers: the command says so and exits non-zero, without a traceback.
    remove(node, hashlib.sha256(b"beta\n").hexdigest())
    origin.server.stop()
    failed = cli("replicate", "origin", "--json", *data, env=env)
    fails(failed, "1 record(s) could not be replicated")
    assert failed.json()["reports"][0]["failed"] == 1
