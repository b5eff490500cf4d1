"""The README's examples work as written: its metadata example is deposited and published as the README says."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests import test_cli
from tests.test_cli import Cli, ok

# The CLI tests' fixtures: a node's data folder made by `osnode init`, and `osnode ARGS` in this process.
cli = test_cli.cli
folder = test_cli.folder

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_metadata() -> str:
    """The YAML block of the README's Deposit section, exactly as a reader would copy it."""
    section = README.read_text(encoding="utf-8").split("## Deposit", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert found, "the Deposit section has a YAML example"
    return found.group(1)


def test_the_readme_metadata_example_deposits_and_publishes(tmp_path: Path, folder: Path, cli: Cli) -> None:
    meta = tmp_path / "meta.yaml"
    meta.write_text(readme_metadata(), encoding="utf-8")
    data = tmp_path / "rainfall.csv"
    data.write_bytes(b"year,mm\n2001,1021\n")
    notes = tmp_path / "README.txt"
    notes.write_text("How the rain was measured.\n", encoding="utf-8")
    published = ok(cli("deposit", data, notes, "--metadata", meta, "--publish", "--json", "--data", folder)).json()
    assert published["state"] == "published"
    example = yaml.safe_load(readme_metadata())
    assert published["metadata"]["titles"][0]["title"] == example["titles"][0]["title"]
    [affiliation] = published["metadata"]["creators"][0]["affiliations"]
    assert affiliation["ror"] == example["creators"][0]["affiliations"][0]["ror"]
