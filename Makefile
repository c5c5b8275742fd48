# relance — make run (embedded, demo store) · make test (whole suite) · make bench
# Everything installs into .venv from uv.lock; only python3 (3.11+) is needed beforehand.

PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
RELANCE := $(VENV)/bin/relance
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run demo-order test browser lint typecheck bench clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"

install: $(UV)
	$(UV) sync --frozen --inexact --quiet

run: install
	$(RELANCE) migrate
	$(RELANCE) demo setup
	$(RELANCE) serve

demo-order: install
	$(RELANCE) demo order

# Debian's Chromium for the admin page's browser tests (installed only when running as root;
# without it those tests skip locally and fail in CI).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || echo "chromium unavailable: page tests will skip"

test: install browser
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n 2 --dist loadfile

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: install
	$(VENV)/bin/mypy

bench: install
	$(VENV)/bin/python -m bench

.PHONY: bench-enrollments  # options: make bench-enrollments ARGS="--n 1000 --db sqlite"
bench-enrollments: install
	$(VENV)/bin/python -m bench.enrollments $(ARGS)

clean:
	rm -rf $(VENV) .relance .mypy_cache .pytest_cache .ruff_cache
