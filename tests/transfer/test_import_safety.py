"""``osnode import`` reads nothing outside the bag: file keys that climb out or are absolute, and
symbolic links placed in the bag, are refused with one line, nothing imported and no outside byte or
hash shown; an import is all or nothing per record (a bad key in its last version leaves nothing)."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from pathlib import Path
from typing import Any

import bagit
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from osnode.domain.errors import InvalidInput
from osnode.domain.records import ID_BITS, id_of
from osnode.services import packages
from osnode.services.node import Node
from osnode.storage.catalog import files, records, versions
from tests.conftest import Account
from tests.test_cli import Cli, cli, fails  # noqa: F401  (cli is a fixture)
from tests.transfer.test_packages import target  # noqa: F401  (a fixture)
from tests.web.conftest import published_record

SECRET = b"the private bytes of the machine the node runs on\n"
SECRET_SHA = hashlib.sha256(SECRET).hexdigest()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the bag, next to it: what a crafted bag tries to reach."""
    path = tmp_path / "secret.txt"
    path.write_bytes(SECRET)
    return path


@pytest.fixture
def bag(node: Node, client: TestClient, depositor: Account, tmp_path: Path) -> Path:
    published_record(client, depositor, {"table.csv": b"a,b\n1,2\n"})
    out = tmp_path / "bag"
    assert packages.export(node, out).versions == 1
    return out


def _version_folder(bag: Path) -> Path:
    (found,) = (bag / "data").glob("*/*/osnode.json")
    return found.parent


def _describe(folder: Path, change: Any) -> None:
    path = folder / "osnode.json"
    item = json.loads(path.read_text())
    change(item)
    path.write_text(json.dumps(item))


def _rebag(bag: Path) -> None:
    """Make the manifests match the crafted payload: the bag is valid, only its content is hostile."""
    bagit.Bag(str(bag)).save(manifests=True)
    bagit.Bag(str(bag)).validate()


def _nothing_imported(target: Node) -> None:  # noqa: F811
    with target.engine.connect() as conn:
        for table in (records, versions, files):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
    assert list(target.blobs.stored()) == []


def _refused(target: Node, bag: Path) -> str:  # noqa: F811
    with pytest.raises(InvalidInput) as caught:
        packages.import_bag(target, bag)
    message = caught.value.detail
    assert "refused" in message and "\n" not in message
    # Neither the outside file's bytes nor its hash are shown.
    assert SECRET_SHA not in message and SECRET.decode().strip() not in message
    _nothing_imported(target)
    return message


# From a version's files/ folder, five '..' reach the folder holding the bag; more reach the root.
@pytest.mark.parametrize("key", [10 * "../" + "etc/hostname", "../../../../../secret.txt", "ABSOLUTE"])
def test_a_file_key_leading_out_of_the_bag_is_refused(
    target: Node,  # noqa: F811
    bag: Path,
    secret: Path,
    key: str,
) -> None:
    key = str(secret) if key == "ABSOLUTE" else key
    folder = _version_folder(bag)
    outside = (folder / "files" / key).read_bytes()  # an absolute key replaces the folder
    real = hashlib.sha256(outside).hexdigest()

    def point_out(item: dict[str, Any]) -> None:
        # The description names the outside file with its real hash and size: all that would be checked.
        item["files"] = [{"key": key, "sha256": real, "size": len(outside), "mimetype": "text/plain"}]

    _describe(folder, point_out)
    _rebag(bag)
    assert real not in _refused(target, bag)


def _point_out_with_a_wrong_hash(bag: Path) -> None:
    def point_out(item: dict[str, Any]) -> None:
        item["files"] = [{"key": "../../../../../secret.txt", "sha256": "0" * 64, "size": 1, "mimetype": "text/plain"}]

    _describe(_version_folder(bag), point_out)
    _rebag(bag)


def test_a_wrong_hash_for_an_outside_file_does_not_print_its_hash(
    target: Node,  # noqa: F811
    bag: Path,
    secret: Path,
) -> None:
    _point_out_with_a_wrong_hash(bag)
    _refused(target, bag)


def test_a_symlink_in_the_payload_pointing_out_is_refused(
    target: Node,  # noqa: F811
    bag: Path,
    tmp_path: Path,
) -> None:
    payload = _version_folder(bag) / "files" / "table.csv"
    outside = tmp_path / "outside.csv"
    shutil.move(payload, outside)
    payload.symlink_to(outside)  # same bytes: every manifest still matches
    assert "symbolic link" in _refused(target, bag)


def test_a_symlinked_folder_in_the_payload_is_refused(
    target: Node,  # noqa: F811
    bag: Path,
    tmp_path: Path,
) -> None:
    folder = _version_folder(bag)
    outside = tmp_path / "outside-files"
    shutil.move(folder / "files", outside)
    (folder / "files").symlink_to(outside, target_is_directory=True)
    assert "symbolic link" in _refused(target, bag)


@pytest.mark.parametrize("tag_file", ["bag-info.txt", "bagit.txt", "tagmanifest-sha256.txt"])
def test_a_symlinked_tag_file_does_not_show_the_file_it_points_at(
    target: Node,  # noqa: F811
    bag: Path,
    tmp_path: Path,
    tag_file: str,
) -> None:
    # A file of the machine, like /etc/shadow: lines the bag reader cannot parse and would quote.
    shadow = tmp_path / "shadow"
    shadow.write_text("root:$6$salt$hash:19000:0:99999:7:::\nthe-private-line-without-a-colon\n")
    (bag / tag_file).unlink()
    (bag / tag_file).symlink_to(shadow)
    message = _refused(target, bag)
    assert "private-line" not in message and "$6$salt" not in message
    assert "symbolic link" in message


def _more_versions(bag: Path, count: int, last_key: str) -> None:
    """Turn the bag's one version into ``count`` versions of the same record; the file of the one
    read last is renamed to ``last_key``."""
    first = _version_folder(bag)
    item = json.loads((first / "osnode.json").read_text())
    for number in range(2, count + 1):
        version_id = id_of(secrets.randbits(ID_BITS - 1))
        shutil.copytree(first, first.parent / version_id)
        (first.parent / version_id / "osnode.json").write_text(
            json.dumps(item | {"version_id": version_id, "number": number})
        )
    last = sorted(first.parent.iterdir())[-1]
    _describe(last, lambda copy: copy.update(files=[item["files"][0] | {"key": last_key}]))
    _rebag(bag)


@pytest.mark.parametrize("bad_key", ["../table.csv", "sub/table.csv", "."])
def test_a_bad_key_in_the_last_of_17_versions_leaves_nothing_of_the_record(
    target: Node,  # noqa: F811
    bag: Path,
    bad_key: str,
) -> None:
    _more_versions(bag, 17, bad_key)
    assert len(list((bag / "data").glob("*/*/osnode.json"))) == 17
    _refused(target, bag)


def test_seventeen_good_versions_import_together(target: Node, bag: Path) -> None:  # noqa: F811
    _more_versions(bag, 17, "table.csv")
    summary = packages.import_bag(target, bag)
    assert (summary.versions, summary.skipped_versions) == (17, 0)
    with target.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == 17
        latest = conn.execute(select(records.c.latest_published_id)).scalar_one()
        assert conn.execute(select(versions.c.number).where(versions.c.id == latest)).scalar_one() == 17


def test_the_cli_refuses_with_one_line_and_no_outside_hash(
    cli: Cli,  # noqa: F811
    target: Node,  # noqa: F811
    bag: Path,
    secret: Path,
) -> None:
    _point_out_with_a_wrong_hash(bag)
    env = {"OSNODE_DATABASE_URL": target.settings.catalog_url}
    line = fails(cli("import", bag, "--data", target.settings.data_dir, env=env), "refused", "secret.txt")
    assert SECRET_SHA not in line
    _nothing_imported(target)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda item: item["metadata"].update(titles="not a list"), "titles"),
        (lambda item: item["metadata"].update(creators=[{"name": "X", "nameIdentifiers": [{"x": 1}]}]), "creators"),
        (lambda item: item.update(access={"level": "secret"}), "access.level"),
        (lambda item: item.update(access={"level": "embargoed"}), "access.embargo_until"),
        (lambda item: item.update(access={"level": "open", "embargo_until": "2030-01-01"}), "access.embargo_until"),
    ],
)
def test_metadata_and_access_pass_the_checks_a_deposit_passes(
    target: Node,  # noqa: F811
    bag: Path,
    change: Any,
    named: str,
) -> None:
    """A bag is someone else's input: its metadata and access are checked as a deposit's are."""
    _describe(_version_folder(bag), change)
    _rebag(bag)
    assert named in _refused(target, bag)
