"""Serializers are pure: they may use the domain and lxml, never storage, services or the web."""

from __future__ import annotations

import ast
from pathlib import Path

import osnode.formats

FORMATS = Path(osnode.formats.__file__).parent
ALLOWED_RELATIVE = {"domain"}  # "..domain..." from inside osnode.formats
FORBIDDEN_TOP = {"sqlalchemy", "fastapi", "starlette", "httpx", "requests", "urllib3", "jinja2", "osnode"}


def test_formats_import_only_the_domain():
    modules = sorted(FORMATS.glob("*.py"))
    assert len(modules) >= 6
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                assert (node.module or "").split(".")[0] in ALLOWED_RELATIVE, f"{module.name}: ..{node.module}"
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] not in FORBIDDEN_TOP, f"{module.name}: {node.module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in FORBIDDEN_TOP, f"{module.name}: {alias.name}"
            assert not (isinstance(node, ast.ImportFrom) and node.level > 2), module.name
