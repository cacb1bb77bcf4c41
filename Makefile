# The one entry point for developers and CI: `make run`, `make test`, `make lint`, `make fmt`.
# Every tool is called from .venv/bin, so nothing needs activating first.

VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
# The embedded PostgreSQL and Redis for whatever DATABASE_URL / REDIS_URL leaves unset.
DEVSERVERS := $(PYTHON) scripts/devservers.py exec --
# Rerun `make install` when pyproject.toml is newer than this stamp.
INSTALLED := $(VENV)/.installed

# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-k accept -x".
PYTEST_ARGS ?=

.DEFAULT_GOAL := install
.PHONY: install run serve test test-fast e2e bench browser pgbouncer lint fmt vendor clean-data help

help:  ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

install: $(INSTALLED)  ## Create .venv and install the project with its dev tools.

$(INSTALLED): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	touch $@

# The servers stay up across the three steps; Ctrl-C stops honcho (web, worker, beat) and then
# devservers stops PostgreSQL and Redis. `exec` hands the signals to honcho itself, not to sh.
run: install  ## Migrate, seed demo data once, and run web, worker and beat on :8000.
	PATH="$(CURDIR)/$(BIN):$$PATH" $(DEVSERVERS) sh -c '\
		python manage.py migrate --noinput && \
		python manage.py seed_demo --if-empty && \
		exec honcho start -f Procfile.dev'

# The production processes (Procfile: gunicorn, worker, beat) on the embedded servers, as a
# deployment runs them: static files collected and served by WhiteNoise, DEBUG off.
serve: install  ## Migrate, collect static files and run the production Procfile (gunicorn) on :8000.
	PATH="$(CURDIR)/$(BIN):$$PATH" DEBUG=false $(DEVSERVERS) sh -c '\
		python manage.py migrate --noinput && \
		python manage.py seed_demo --if-empty && \
		python manage.py collectstatic --noinput --verbosity 0 && \
		exec honcho start -f Procfile --port 8000'

# One pytest process per core (pytest-xdist), each with its own test database; coverage is
# combined across them. loadgroup keeps a module marked xdist_group in one process. PYTEST_ARGS reach pytest as separate words through "$$@", quotes intact.
test: install browser pgbouncer  ## Check for missing migrations, then run pytest with branch coverage.
	$(DEVSERVERS) sh -c '\
		$(PYTHON) manage.py makemigrations --check --dry-run && \
		exec $(BIN)/pytest -n auto --dist loadgroup --cov --cov-report=term-missing:skip-covered "$$@"' \
		sh $(PYTEST_ARGS)

# The inner loop: no coverage, and neither the browser tests (make e2e) nor the ones that start
# a Celery worker (tests/integration); the first failure stops the run.
test-fast: install  ## Run the suite in parallel without coverage, browser or worker tests.
	$(DEVSERVERS) sh -c 'exec $(BIN)/pytest -n auto --dist loadgroup -x -m "not e2e and not integration" "$$@"' \
		sh $(PYTEST_ARGS)

# Without coverage: a subset of the suite cannot reach the 90% the full run must.
e2e: install browser  ## Run only the browser tests (tests/e2e).
	$(DEVSERVERS) sh -c 'exec $(BIN)/pytest tests/e2e "$$@"' sh $(PYTEST_ARGS)

# Not part of `make test`: loads a scale tier once (minutes at M) and takes as long again to time
# it. DEBUG off as in production; static files collected for gunicorn. BENCH_ARGS reach
# `manage.py bench`, e.g. make bench BENCH_ARGS="--tier S --runs 10 --outbox 10000".
BENCH_ARGS ?=
bench: install  ## Benchmark pages, reports, writes, the outbox and gunicorn at a scale tier (docs/performance.md).
	PATH="$(CURDIR)/$(BIN):$$PATH" DEBUG=false $(DEVSERVERS) sh -c '\
		python manage.py migrate --noinput && \
		python manage.py collectstatic --noinput --verbosity 0 && \
		exec python manage.py bench "$$@"' sh $(BENCH_ARGS)

# The browser tests drive Debian's chromium, never a browser `playwright install` downloads.
# Installing it needs root (CI, containers); anyone else gets the command to run, and tests/e2e
# skips itself until chromium is there (unless CI is set: then the browser tests fail).
browser:  ## Install Debian's chromium for the browser tests when it is missing (as root).
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing chromium for the browser tests"; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation; \
	else \
		echo "chromium is missing, so tests/e2e will skip: sudo apt-get install chromium fonts-liberation"; \
	fi

# The PgBouncer test (tests/integration/test_pgbouncer.py) needs Debian's pgbouncer; installed
# like chromium, as root, and skipped elsewhere until it is there.
pgbouncer:  ## Install Debian's pgbouncer for the transaction-pooling test when it is missing (as root).
	@if command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing pgbouncer for the transaction-pooling test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; \
	else \
		echo "pgbouncer is missing, so its test will skip: sudo apt-get install pgbouncer"; \
	fi

lint: install  ## Fail on lint errors, unformatted code or type errors.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

fmt: install  ## Format the code and apply the safe lint fixes.
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

vendor:  ## Refresh the vendored front-end files under static/vendor.
	bash scripts/vendor_frontend.sh

# Destructive: deletes the embedded database (and Redis files, beat schedule) for good.
# A run still using the servers makes it refuse; servers a crashed run left behind are
# stopped first, so no server keeps running on deleted files.
clean-data:  ## DESTRUCTIVE: delete .data/, the local database with it.
	if [ -x $(PYTHON) ]; then $(PYTHON) scripts/devservers.py stop; fi
	rm -rf .data
