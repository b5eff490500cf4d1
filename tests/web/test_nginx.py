"""docs/nginx/osnode.conf, the configuration docs/scale-out.md gives, run by Debian's nginx in front of the
node: a deposit through the proxy (a streamed PUT and a tus upload in two pieces), downloads handed to nginx
with X-Accel-Redirect once the node has decided access (Range included), the internal location closed to
clients, and X-Forwarded-For believed from the proxy."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from osnode.services.node import Node
from tests.conftest import Account, LiveServer, free_port, serve_in_thread
from tests.web.conftest import create_draft

CONF = Path(__file__).resolve().parents[2] / "docs" / "nginx" / "osnode.conf"
TUS = {"Tus-Resumable": "1.0.0"}


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:  # as `make browser` does for chromium: Debian's package, installed when missing
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "nginx"], check=True, env=env)
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found


@contextmanager
def running_nginx(run: Path, upstreams: list[str], blob_dir: Path, port: int | None = None) -> Iterator[str]:
    """docs/nginx/osnode.conf in front of ``upstreams`` (host:port), serving ``blob_dir``; yields its URL."""
    port = port or free_port()
    servers = "".join(f"server {u};\n    " for u in upstreams).rstrip()
    site = CONF.read_text()
    for old, new in (
        ("server 127.0.0.1:8001;", servers),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("/srv/osnode/data/blobs/", f"{blob_dir.resolve()}/"),
    ):
        assert old in site
        site = site.replace(old, new)
    run.mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # its workers read the test's private blob folder
    (run / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {run}/nginx.pid;\nerror_log {run}/error.log;\n"
        f"events {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n"
        f"  client_body_temp_path {run}/body;\n  proxy_temp_path {run}/proxy;\n  fastcgi_temp_path {run}/f;\n"
        f"  uwsgi_temp_path {run}/u;\n  scgi_temp_path {run}/s;\n  default_type application/octet-stream;\n"
        f"{site}\n}}\n"
    )
    process = subprocess.Popen([nginx_binary(), "-c", str(run / "nginx.conf"), "-p", str(run)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError((run / "error.log").read_text())
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def behind_nginx(node: Node, tmp_path: Path) -> Iterator[tuple[str, LiveServer]]:
    node.settings = replace(node.settings, accel_redirect="/_osnode_blobs", trusted_proxies=("127.0.0.1",))
    app = serve_in_thread(node.settings)
    try:
        with running_nginx(tmp_path / "nginx", [app.url.removeprefix("http://")], node.settings.blob_dir) as url:
            yield url, app
    finally:
        app.stop()


def test_deposit_and_download_through_nginx(behind_nginx: tuple[str, LiveServer], depositor: Account) -> None:
    url, _app = behind_nginx
    data, tus_data = os.urandom(300_000), os.urandom(200_000)
    with httpx.Client(base_url=url, timeout=60) as http:
        draft = create_draft(http, depositor)  # type: ignore[arg-type]
        put = http.put(f"/api/records/{draft['id']}/files/a.bin", content=data, headers=depositor.headers)
        assert put.status_code == 201, put.text
        name = base64.b64encode(b"b.bin").decode()
        created = http.post(
            f"/api/records/{draft['id']}/uploads",
            headers=depositor.headers
            | TUS
            | {"Upload-Length": str(len(tus_data)), "Upload-Metadata": f"filename {name}"},
        )
        assert created.status_code == 201
        location = created.headers["location"]
        stream = depositor.headers | TUS | {"Content-Type": "application/offset+octet-stream"}
        assert (
            http.patch(location, content=tus_data[:120_000], headers=stream | {"Upload-Offset": "0"}).status_code == 204
        )
        last = http.patch(location, content=tus_data[120_000:], headers=stream | {"Upload-Offset": "120000"})
        assert last.status_code == 204 and last.headers["upload-offset"] == str(len(tus_data))
        # Unpublished: a stranger is refused by the node; nginx never sees a redirect for them.
        assert http.get(f"/api/records/{draft['id']}/files/a.bin").status_code in (401, 403, 404)
        published = http.post(f"/api/records/{draft['id']}/publish", headers=depositor.headers)
        assert published.status_code == 200, published.text
        record = published.json()["record_id"]

        whole = http.get(f"/api/records/{record}/files/a.bin")
        assert whole.status_code == 200 and whole.content == data
        assert "x-accel-redirect" not in whole.headers  # nginx consumed it
        assert 'filename="a.bin"' in whole.headers["content-disposition"]
        part = http.get(f"/api/records/{record}/files/b.bin", headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == tus_data[1000:2000]
        digest = whole.headers["etag"].strip('"')
        assert http.get(f"/_osnode_blobs/{digest[:2]}/{digest[2:4]}/{digest}").status_code == 404  # internal only
