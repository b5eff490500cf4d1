"""The first ten minutes on the command line (issue 16): the demo, an empty folder, long URLs and hashes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from osnode.config import load_settings
from osnode.services import harvest
from osnode.services.node import Node
from tests.conftest import free_port, minimal_metadata
from tests.test_cli import Cli, cli, fails, ok, run_cli, token_in, write_json  # noqa: F401 - cli is a fixture

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_demo_refuses_a_busy_port_before_building(tmp_path: Path, cli: Cli) -> None:  # noqa: F811
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = fails(cli("demo", "--data", tmp_path / "demo", "--port", str(port)))
    assert f"127.0.0.1:{port}" in line and "already in use" in line and "--port" in line
    assert not (tmp_path / "demo").exists()  # nothing was built


def test_demo_serves_at_its_port_and_says_what_is_what(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "OSNODE_" not in k} | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "osnode", "demo", "--data", str(tmp_path / "demo"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        for _ in range(900):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                if process.poll() is not None:
                    break
                time.sleep(0.2)
        feed = httpx.get(f"http://127.0.0.1:{port}/feed.atom", timeout=30)
    finally:
        process.terminate()
        printed = process.communicate(timeout=30)[0]
    assert feed.status_code == 200, printed
    urls = re.findall(r"http://127\.0\.0\.1:(\d+)/records/\S+", printed)
    assert len(urls) == 4 and set(urls) == {str(port)}, printed
    assert f"127.0.0.1:{port}/records/" in feed.text  # the node links to the port it listens on
    assert re.search(r"^  Cell atlas +http", printed, re.M) and printed.count("  Dataset ") == 1, printed
    assert "API token" in printed and "--token" in printed, printed
    assert "Ctrl+C to stop" in printed
    assert "Traceback" not in printed


def test_demo_keeps_what_was_added_unless_fresh(tmp_path: Path, cli: Cli) -> None:  # noqa: F811
    data = tmp_path / "demo"
    first = ok(cli("demo", "--no-serve", "--data", data))
    meta = write_json(tmp_path / "meta.json", minimal_metadata())
    (tmp_path / "mine.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    mine = ok(cli("deposit", tmp_path / "mine.csv", "-m", meta, "--publish", "--json", "--data", data)).json()

    kept = ok(cli("demo", "--no-serve", "--data", data))
    assert "kept as it was" in kept.stdout and "--fresh" in kept.stdout
    assert token_in(kept) != token_in(first)  # a new token, since the first was shown only once
    listed = [i["record_id"] for i in ok(cli("list", "--json", "--data", data)).json()["items"]]
    assert mine["record_id"] in listed and len(listed) == 5

    fresh = ok(cli("demo", "--no-serve", "--fresh", "--data", data))
    said = fresh.stdout.splitlines()[0]
    assert said.startswith(f"replacing the demo node in {data}: deleting 5 published records"), said
    listed = [i["record_id"] for i in ok(cli("list", "--json", "--data", data)).json()["items"]]
    assert mine["record_id"] not in listed and len(listed) == 4


def test_make_demo_installs_only_the_runtime() -> None:
    demo = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    uv_lines = [line for line in demo.splitlines() if " sync " in line or " run " in line]
    assert len(uv_lines) == 2 and all("--no-dev" in line for line in uv_lines), demo
    test = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "sync --frozen" in test and "--no-dev" not in test
    # What --no-dev leaves out is exactly the test tooling.
    uv = os.environ.get("UV", "uv")  # uv run names itself in $UV
    runtime = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    names = {line.split("==")[0].strip() for line in runtime.splitlines() if "==" in line}
    assert {"fastapi", "uvicorn", "httpx"} <= names
    assert not {"pytest", "playwright", "pytest-xdist", "schemathesis", "hypothesis"} & names


LONG_URL = "https://repository.an-example-university.example.org/server/oai/request/with/a/very/long/path"


def _peer_node(tmp_path: Path, database_url: str) -> Path:
    data = tmp_path / "node"
    ok(run_cli("init", "--data", data, database_url=database_url))
    node = Node.open(load_settings(data, database_url=database_url))
    try:
        harvest.add_peer(node, LONG_URL, name="university")
    finally:
        node.close()
    return data


def test_peers_list_never_cuts_a_url(tmp_path: Path, database_url: str) -> None:
    data = _peer_node(tmp_path, database_url)
    piped = ok(run_cli("peers", "list", "--data", data, database_url=database_url)).stdout
    assert piped.splitlines()[0].split("\t")[:2] == ["name", "url"]
    assert piped.splitlines()[1].split("\t")[:2] == ["university", LONG_URL]
    # On an 80-column terminal the URL folds onto more lines, every character kept, no ellipsis.
    tty = {"FORCE_COLOR": "1", "COLUMNS": "80"}
    shown = ANSI.sub("", ok(run_cli("peers", "list", "--data", data, database_url=database_url, env=tty)).stdout)
    assert "…" not in shown and max(len(line) for line in shown.splitlines()) <= 80
    pieces = [cell.strip() for line in shown.splitlines() for cell in line.split("│")[2:3] if cell.strip()]
    assert "".join(pieces) == LONG_URL, shown


def test_a_sha256_is_never_split_by_colouring(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "node"
    ok(run_cli("init", "--data", data, database_url=database_url))
    meta = write_json(tmp_path / "meta.json", minimal_metadata())
    csv = tmp_path / "rain.csv"
    csv.write_bytes(b"year,mm\n2001,1021\n")
    tty = {"FORCE_COLOR": "1", "COLUMNS": "200"}
    args = ("deposit", csv, "-m", meta, "--publish", "--data", data)
    shown = ok(run_cli(*args, database_url=database_url, env=tty)).stdout
    [digest] = re.findall(r"sha256:[0-9a-f]{64}", ANSI.sub("", shown))
    assert digest in shown  # the same 64 characters with no colour code between them
    assert "\x1b[" in shown  # it was a colour terminal: the title is bold
