"""The one place that builds the node: plugins register jobs, panels, routes and commands (nothing registers
itself by being imported), and an operator's data folder overrides templates and static files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import typer
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from osnode.app import create_app, plugin_manager, scheduler_for
from osnode.config import load_settings
from osnode.domain.access import Viewer
from osnode.domain.records import Version
from osnode.plugins import hookimpl
from osnode.services import deposit
from osnode.services.jobs import Job
from osnode.services.node import Node
from osnode.web.panels import Panel, Provider
from tests.conftest import Account, minimal_metadata

# What `osnode serve` does to build the app and its scheduler, in a fresh interpreter.
SERVE_WIRING = textwrap.dedent(
    """
    import json, sys
    from fastapi.testclient import TestClient
    from osnode.config import load_settings
    from osnode.app import create_app, scheduler_for
    from osnode.services.node import Node

    node = Node.open(load_settings(sys.argv[1]))
    app = create_app(node)
    scheduler = scheduler_for(node)
    scheduler.start()
    try:
        cli = sorted(m for m in sys.modules if m == "osnode.cli" or m.startswith("osnode.cli."))
        web = TestClient(app)
        answers = {path: web.get(path).status_code for path in ("/healthz", "/oai?verb=Identify", "/admin/peers")}
        print(json.dumps({"cli": cli, "scheduled": scheduler.scheduled(), "answers": answers}))
    finally:
        scheduler.stop(timeout=5)
        node.close()
    """
)


def test_the_served_app_schedules_harvests_without_the_cli(node: Node, data_dir: Path, database_url: str) -> None:
    env = os.environ | {"OSNODE_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", SERVE_WIRING, str(data_dir)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["cli"] == []
    scheduled = found["scheduled"]
    assert {"harvest", "replicate", "fixity", "expired-uploads", "explore-profiles"} <= set(scheduled)
    # Replication runs after the harvests, so newly harvested records get their files.
    assert scheduled.index("harvest") < scheduled.index("replicate")
    # The routers are the built-in plugin's too: the provider answers, the admin page asks for a token.
    assert found["answers"] == {"/healthz": 200, "/oai?verb=Identify": 200, "/admin/peers": 401}


def _brand(data_dir: Path) -> None:
    (data_dir / "templates").mkdir()
    (data_dir / "templates" / "home.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>Branded {{ node.settings.node_name }}</h1>'
        '<img src="/static/logo.svg" alt="logo">{% endblock %}',
        encoding="utf-8",
    )
    (data_dir / "static").mkdir()
    (data_dir / "static" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")


def test_operator_templates_and_static_files_win(node: Node, data_dir: Path, database_url: str, tmp_path: Path) -> None:
    _brand(data_dir)
    with TestClient(create_app(node)) as web:
        home = web.get("/")
        assert home.status_code == 200
        assert "<h1>Branded " in home.text
        assert "<html" in home.text  # the package's base.html still frames the operator's page
        logo = web.get("/static/logo.svg")
        assert (logo.status_code, logo.text) == (200, "<svg xmlns='http://www.w3.org/2000/svg'/>")
        assert web.get("/search").status_code == 200  # pages not overridden come from the package

    # Another node's app (no templates/ or static/ in its data folder) shows the package's pages.
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    plain = Node.open(load_settings(plain_dir, database_url=database_url, base_url="http://testserver"))
    try:
        with TestClient(create_app(plain)) as web:
            home = web.get("/")
            assert home.status_code == 200
            assert "Branded" not in home.text and "Search the records" in home.text
            assert web.get("/static/logo.svg").status_code == 404
    finally:
        plain.close()


def _thanks_panel(_request: Request, _node: Node, version: Version, _viewer: Viewer) -> Panel | None:
    return Panel("panels/thanks.html", {"record": version.record_id})


class GreetingPlugin:
    """A third-party plugin, as an installed package would register under the ``osnode`` entry points."""

    @hookimpl
    def register_jobs(self) -> list[Job]:
        return [Job("greet", lambda _node: 5.0, lambda _node: None)]

    @hookimpl
    def register_panels(self) -> list[Provider]:
        return [_thanks_panel]

    @hookimpl
    def register_routes(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/hello")
        def hello() -> dict[str, str]:
            return {"hello": "world"}

        return [router]

    @hookimpl
    def register_commands(self, cli: typer.Typer) -> None:
        @cli.command("hello")
        def hello() -> None:
            print("hello from a plugin")


def test_a_plugin_adds_a_job_a_panel_a_route_and_a_command(node: Node, depositor: Account, data_dir: Path) -> None:
    (data_dir / "templates" / "panels").mkdir(parents=True)
    (data_dir / "templates" / "panels" / "thanks.html").write_text(
        "<section><p>Thanks panel for {{ ctx.record }}</p></section>", encoding="utf-8"
    )
    draft = deposit.create_draft(node, depositor.viewer, minimal_metadata(), {"level": "metadata-only"})
    published = deposit.publish(node, draft.id, depositor.viewer)
    pm = plugin_manager(GreetingPlugin())

    with TestClient(create_app(node, pm)) as web:
        assert web.get("/hello").json() == {"hello": "world"}
        landing = web.get(f"/records/{published.record_id}", headers={"Accept": "text/html"})
        assert landing.status_code == 200
        assert f"Thanks panel for {published.record_id}" in landing.text
    # Without the plugin, neither the route nor the panel is there.
    with TestClient(create_app(node)) as web:
        assert web.get("/hello").status_code == 404
        assert "Thanks panel" not in web.get(f"/records/{published.record_id}").text

    jobs = scheduler_for(node, pm).jobs
    assert [j.name for j in jobs][-1] == "greet"  # after the built-ins
    assert "harvest" in [j.name for j in jobs]

    cli = typer.Typer()
    cli.callback()(lambda: None)  # a group, so "hello" is a subcommand
    pm.hook.register_commands(cli=cli)
    ran = CliRunner().invoke(cli, ["hello"])
    assert (ran.exit_code, ran.output) == (0, "hello from a plugin\n")
