"""Importing a deposit package reads only the package's own files: a metadata.xml or an archive
that is a symbolic link to a file elsewhere on the machine is refused, and nothing is archived."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from osnode.domain.errors import InvalidInput
from osnode.services import archive
from osnode.services.node import Node
from osnode.software import swhdeposit
from osnode.storage.catalog import versions
from tests.conftest import Account


@pytest.mark.parametrize("name", [swhdeposit.METADATA_FILE, swhdeposit.ARCHIVE_FILE, swhdeposit.MANIFEST_FILE])
def test_a_package_file_linked_out_of_the_package_is_refused(
    node: Node, admin: Account, repo: Path, tmp_path: Path, name: str
) -> None:
    version, _ = archive.archive_software(node, admin.viewer, repo, publish=True)
    out = tmp_path / "package"
    archive.export_deposit(node, admin.viewer, version.id, out)
    # The same bytes, elsewhere: only the link is wrong, so only the rule on links can refuse it.
    outside = tmp_path / f"elsewhere-{name}"
    shutil.move(out / name, outside)
    (out / name).symlink_to(outside)
    with node.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(versions)).scalar_one()
    with pytest.raises(InvalidInput, match="symbolic link"):
        archive.import_deposit(node, admin.viewer, out, publish=True)
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == before
