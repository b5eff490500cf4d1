"""Source trees and git repositories built for real in each test (git is on the test machine)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ana Silva",
    "GIT_AUTHOR_EMAIL": "ana@example.org",
    "GIT_COMMITTER_NAME": "Ana Silva",
    "GIT_COMMITTER_EMAIL": "ana@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str, date: int = 1_700_000_000) -> str:
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": f"{date} +0200", "GIT_COMMITTER_DATE": f"{date} +0200"}
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, check=True)
    return done.stdout.decode().strip()


def make_tree(root: Path) -> Path:
    """Subdirectories, empty files and directories, executable bits, symlinks, a non-UTF-8 name."""
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "empty-dir").mkdir()
    (root / "README.md").write_text("# Demo\n\nA small program.\n")
    (root / "empty.txt").write_bytes(b"")
    (root / "src" / "pkg" / "__init__.py").write_text("VALUE = 42\n")
    (root / "src" / "pkg" / "a.py").write_text("\n".join(f"line {i}" for i in range(1, 40)) + "\n")
    run = root / "run.sh"
    run.write_text("#!/bin/sh\necho hi\n")
    run.chmod(0o755)
    (root / "docs" / "guide.txt").write_bytes(b"same bytes\n")
    (root / "docs" / "copy.txt").write_bytes(b"same bytes\n")
    os.symlink("README.md", root / "link-to-readme")
    os.symlink("../src", root / "docs" / "src-link")
    (root / os.fsdecode(b"caf\xe9-latin1.txt")).write_bytes(b"latin-1 name\n")
    # Sort order edge: "a" dir vs "a.txt" and "a-b": git sorts the dir as "a/".
    (root / "a").mkdir()
    (root / "a" / "x").write_text("x\n")
    (root / "a.txt").write_text("a\n")
    (root / "a-b").write_text("a-b\n")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "tree")


CODEMETA = """{
  "@context": "https://w3id.org/codemeta/3.0",
  "@type": "SoftwareSourceCode",
  "name": "demo-tool",
  "version": "2.1.0",
  "license": "https://spdx.org/licenses/Apache-2.0",
  "keywords": ["demo", "archiving"],
  "author": [{"@type": "Person", "givenName": "Ana", "familyName": "Silva",
              "@id": "https://orcid.org/0000-0002-1825-0097", "affiliation": {"name": "Uni"}}]
}
"""


def make_repo(root: Path) -> Path:
    """A repository with history: commits, an annotated and a light tag, branches, a merge, a symlink,
    an executable, an empty file, a non-UTF-8 name and a codemeta.json."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# demo-tool\n")
    (root / "codemeta.json").write_text(CODEMETA)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "First commit", date=1_700_000_000)
    (root / "src").mkdir()
    (root / "src" / "main.py").write_text("\n".join(f"print({i})" for i in range(30)) + "\n")
    (root / "empty").write_bytes(b"")
    tool = root / "tool.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    os.symlink("src/main.py", root / "main-link")
    (root / os.fsdecode(b"na\xefve.txt")).write_bytes(b"x\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Add sources\n\nWith a body.", date=1_700_000_100)
    git(root, "tag", "-a", "v1.0", "-m", "Release 1.0", date=1_700_000_150)
    git(root, "checkout", "-q", "-b", "feature")
    (root / "src" / "feature.py").write_text("FEATURE = True\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Feature work", date=1_700_000_200)
    git(root, "checkout", "-q", "main")
    (root / "CHANGES").write_text("changes\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Changes on main", date=1_700_000_300)
    git(root, "merge", "-q", "--no-ff", "feature", "-m", "Merge feature", date=1_700_000_400)
    git(root, "tag", "light", date=1_700_000_450)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")
