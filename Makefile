# The two commands of the README: `make demo` and `make test`. Each installs what it needs:
# uv (from PyPI, into .tools/ when the machine has none) and the locked environment (uv.lock).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
UV_VERSION := 0.13.8
PYTHON ?= python3

.PHONY: demo test lint bench env

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

env: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

demo: env
	$(UV) run --frozen osnode demo

lint: env
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

test: env lint
	$(UV) run --frozen pytest -n 2 --dist loadfile

bench: env
	$(UV) run --frozen python bench/run.py
