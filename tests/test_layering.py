"""The layer map, checked on every module's imports: domain <- storage <- services <- web/cli/oaipmh, with
formats, software and explore beside storage. Imports point down; edges do not import each other's insides."""

from __future__ import annotations

import ast
from pathlib import Path

import osnode

SRC = Path(osnode.__file__).parent

# What each package of ours may import (besides itself). A top-level module counts as a package.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "config": set(),
    "storage": {"domain"},
    "formats": {"domain"},
    "explore": {"domain", "software"},  # xlsx packages are checked with the archives' one member rule
    "software": {"domain", "formats"},  # a Software Heritage deposit entry is written with the formats' XML helpers
    "services": {"domain", "config", "storage", "formats", "software", "explore"},
    "oaipmh": {"domain", "formats", "services"},
    "client": {"domain"},
    # The web renders with the formats' pure functions and explore's pure helpers (colours, CSV of a result).
    "web": {"domain", "services", "formats", "oaipmh", "explore", "software"},
    # The hooks, and the node's own jobs, panels and routes as the default plugin.
    "plugins": {"services", "web", "oaipmh"},
    # The one place that builds the app and the scheduler from the plugins.
    "app": {"plugins", "services", "web", "domain"},  # domain: the trusted viewer of the CLI's in-process app
    "cli": {"domain", "config", "services", "client", "web", "oaipmh", "plugins", "app"},
    "__main__": {"cli"},
    "__init__": set(),
}

# Known breaks of the map, each to be removed by the change that mends it. The test fails when a debt
# is paid and still listed here, so this list only shrinks.
DEBTS: set[tuple[str, str]] = set()

# Libraries a pure layer must not reach for: no database, no HTTP, no templates.
IMPURE = {"sqlalchemy", "fastapi", "starlette", "httpx", "requests", "urllib3", "jinja2", "alembic", "psycopg"}
PURE = {"domain", "formats"}


def _modules() -> list[Path]:
    # migrations are Alembic's scripts and samples/ is sample content, not the node's code.
    return sorted(m for m in SRC.rglob("*.py") if not {"migrations", "samples"} & set(m.relative_to(SRC).parts))


def _package(module: Path) -> str:
    parts = module.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else module.stem


def _imports(module: Path) -> list[tuple[str, str]]:
    """(what is imported, as a package of ours or a top-level library name, the line for messages)."""
    found: list[tuple[str, str]] = []
    # The package path of the module (osnode/services/archive/ingest.py -> services, archive): relative imports
    # are resolved against it, however deep the module sits.
    here = module.relative_to(SRC).parts[:-1]
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")
                found.append((top[1] if top[0] == "osnode" and len(top) > 1 else top[0], alias.name))
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level == 0:
                top = name.split(".")
                target = top[1] if top[0] == "osnode" and len(top) > 1 else top[0]
            else:
                if node.level - 1 > len(here):
                    raise AssertionError(f"{module}: relative import reaching above the package")
                resolved = [*here[: len(here) - (node.level - 1)], *(name.split(".") if name else [])]
                if not resolved:  # "from .. import x" at the top: x is the package
                    found.extend((alias.name, f"{'.' * node.level}{alias.name}") for alias in node.names)
                    continue
                target = resolved[0]
            found.append((target, f"{'.' * node.level}{name}"))
    return found


OURS = set(ALLOWED)


def test_every_package_is_on_the_map() -> None:
    packages = {_package(m) for m in _modules()}
    assert packages - OURS == set(), "add the new package to ALLOWED in tests/test_layering.py"


def test_imports_follow_the_layer_map() -> None:
    seen: set[tuple[str, str]] = set()
    wrong: list[str] = []
    for module in _modules():
        package = _package(module)
        for target, line in _imports(module):
            if target == package:
                continue
            if target in OURS:
                if target in ALLOWED[package]:
                    continue
                if (package, target) in DEBTS:
                    seen.add((package, target))
                    continue
                wrong.append(f"{module.relative_to(SRC)}: {package} may not import {target} ({line})")
            elif package in PURE and target in IMPURE:
                wrong.append(f"{module.relative_to(SRC)}: {package} is pure and may not import {target}")
    assert wrong == []
    assert seen == DEBTS, f"paid debts still listed: {sorted(DEBTS - seen)}"
