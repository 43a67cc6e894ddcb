# Leadline: `make run` serves the app with demo data; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Debian's Chromium drives the browser tests (Playwright's own download is not used).
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test setup venv assets migrate lint format clean bench load

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (python3.11 not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.stamp-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.stamp-deps

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.stamp

setup: venv assets

migrate: setup
	$(BIN)/python manage.py migrate --noinput

# The web server and one background worker beside it (imports, exports, bulk
# actions, emails, the schedule); Ctrl-C stops both.
run: migrate
	$(BIN)/python manage.py seed_demo
	@echo "Leadline on http://127.0.0.1:$(PORT)/  (log in as rep/rep, manager/manager or admin/admin)"
	@setsid $(BIN)/python manage.py worker & worker=$$!; \
	trap 'kill -TERM -$$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=crm.settings.test
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest $(PYTEST_ARGS)

# Benchmark on its own database (bench-N.sqlite3, or leadline_bench_N on the
# PostgreSQL server of DATABASE_URL): make bench BENCH_ARGS="--leads 1000000"
bench: setup
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The load generator (locust), only for `make load`.
$(VENV)/.stamp-load: pyproject.toml | $(VENV)/.stamp-deps
	$(BIN)/pip install --quiet -e '.[load]'
	touch $@

# Load run: gunicorn + PostgreSQL (database leadline_load on the server of DATABASE_URL,
# default the local one), 20 locust users for 60 s, then a check that nothing was lost:
# make load LOAD_ARGS="--users 20 --duration 60"; with background workers on Redis and an
# import running: make load LOAD_ARGS="--jobs --workers 2" (benchmarks/load/jobs.py)
load: setup $(VENV)/.stamp-load
	$(BIN)/python benchmarks/load/run.py $(LOAD_ARGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules staticfiles
