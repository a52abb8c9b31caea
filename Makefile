# Two commands: `make run` starts the whole site on embedded defaults, `make test` runs every test.
# Needs only Python 3.11 (and make); everything else is installed into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The PostgreSQL pass of `make test` (pytest-django creates and drops test_<name>).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clinic

.PHONY: run test lint audit browser-tools
# Test-only tools from the npm registry (axe-core, the Nu HTML Checker), pinned by tests/browser/package-lock.json.
BROWSER_TOOLS := tests/browser/node_modules/.package-lock.json

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python manage.py runlocal

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Known vulnerabilities in every installed package (pip-audit, PyPI's advisory data). A machine that cannot reach
# that data is told so plainly and the step passes, having checked nothing; a vulnerability found fails it.
audit: $(VENV)/.installed
	$(BIN)/python .ci/pip_audit.py

# First pass: the unit tests on SQLite. Second pass: everything on PostgreSQL, with the end-to-end tests
# (gunicorn, Celery workers and beat on Redis, a real SMTP server) and the browser tests.
# Outside CI a missing PostgreSQL, Redis or Chromium skips those tests; with CI=true it fails them.
# Without npm (a machine with only Python) the browser tests skip outside CI; CI installs npm first.
browser-tools:
	@if command -v npm >/dev/null; then \
	  [ -f $(BROWSER_TOOLS) ] && [ $(BROWSER_TOOLS) -nt tests/browser/package-lock.json ] \
	  || npm ci --prefix tests/browser --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else echo "npm not found: browser and HTML checks will be skipped"; fi

test: lint browser-tools
	$(BIN)/python -m pytest -m "not postgres and not e2e and not browser"
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest
