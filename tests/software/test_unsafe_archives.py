"""Every unsafe archive is refused with a clear error, and nothing at all is stored."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from osnode.services import archive
from osnode.services.node import Node
from osnode.software.archives import Limits, UnsafeArchive
from osnode.storage import catalog
from osnode.storage.software import swh_objects
from tests.conftest import Account


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    return info


def traversal(tmp: Path) -> Path:
    return _tar(tmp / "a.tar.gz", [(_info("pkg/ok.txt"), b"ok"), (_info("pkg/../../evil.txt"), b"evil")])


def absolute(tmp: Path) -> Path:
    return _tar(tmp / "a.tar.gz", [(_info("/etc/cron.d/evil"), b"evil")])


def symlink_out(tmp: Path) -> Path:
    return _tar(
        tmp / "a.tar.gz", [(_info("pkg/a.txt"), b"a"), (_info("pkg/up", tarfile.SYMTYPE, "../../etc/passwd"), None)]
    )


def symlink_absolute(tmp: Path) -> Path:
    return _tar(
        tmp / "a.tar.gz", [(_info("pkg/a.txt"), b"a"), (_info("pkg/abs", tarfile.SYMTYPE, "/etc/passwd"), None)]
    )


def device(tmp: Path) -> Path:
    return _tar(tmp / "a.tar.xz", [(_info("pkg/a.txt"), b"a"), (_info("pkg/null", tarfile.CHRTYPE), None)], "w:xz")


def fifo(tmp: Path) -> Path:
    return _tar(tmp / "a.tar.gz", [(_info("pkg/pipe", tarfile.FIFOTYPE), None)])


def hard_link(tmp: Path) -> Path:
    return _tar(
        tmp / "a.tar.gz", [(_info("pkg/a.txt"), b"a"), (_info("pkg/b.txt", tarfile.LNKTYPE, "pkg/a.txt"), None)]
    )


def duplicate_tar(tmp: Path) -> Path:
    return _tar(tmp / "a.tar.gz", [(_info("pkg/a.txt"), b"first"), (_info("pkg/a.txt"), b"second")])


def duplicate_zip(tmp: Path) -> Path:
    path = tmp / "a.zip"
    with zipfile.ZipFile(path, "w") as archive_file:
        archive_file.writestr("pkg/a.txt", "first")
        with pytest.warns(UserWarning):
            archive_file.writestr("pkg/a.txt", "second")
    return path


def too_many_files(tmp: Path) -> Path:
    return _tar(tmp / "a.tar.gz", [(_info(f"pkg/f{i}.txt"), b"x") for i in range(11)])


def bomb(tmp: Path) -> Path:
    # 20 MB of zeros compress to ~20 KB: a thousand-fold expansion.
    return _tar(tmp / "a.tar.gz", [(_info("pkg/zeros"), bytes(20 * 1024 * 1024))])


def zip_size_lie(tmp: Path) -> Path:
    """A zip whose headers declare 10 bytes for a member that inflates to 100 KB."""
    path = tmp / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive_file:
        archive_file.writestr("pkg/big.txt", b"A" * 100_000)
    data = bytearray(path.read_bytes())
    size = (100_000).to_bytes(4, "little")
    for start in range(len(data) - 3):
        if data[start : start + 4] == size:
            data[start : start + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def zip_device(tmp: Path) -> Path:
    path = tmp / "a.zip"
    with zipfile.ZipFile(path, "w") as archive_file:
        info = zipfile.ZipInfo("pkg/dev")
        info.external_attr = (0o020644) << 16  # a character device
        archive_file.writestr(info, b"")
    return path


def zip_traversal(tmp: Path) -> Path:
    path = tmp / "a.zip"
    with zipfile.ZipFile(path, "w") as archive_file:
        archive_file.writestr("..\\..\\evil.bat", "x")
    return path


def under_a_file(tmp: Path) -> Path:
    return _tar(tmp / "a.tar.gz", [(_info("pkg/a"), b"file"), (_info("pkg/a/b"), b"under a file")])


def over_total(tmp: Path) -> Path:
    return _tar(tmp / "a.tar.gz", [(_info("pkg/a.bin"), bytes(range(256)) * 8), (_info("pkg/b.bin"), b"x" * 2000)])


def symlink_chain_out(tmp: Path) -> Path:
    """Each link looks inside on its own; followed one after the other they reach the file system's root."""
    links = [("pkg/d/c", ".."), ("pkg/d/e", "c/.."), ("pkg/d/f", "e/.."), ("pkg/d/g", "f/.."), ("pkg/d/h", "g/etc")]
    members = [(_info("pkg/d/a.txt"), b"a")] + [(_info(n, tarfile.SYMTYPE, t), None) for n, t in links]
    return _tar(tmp / "a.tar.gz", members)


def zip_symlink_chain_out(tmp: Path) -> Path:
    path = tmp / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg/a.txt", b"a")
        for name, target in (("pkg/up", "."), ("pkg/x/dummy", "d"), ("pkg/x/l", "../up/.."), ("pkg/x/m", "l/..")):
            info = zipfile.ZipInfo(name)
            if name != "pkg/x/dummy":
                info.external_attr = (0o120777) << 16
            archive.writestr(info, target)
    return path


def symlink_loop(tmp: Path) -> Path:
    links = [("pkg/a", "b"), ("pkg/b", "a/x")]
    return _tar(
        tmp / "a.tar.gz", [(_info("pkg/f.txt"), b"f")] + [(_info(n, tarfile.SYMTYPE, t), None) for n, t in links]
    )


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "symlink chain out of the tree": (symlink_chain_out, "points out of the tree"),
    "zip symlink chain out of the tree": (zip_symlink_chain_out, "points out of the tree"),
    "symlink loop": (symlink_loop, "too many links"),
    "path traversal": (traversal, "climbs out"),
    "absolute path": (absolute, "absolute path"),
    "symlink out of the tree": (symlink_out, "points out of the tree"),
    "absolute symlink": (symlink_absolute, "points to an absolute path"),
    "device file": (device, "device file"),
    "fifo": (fifo, "device file or FIFO"),
    "hard link": (hard_link, "hard link"),
    "duplicate tar entry": (duplicate_tar, "more than once"),
    "duplicate zip entry": (duplicate_zip, "more than once"),
    "too many files": (too_many_files, "more than the limit of 10"),
    "archive bomb (ratio)": (bomb, "archive bomb"),
    "declared vs actual size": (zip_size_lie, "declares"),
    "zip device": (zip_device, "device file"),
    "zip backslash traversal": (zip_traversal, "climbs out"),
    "member under a file": (under_a_file, "not a directory"),
    "over the total size": (over_total, "over the limit of 3000"),
}


def _nothing_stored(node: Node) -> None:
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(swh_objects)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(catalog.blobs)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(catalog.records)).scalar() == 0
    assert list(node.blobs.stored()) == []


@pytest.mark.parametrize("case", list(CASES))
def test_unsafe_archive_is_refused_and_nothing_is_stored(case: str, node: Node, admin: Account, tmp_path: Path) -> None:
    build, message = CASES[case]
    path = build(tmp_path)
    limits = Limits(max_files=10, max_total_bytes=3000) if case == "over the total size" else Limits(max_files=10)
    with pytest.raises(UnsafeArchive) as caught:
        archive.archive_software(node, admin.viewer, path, limits=limits)
    assert message in caught.value.detail
    _nothing_stored(node)


def test_a_safe_archive_with_an_inner_symlink_is_archived(node: Node, admin: Account, tmp_path: Path) -> None:
    path = _tar(
        tmp_path / "ok.tar.gz",
        [
            (_info("pkg/docs/a.txt"), b"a"),
            (_info("pkg/docs/link", tarfile.SYMTYPE, "../README"), None),
            (_info("pkg/README"), b"r"),
        ],
    )
    version, result = archive.archive_software(node, admin.viewer, path)
    assert result.swhid.startswith("swh:1:dir:") and result.head_revision is None
    with node.engine.connect() as conn:
        names = {e.name for e in archive.directory_entries(conn, result.root_directory)}
    assert names == {b"docs", b"README"}  # the single top folder "pkg/" is the tree's root


def test_the_api_refuses_an_unsafe_upload_with_a_problem(
    client: TestClient, admin: Account, node: Node, tmp_path: Path
) -> None:
    body = traversal(tmp_path).read_bytes()
    response = client.post("/api/software?filename=evil.tar.gz", content=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "climbs out" in response.json()["detail"]
    _nothing_stored(node)
