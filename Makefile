# Two commands: `make run` starts the whole site on embedded defaults, `make test` runs every test.
# Needs only Python 3.11 (and make); everything else is installed into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The PostgreSQL pass of `make test` (pytest-django creates and drops test_<name>).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clinic

.PHONY: run test lint audit browser-tools backup restore backup-compose restore-compose
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

# Backups (README, "Operations"). `make backup` and `make restore FILE=...` work on DATABASE_URL (the embedded
# SQLite by default, with its online backup API) through `manage.py backup` / `manage.py restore`, which encrypt
# to CLINIC_BACKUP_GPG_RECIPIENT and keep CLINIC_BACKUP_KEEP_DAYS of files in CLINIC_BACKUP_DIR.
backup: $(VENV)/.installed
	$(BIN)/python manage.py backup

restore: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/clinic-...sqlite3 [REPLACE=1]"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)" $(if $(REPLACE),--replace)

# The compose stack: pg_dump and pg_restore run inside the db container, the file (encrypted on this host with
# gpg when GPG_RECIPIENT is set) stays on this host. RESTORE_DB restores into another database (the drill).
BACKUP_DIR ?= var/backups
BACKUP_KEEP_DAYS ?= 35
COMPOSE_DB ?= docker compose exec -T db
POSTGRES_USER ?= clinic
POSTGRES_DB ?= clinic
RESTORE_DB ?= $(POSTGRES_DB)
GPG_RECIPIENT ?= $(CLINIC_BACKUP_GPG_RECIPIENT)
backup-compose restore-compose: SHELL := /bin/bash

backup-compose:
	@set -eu -o pipefail; umask 077; mkdir -p "$(BACKUP_DIR)"; \
	file="$(BACKUP_DIR)/clinic-$$(date -u +%Y%m%dT%H%M%SZ).dump"; \
	if [ -n "$(GPG_RECIPIENT)" ]; then \
	  file="$$file.gpg"; \
	  $(COMPOSE_DB) pg_dump -U $(POSTGRES_USER) -Fc $(POSTGRES_DB) \
	  | gpg --batch --yes --trust-model always --recipient "$(GPG_RECIPIENT)" --encrypt > "$$file.partial"; \
	else \
	  $(COMPOSE_DB) pg_dump -U $(POSTGRES_USER) -Fc $(POSTGRES_DB) > "$$file.partial"; \
	fi; \
	mv "$$file.partial" "$$file"; \
	find "$(BACKUP_DIR)" -maxdepth 1 -name 'clinic-*' -type f -mtime +$(BACKUP_KEEP_DAYS) -delete; \
	echo "$$file"

restore-compose:
	@test -n "$(FILE)" || { echo "usage: make restore-compose FILE=var/backups/clinic-...dump [RESTORE_DB=clinic_drill] [REPLACE=1]"; exit 2; }
	@set -eu -o pipefail; \
	case "$(FILE)" in *.gpg) gpg --batch --decrypt "$(FILE)";; *) cat "$(FILE)";; esac \
	| $(COMPOSE_DB) pg_restore -U $(POSTGRES_USER) -d $(RESTORE_DB) --no-owner --no-privileges \
	  --single-transaction --exit-on-error $(if $(REPLACE),--clean --if-exists); \
	echo "Restored $(FILE) into $(RESTORE_DB)."
