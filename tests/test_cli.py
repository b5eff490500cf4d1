"""The ``osnode`` command, locally on a data folder and remotely against a live server.

Most runs go through ``osnode.cli.main`` in this process (argv set, output captured): the same
code path as the installed command, error formatting included, without paying an interpreter start
for each. A few run as a real ``python -m osnode`` process, to see real exit statuses and that no
traceback ever reaches the terminal. Every test with ``database_url`` runs on SQLite and on
PostgreSQL (the CLI picks the catalog from ``$OSNODE_DATABASE_URL``)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from osnode.cli import main
from osnode.config import load_settings
from osnode.domain.access import ANONYMOUS
from osnode.domain.records import Role
from osnode.services import records, users
from osnode.services.node import Node
from tests.conftest import Account, LiveServer, minimal_metadata

TOKEN = re.compile(r"osn_[A-Za-z0-9_-]{20,}")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        # json.loads refuses trailing data: the output is exactly one JSON document.
        return json.loads(self.stdout)


def run_cli(*args: str | Path, database_url: str | None = None, env: dict[str, str] | None = None) -> Result:
    """``python -m osnode ARGS`` in a process of its own."""
    # Only the catalog choice is inherited (tests that need it set it with monkeypatch).
    keep = {"OSNODE_DATABASE_URL"}
    full_env = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR"} and (k in keep or "OSNODE_" not in k)}
    if database_url:
        full_env["OSNODE_DATABASE_URL"] = database_url
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "osnode", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=180,
    )
    return Result(done.returncode, done.stdout, done.stderr)


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``osnode ARGS`` through ``osnode.cli.main`` in this process; ``env`` adds variables."""

    def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
        capsys.readouterr()
        code: int = 0
        with monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            patch.setattr(sys, "argv", ["osnode", *map(str, args)])
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def ok(result: Result) -> Result:
    assert result.code == 0, f"exit {result.code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    return result


def fails(result: Result, *expected: str) -> str:
    """The command failed the way the CLI promises: one line on stderr, 'error: ...', exit != 0."""
    assert result.code != 0, f"expected a failure, got exit 0: {result.stdout}"
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert lines[0].startswith("error: "), lines[0]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def token_in(result: Result) -> str:
    tokens = TOKEN.findall(result.stdout)
    assert len(tokens) == 1, result.stdout
    return tokens[0]


def open_node(folder: Path, database_url: str | None) -> Node:
    return Node.open(load_settings(folder, database_url=database_url))


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blob(folder: Path, checksum: str) -> bytes:
    digest = checksum.removeprefix("sha256:")
    return (folder / "blobs" / digest[:2] / digest[2:4] / digest).read_bytes()


@pytest.fixture
def folder(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Path:
    """An initialized node's data folder; every CLI run in the test uses this test's catalog."""
    monkeypatch.setenv("OSNODE_DATABASE_URL", database_url)
    data = tmp_path / "cli-node"
    token_in(ok(cli("init", "--data", data)))
    return data


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "rainfall.csv"
    path.write_bytes(b"year,mm\n2001,1021\n2002,987\n")
    return path


# -- init ----------------------------------------------------------------------------------------


def test_init_prints_a_working_admin_token_and_refuses_a_second_init(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "fresh"
    token = token_in(ok(run_cli("init", "--data", data, database_url=database_url)))
    assert (data / "blobs").is_dir()
    node = open_node(data, database_url)
    try:
        assert users.authenticate(node, token).role is Role.ADMIN
    finally:
        node.close()

    fails(run_cli("init", "--data", data, database_url=database_url), "already initialized")
    node = open_node(data, database_url)
    try:
        assert [u.name for u in users.list_users(node)] == ["admin"]  # no second administrator
        assert users.authenticate(node, token).role is Role.ADMIN  # the first token still works
    finally:
        node.close()


# -- local deposit and lifecycle -----------------------------------------------------------------


def test_deposit_publish_json_locally(tmp_path: Path, folder: Path, csv_file: Path, cli: Cli) -> None:
    meta = write_json(tmp_path / "meta.json", minimal_metadata())
    result = ok(cli("deposit", csv_file, "--metadata", meta, "--publish", "--json", "--data", folder))
    published = result.json()
    assert isinstance(published, dict)
    assert published["url"] == f"http://127.0.0.1:8000/records/{published['id']}"
    assert published["state"] == "published" and published["is_latest"] is True
    assert published["metadata"]["titles"][0]["title"] == "Rainfall at Luanda, 2001-2020"
    assert [(f["key"], f["size"], f["checksum"]) for f in published["files"]] == [
        ("rainfall.csv", csv_file.stat().st_size, f"sha256:{sha256(csv_file.read_bytes())}")
    ]
    assert result.stderr == ""  # --json: no progress bar or chatter
    # The bytes really are in the node's store.
    assert _blob(folder, published["files"][0]["checksum"]) == csv_file.read_bytes()

    shown = ok(cli("show", published["record_id"], "--json", "--data", folder)).json()
    assert shown["id"] == published["id"] and shown["state"] == "published"
    listed = ok(cli("list", "--json", "--data", folder)).json()
    assert [item["id"] for item in listed["items"]] == [published["id"]]
    assert listed["cursor"] is None

    # Human-readable output names the record too.
    plain = ok(cli("show", published["id"], "--data", folder)).stdout
    assert "Rainfall at Luanda, 2001-2020" in plain and published["id"] in plain and "rainfall.csv" in plain


def test_deposit_from_yaml_as_draft_then_publish(tmp_path: Path, folder: Path, csv_file: Path, cli: Cli) -> None:
    readme = tmp_path / "README.txt"
    readme.write_text("How the rain was measured.\n", encoding="utf-8")
    meta = tmp_path / "meta.yaml"
    embargo = {"level": "embargoed", "embargo_until": "2099-01-01"}
    meta.write_text(yaml.safe_dump({"metadata": minimal_metadata(), "access": embargo}), encoding="utf-8")
    draft = ok(cli("deposit", csv_file, readme, "-m", meta, "--json", "--data", folder)).json()
    assert draft["state"] == "draft"
    assert draft["access"]["level"] == "embargoed"
    assert sorted(f["key"] for f in draft["files"]) == ["README.txt", "rainfall.csv"]
    assert ok(cli("list", "--json", "--data", folder)).json()["items"] == []
    drafts = ok(cli("list", "--drafts", "--json", "--data", folder)).json()["items"]
    assert [d["id"] for d in drafts] == [draft["id"]]

    published = ok(cli("publish", draft["id"], "--json", "--data", folder)).json()
    assert published["id"] == draft["id"] and published["state"] == "published"
    assert published["metadata"]["publisher"]["name"]  # the node filled in the publisher
    assert [i["id"] for i in ok(cli("list", "--json", "--data", folder)).json()["items"]] == [draft["id"]]
    # Publishing twice is refused, in one line.
    fails(cli("publish", draft["id"], "--data", folder))


def test_new_version_then_withdraw(tmp_path: Path, folder: Path, csv_file: Path, cli: Cli) -> None:
    meta = write_json(tmp_path / "meta.json", minimal_metadata(version="1.0"))
    first = ok(cli("deposit", csv_file, "-m", meta, "--publish", "--json", "--data", folder)).json()
    rid = first["record_id"]

    second = ok(cli("new-version", rid, "--json", "--data", folder)).json()
    assert second["record_id"] == rid and second["version"] == 2 and second["state"] == "draft"
    assert [f["checksum"] for f in second["files"]] == [f["checksum"] for f in first["files"]]
    fails(cli("new-version", rid, "--data", folder), "already has a draft")  # one draft at a time
    ok(cli("publish", second["id"], "--data", folder))
    assert ok(cli("show", rid, "--json", "--data", folder)).json()["id"] == second["id"]

    stones = ok(cli("withdraw", rid, "--reason", "duplicate of another record", "--json", "--data", folder)).json()
    assert sorted(s["id"] for s in stones["withdrawn"]) == sorted([first["id"], second["id"]])
    assert {s["reason"] for s in stones["withdrawn"]} == {"duplicate of another record"}
    line = fails(cli("show", rid, "--data", folder), "withdrawn")
    assert "duplicate of another record" in line
    assert ok(cli("list", "--json", "--data", folder)).json()["items"] == []


def test_withdraw_prints_the_tombstone(tmp_path: Path, folder: Path, csv_file: Path, cli: Cli) -> None:
    meta = write_json(tmp_path / "meta.json", minimal_metadata())
    version = ok(cli("deposit", csv_file, "-m", meta, "--publish", "--json", "--data", folder)).json()
    fails(cli("withdraw", version["id"], "--reason", "  ", "--data", folder), "reason")
    out = ok(cli("withdraw", version["id"], "--reason", "consent revoked", "--data", folder)).stdout
    assert f"withdrawn {version['id']}: consent revoked" in out


def test_users_add(database_url: str, folder: Path, cli: Cli) -> None:
    result = ok(cli("users", "add", "alice", "--role", "depositor", "--data", folder))
    token = token_in(result)
    assert "alice" in result.stdout and "depositor" in result.stdout
    fails(cli("users", "add", "alice", "--data", folder), "already exists")
    fails(cli("users", "add", "bob", "--role", "wizard", "--data", folder), "unknown role")
    node = open_node(folder, database_url)
    try:
        assert users.authenticate(node, token).role is Role.DEPOSITOR
        assert sorted((u.name, u.role) for u in users.list_users(node)) == [
            ("admin", Role.ADMIN),
            ("alice", Role.DEPOSITOR),
        ]
    finally:
        node.close()


# -- remote, against a live server ---------------------------------------------------------------


def test_deposit_and_lifecycle_over_the_api(
    tmp_path: Path, node: Node, live_server: LiveServer, admin: Account, csv_file: Path, cli: Cli
) -> None:
    remote = ("--url", live_server.url, "--token", admin.token)
    meta = write_json(tmp_path / "meta.json", minimal_metadata())
    # The one a user would type, as a real process.
    published = ok(run_cli("deposit", csv_file, "--metadata", meta, "--publish", "--json", *remote)).json()
    assert published["state"] == "published"
    assert published["url"] == f"{live_server.url}/records/{published['id']}"
    landing = httpx.get(published["url"])
    assert landing.status_code == 200 and "Rainfall at Luanda" in landing.text
    # It landed in the node's own catalog and store.
    seen = records.get_version(node, published["record_id"], ANONYMOUS)
    assert seen.id == published["id"] and [f.key for f in seen.files] == ["rainfall.csv"]
    assert node.blobs.read_bytes(seen.files[0].sha256) == csv_file.read_bytes()

    shown = ok(cli("show", published["record_id"], "--json", *remote)).json()
    assert shown["id"] == published["id"]
    assert [i["id"] for i in ok(cli("list", "--json", *remote)).json()["items"]] == [published["id"]]
    second = ok(cli("new-version", published["record_id"], "--json", *remote)).json()
    assert second["version"] == 2 and second["state"] == "draft"
    ok(cli("publish", second["id"], *remote))
    stones = ok(cli("withdraw", published["record_id"], "--reason", "retracted", "--json", *remote)).json()
    assert len(stones["withdrawn"]) == 2
    fails(cli("show", published["record_id"], *remote), "withdrawn", "retracted")


def test_wrong_token_with_url_is_one_line_and_changes_nothing(
    tmp_path: Path, node: Node, live_server: LiveServer, depositor: Account, csv_file: Path, cli: Cli
) -> None:
    meta = write_json(tmp_path / "meta.json", minimal_metadata())
    bad = ("--url", live_server.url, "--token", "osn_not-a-real-token-at-all-000000000")
    fails(run_cli("deposit", csv_file, "-m", meta, "--publish", *bad), "token")
    fails(cli("list", "--drafts", *bad), "token")
    fails(cli("show", "whatever", "--url", live_server.url), "--token")
    fails(cli("show", "whatever", "--url", "http://127.0.0.1:9", "--token", depositor.token), "cannot reach")
    staff = users.viewer_for(users.create_user(node, "auditor", "admin"))
    assert records.list_records(node, staff, state="draft").items == []
    assert records.list_records(node, staff).items == []
    # The right token works against the same server.
    ok(cli("deposit", csv_file, "-m", meta, "--url", live_server.url, "--token", depositor.token))
    assert len(records.list_records(node, staff, state="draft").items) == 1


# -- demo ----------------------------------------------------------------------------------------


def test_demo_builds_four_published_records(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("OSNODE_DATABASE_URL", database_url)
    data = tmp_path / "demo"
    result = ok(cli("demo", "--no-serve", "--data", data))
    assert "4 records" in result.stdout
    token_in(result)
    items = ok(cli("list", "--json", "--data", data)).json()["items"]
    by_key = {f["key"].rsplit(".", 1)[-1]: item for item in items for f in item["files"]}
    assert {"csv", "gz", "h5ad", "pdf"} <= set(by_key) and len(items) == 4
    by_kind = {
        item["metadata"]["resourceType"]["resourceTypeGeneral"]: item for k, item in by_key.items() if k != "h5ad"
    }
    assert sorted(by_kind) == ["Dataset", "JournalArticle", "Software"]
    assert all(item["state"] == "published" for item in items)
    for item in items:
        assert f"/records/{item['record_id']}" in result.stdout

    files = {kind: {f["key"]: f for f in item["files"]} for kind, item in by_kind.items()}
    csv = _blob(data, files["Dataset"]["anscombe.csv"]["checksum"])
    assert csv.startswith(b"observation,x1,y1,") and csv.count(b"\n") >= 12
    pdf = _blob(data, files["JournalArticle"]["article.pdf"]["checksum"])
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    [tarball_key] = files["Software"]
    assert tarball_key.endswith(".tar.gz")
    with tarfile.open(fileobj=io.BytesIO(_blob(data, files["Software"][tarball_key]["checksum"])), mode="r:gz") as tar:
        names = tar.getnames()
    assert any(n.endswith("/README.md") for n in names) and any(n.endswith("/CITATION.cff") for n in names)
    [atlas_file] = [f for f in by_key["h5ad"]["files"] if f["key"].endswith(".h5ad")]
    atlas = _blob(data, atlas_file["checksum"])
    assert atlas.startswith(b"\x89HDF\r\n\x1a\n")  # an HDF5 file


def test_demo_replaces_only_its_own_folder(tmp_path: Path, cli: Cli) -> None:
    # Embedded SQLite: the whole demo node lives in its folder.
    data = tmp_path / "demo"
    first = token_in(ok(cli("demo", "--no-serve", "--data", data)))
    again = token_in(ok(cli("demo", "--no-serve", "--fresh", "--data", data)))
    assert first != again
    assert len(ok(cli("list", "--json", "--data", data)).json()["items"]) == 4  # replaced, not added to

    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("\\chapter{Rain}\n", encoding="utf-8")
    fails(run_cli("demo", "--no-serve", "--data", precious), "not a demo node")
    assert sorted(p.name for p in precious.iterdir()) == ["chapter1.tex"]
    assert (precious / "chapter1.tex").read_text(encoding="utf-8") == "\\chapter{Rain}\n"


# -- bad input -----------------------------------------------------------------------------------


def test_bad_input_is_one_line_and_changes_nothing(tmp_path: Path, folder: Path, csv_file: Path, cli: Cli) -> None:
    def local(*args: str | Path) -> Result:
        return cli(*args, "--data", folder)

    # Two as real processes (exit status, nothing else on the terminal), the rest in-process.
    fails(run_cli("deposit", csv_file, "--metadata", tmp_path / "nowhere.json", "--data", folder), "not found")
    fails(run_cli("show", "no-such-id", "--data", folder), "no-such-id")

    bad_yaml = tmp_path / "meta.yaml"
    bad_yaml.write_text("titles: [unclosed\n  - creators: {\n", encoding="utf-8")
    fails(local("deposit", csv_file, "--metadata", bad_yaml), "not valid YAML", "line 2")
    tabbed = tmp_path / "tabs.yml"
    tabbed.write_text("titles:\n\t- title: x\n", encoding="utf-8")
    fails(local("deposit", csv_file, "--metadata", tabbed), "not valid YAML")
    bad_json = tmp_path / "broken.json"
    bad_json.write_text('{"titles": ', encoding="utf-8")
    fails(local("deposit", csv_file, "--metadata", bad_json), "not valid JSON")
    not_object = write_json(tmp_path / "list.json", [minimal_metadata()])
    fails(local("deposit", csv_file, "--metadata", not_object), "object")

    bad_orcid = minimal_metadata(creators=[{"familyName": "Silva", "givenName": "Ana", "orcid": "0000-0002-1825-0098"}])
    orcid_file = write_json(tmp_path / "orcid.json", bad_orcid)
    line = fails(local("deposit", csv_file, "--metadata", orcid_file, "--publish"), "creators.0.orcid")
    assert "check digit" in line or "ORCID" in line
    good = write_json(tmp_path / "good.json", minimal_metadata())
    fails(local("deposit", tmp_path / "missing.csv", "--metadata", good), "not a file")

    fails(local("show", "no-such-id"), "no-such-id")
    fails(local("publish", "no-such-id"), "no-such-id")
    fails(local("new-version", "no-such-id"), "no-such-id")
    fails(local("withdraw", "no-such-id", "--reason", "gone"), "no-such-id")
    fails(local("list", "--size", "0"), "size")

    # None of it left anything behind: no record, no draft, no blob.
    assert ok(local("list", "--drafts", "--json")).json()["items"] == []
    assert ok(local("list", "--json")).json()["items"] == []
    assert list((folder / "blobs").glob("??/??/*")) == []


def test_uninitialized_folder_and_bad_settings_are_one_line(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setenv("OSNODE_DATABASE_URL", database_url)
    empty = tmp_path / "empty"
    fails(cli("show", "x", "--data", empty), "osnode init")

    unknown_key = tmp_path / "typo"
    unknown_key.mkdir()
    (unknown_key / "osnode.toml").write_text('node_nmae = "Luanda"\n', encoding="utf-8")
    fails(run_cli("list", "--data", unknown_key, database_url=database_url), "node_nmae")
    broken_toml = tmp_path / "broken"
    broken_toml.mkdir()
    (broken_toml / "osnode.toml").write_text("node_name = [\n", encoding="utf-8")
    fails(cli("list", "--data", broken_toml), "TOML")
    fails(cli("list", "--data", empty, env={"OSNODE_MAX_UPLOAD_BYTES": "lots"}), "max_upload_bytes")
    # A folder that exists (an empty one is refused before any catalog is opened, see below).
    fails(cli("list", "--data", unknown_key.parent, env={"OSNODE_DATABASE_URL": "not a url"}), "catalog")
    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    fails(cli("list", "--data", unknown_key.parent, env={"OSNODE_DATABASE_URL": unreachable}), "catalog")
    assert not empty.exists()


def test_list_in_an_empty_folder_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    # No --data and no $OSNODE_DATA: the default ./osnode-data, which must not appear before 'init'.
    monkeypatch.delenv("OSNODE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    fails(cli("list"), "osnode init", "osnode-data")
    fails(cli("show", "x"), "osnode init")
    assert list(tmp_path.iterdir()) == []


def test_a_deposit_that_cannot_be_published_leaves_nothing(
    tmp_path: Path, folder: Path, csv_file: Path, cli: Cli, database_url: str
) -> None:
    # Valid for a draft, not for publication: no creators.
    meta = write_json(tmp_path / "meta.json", {"titles": [{"title": "No creators yet"}]})
    line = fails(cli("deposit", csv_file, "--metadata", meta, "--publish", "--data", folder))
    assert "creators" in line
    node = open_node(folder, database_url)
    try:
        admin = users.first_admin(node)
        assert admin is not None
        viewer = users.viewer_for(admin)
        assert records.list_records(node, viewer, state="draft").items == []
        assert records.list_records(node, viewer).items == []
    finally:
        node.close()
