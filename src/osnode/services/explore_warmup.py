"""Imported only by the explore fork server (``explore_worker``): loads what jobs would otherwise load each time.

Frictionless finds its plugins and builds its schemas on first use, a second of CPU that every job (a fresh
fork) would repeat. Only pure-Python work happens here: no library that starts threads (DuckDB, Arrow) is
used, because the fork server forks every job and a fork copies no thread.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import frictionless
from frictionless import Resource, system

with tempfile.TemporaryDirectory(prefix="osnode-warmup-") as folder, system.use_context(trusted=True):
    sample = Path(folder) / "sample.csv"  # a file, as jobs validate: its name goes through slugify
    sample.write_text("a,b\n1,x\n")
    frictionless.validate(Resource(str(sample), format="csv"))
