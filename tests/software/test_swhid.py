"""SWHIDs compared with two independent references: swh.model (Software Heritage's own implementation) and git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from swh.model import from_disk, model
from swh.model import hypothesis_strategies as swh_strategies

from osnode.software import swhid
from osnode.software.disk import scan_tree
from osnode.software.gitrepo import GitRepo

from .conftest import git


def git_objects(repo: Path) -> list[tuple[str, str, bytes]]:
    """(id, type, body) of every object in the repository, read by git itself."""
    listing = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch-check=%(objectname)"],
        capture_output=True,
        check=True,
    ).stdout.split()
    found = []
    for oid in listing:
        kind = subprocess.run(["git", "-C", str(repo), "cat-file", "-t", oid], capture_output=True, check=True)
        body = subprocess.run(
            ["git", "-C", str(repo), "cat-file", kind.stdout.decode().strip(), oid], capture_output=True, check=True
        )
        found.append((oid.decode(), kind.stdout.decode().strip(), body.stdout))
    return found


def test_content_ids_match_swh_model_and_git(tmp_path: Path) -> None:
    for data in (b"", b"hello\n", bytes(range(256)) * 1000):
        expected = model.Content.from_data(data).sha1_git.hex()
        assert swhid.content_id(data) == expected
        path = tmp_path / "f"
        path.write_bytes(data)
        assert (
            subprocess.run(["git", "hash-object", str(path)], capture_output=True).stdout.decode().strip() == expected
        )


def test_tree_on_disk_matches_swh_model_everywhere(tree: Path) -> None:
    ours = scan_tree(tree)
    theirs = from_disk.Directory.from_disk(path=os.fsencode(tree), max_content_length=None)
    assert ours.root == theirs.swhid().object_id.hex()
    # Every directory and content, not only the root.
    swh_dirs = {o.swhid().object_id.hex() for o in theirs.iter_tree() if isinstance(o, from_disk.Directory)}
    swh_cnts = {o.swhid().object_id.hex() for o in theirs.iter_tree() if isinstance(o, from_disk.Content)}
    assert set(ours.directories) == swh_dirs
    assert set(ours.contents) == swh_cnts
    names = {e.name for e in ours.directories[ours.root]}
    assert b"caf\xe9-latin1.txt" in names and b"empty-dir" in names
    perms = {e.name: e.perms for e in ours.directories[ours.root]}
    assert perms[b"run.sh"] == swhid.PERM_EXEC and perms[b"link-to-readme"] == swhid.PERM_LINK
    assert perms[b"README.md"] == swhid.PERM_FILE and perms[b"a"] == swhid.PERM_DIR


def test_a_changed_executable_bit_changes_the_directory(tree: Path) -> None:
    before = scan_tree(tree).root
    (tree / "run.sh").chmod(0o644)
    after = scan_tree(tree).root
    assert before != after
    assert (
        after == from_disk.Directory.from_disk(path=os.fsencode(tree), max_content_length=None).swhid().object_id.hex()
    )


def test_the_working_tree_of_a_repository_hashes_to_git_s_tree(repo: Path) -> None:
    assert scan_tree(repo, exclude_git=True).root == git(repo, "rev-parse", "HEAD^{tree}")


def _person(raw: bytes) -> tuple[model.Person, model.TimestampWithTimezone]:
    person, stamp, offset = swhid.parse_person(raw)
    assert stamp is not None
    date = model.TimestampWithTimezone(timestamp=model.Timestamp(seconds=stamp, microseconds=0), offset_bytes=offset)
    return model.Person.from_fullname(person), date


def test_every_object_of_a_real_history_matches_git_and_swh_model(repo: Path) -> None:
    objects = git_objects(repo)
    kinds = {kind for _, kind, _ in objects}
    assert kinds == {"blob", "tree", "commit", "tag"}
    for oid, kind, body in objects:
        assert swhid.object_id(swhid.TYPE_OF_GIT[kind], body) == oid
        if kind == "tree":
            entries = swhid.parse_tree(body)
            assert swhid.directory_id(entries) == oid
            swh_entries = tuple(
                model.DirectoryEntry(
                    name=e.name, type=_entry_type(e.perms), target=bytes.fromhex(e.target), perms=e.perms
                )
                for e in entries
            )
            assert model.Directory(entries=swh_entries).id.hex() == oid
        elif kind == "commit":
            commit = swhid.parse_commit(body)
            author, author_date = _person(commit.get(b"author") or b"")
            committer, committer_date = _person(commit.get(b"committer") or b"")
            revision = model.Revision(
                message=commit.message,
                author=author,
                date=author_date,
                committer=committer,
                committer_date=committer_date,
                type=model.RevisionType.GIT,
                directory=bytes.fromhex((commit.get(b"tree") or b"").decode()),
                synthetic=False,
                parents=tuple(bytes.fromhex(p.decode()) for p in commit.all(b"parent")),
            )
            assert revision.id.hex() == oid
        elif kind == "tag":
            tag = swhid.parse_commit(body)
            tagger, tag_date = _person(tag.get(b"tagger") or b"")
            release = model.Release(
                name=tag.get(b"tag") or b"",
                message=tag.message,
                target=bytes.fromhex((tag.get(b"object") or b"").decode()),
                target_type=model.ReleaseTargetType.REVISION,
                synthetic=False,
                author=tagger,
                date=tag_date,
            )
            assert release.id.hex() == oid
    merges = [body for _, kind, body in objects if kind == "commit" and body.count(b"\nparent ") == 2]
    assert merges, "the history has a merge"


def _entry_type(perms: int) -> str:
    return {"cnt": "file", "dir": "dir", "rev": "rev"}[swhid.ENTRY_KIND[perms]]


def test_snapshot_of_a_repository_matches_swh_model(repo: Path) -> None:
    from osnode.services.archive.ingest import _branches

    branches, head = _branches(GitRepo(repo), None)
    assert head == git(repo, "rev-parse", "HEAD")
    assert branches[b"HEAD"] == ("alias", b"refs/heads/main")
    assert branches[b"refs/tags/v1.0"][0] == "release" and branches[b"refs/tags/light"][0] == "revision"
    swh_branches = {
        name: model.SnapshotBranch(target=target[1], target_type=model.SnapshotTargetType(target[0]))
        for name, target in branches.items()
        if target is not None
    }
    assert swhid.snapshot_id(branches) == model.Snapshot(branches=swh_branches).id.hex()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(swh_strategies.snapshots(min_size=0, max_size=8))
def test_snapshot_ids_match_swh_model_for_any_branches(snapshot: model.Snapshot) -> None:
    branches = {name: None if b is None else (b.target_type.value, b.target) for name, b in snapshot.branches.items()}
    assert swhid.snapshot_id(branches) == snapshot.id.hex()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(swh_strategies.directories(raw_manifest=swh_strategies.optional(swh_strategies.binaries_without_bytes(b""))))
def test_directory_ids_match_swh_model_for_any_entries(directory: model.Directory) -> None:
    if directory.raw_manifest is not None:
        return  # a deliberately broken manifest: hashed as given, nothing to compare
    entries = [swhid.Entry(e.name, e.perms, e.target.hex()) for e in directory.entries]
    if any(e.perms not in swhid.PERMS for e in entries):
        return
    assert swhid.directory_id(entries) == directory.id.hex()


def test_swhid_syntax_round_trips_with_qualifiers() -> None:
    text = (
        "swh:1:cnt:94a9ed024d3859793618152ea559a168bbcbb5e2;origin=https://example.org/r%3Bx;"
        "visit=swh:1:snp:d7f1b9eb7ccb596c2622c4780febaa02549830f9;"
        "anchor=swh:1:rev:2db189928c94d62a3b4757b3eec68f0a4d4113f0;path=/a%20b/c.py;lines=9-15"
    )
    parsed = swhid.parse_swhid(text)
    assert parsed.kind == "cnt" and parsed.qualifier("origin") == "https://example.org/r;x"
    assert parsed.qualifier("path") == "/a b/c.py" and parsed.qualifier("lines") == "9-15"
    again = swhid.parse_swhid(str(parsed))
    assert again == parsed
    from swh.model.swhids import QualifiedSWHID

    theirs = QualifiedSWHID.from_string(str(parsed))
    assert theirs.lines == (9, 15) and theirs.path == b"/a b/c.py"


@pytest.mark.parametrize(
    "bad",
    [
        "swh:1:xyz:94a9ed024d3859793618152ea559a168bbcbb5e2",
        "swh:2:cnt:94a9ed024d3859793618152ea559a168bbcbb5e2",
        "swh:1:cnt:94A9ED024D3859793618152EA559A168BBCBB5E2",
        "swh:1:cnt:94a9ed",
        "swh:1:cnt:94a9ed024d3859793618152ea559a168bbcbb5e2;lines=0",
        "swh:1:cnt:94a9ed024d3859793618152ea559a168bbcbb5e2;color=red",
        "swh:1:cnt:94a9ed024d3859793618152ea559a168bbcbb5e2;anchor=nope",
    ],
)
def test_malformed_swhids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        swhid.parse_swhid(bad)
