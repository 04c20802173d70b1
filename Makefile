# The two commands a newcomer needs: `make run` and `make test`. `make help` lists the rest.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Python 3.11 or newer: python3 if it is new enough, else the first python3.1x that is.
# PYTHON=/path/to/python3.12 chooses one.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { echo $$p; exit 0; }; done; echo python3)
endif
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
# Which Python made .venv: a .venv made by another one is rebuilt.
VENV_MADE_BY := $(VENV)/.made-by-python-$(PYTHON_VERSION)

.DEFAULT_GOAL := help
.PHONY: help run test lint format bench venv lock css vendor clean

help: ## list the targets
	@echo "make <target>   (Python: $(PYTHON) $(or $(PYTHON_VERSION),not found))"
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' \
		$(firstword $(MAKEFILE_LIST))

# The embedded default: SQLite under var/, no Redis, follow-ups sent to the development
# outbox every few minutes, web on http://$(HOST):$(PORT)/. Two-factor sign-in is on as in
# production, with the printed demo logins exempt (here only: settings refuse an exemption
# when DEBUG is off); any other staff account sets up an authenticator at first sign-in.
DEMO_LOGINS := therapist,frontdesk,owner
run: venv ## the app with demo data on http://127.0.0.1:8000/ (SQLite, no Redis; PORT=8001)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py seed_demo
	DEBUG=1 SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} FOLLOWUP_OFFSETS=$${FOLLOWUP_OFFSETS:-2m,4m,6m} FOLLOWUP_QUIET_HOURS=$${FOLLOWUP_QUIET_HOURS:-none} \
		STAFF_2FA_REQUIRED=1 STAFF_2FA_EXEMPT=$(DEMO_LOGINS) \
		$(PY) manage.py rundemo --host $(HOST) --port $(PORT)

# Two workers (pytest-xdist), one per core of the machines the suite runs on, each with its
# own test database and Redis databases (tests/settings.py); the tests of a file run in the
# same worker. TEST_WORKERS=0 runs the whole suite in one process.
TEST_WORKERS ?= 2
test: venv ## the test suite (PYTEST_ARGS=... passes options to pytest; TEST_WORKERS=0: one process)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: venv ## ruff, the layer contracts, the system checks and the migrations check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

format: venv ## let ruff fix and format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv ## measure the hot paths (about 4 to 9 minutes; needs PostgreSQL and Redis)
	$(PY) bench/run.py

venv: $(STAMP) ## create .venv from the lock files (make run and make test do it)

$(VENV_MADE_BY):
	@if [ -z "$(PYTHON_VERSION)" ]; then \
		echo "No Python found as '$(PYTHON)'. Install Python 3.11 or newer, or point to it:" \
			"make PYTHON=/path/to/python3.11 ..." >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "This project needs Python 3.11 or newer; $(PYTHON) is $(PYTHON_VERSION)." \
			"Install 3.11+ and run: make PYTHON=python3.11 ..." >&2; exit 1; }
	@if [ -e $(VENV) ]; then \
		echo "Rebuilding $(VENV) with $(PYTHON) $(PYTHON_VERSION): another Python made it"; \
		rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	@touch $@

# Every package is pinned with its hashes: a tampered or substituted download fails the install.
$(STAMP): $(VENV_MADE_BY) requirements.lock requirements-dev.lock pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements.lock -r requirements-dev.lock
	@touch $@

# Pin requirements*.in into the lock files (with hashes); existing pins are kept unless
# UPGRADE=1.
LOCK_FLAGS = --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links $(if $(UPGRADE),--upgrade,)
lock: venv ## pin requirements*.in into the lock files (UPGRADE=1 to upgrade)
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) \
		-o requirements.lock requirements.in
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) \
		-o requirements-dev.lock requirements-dev.in

css: venv ## write the decision colours' stylesheet from clinical/vocabulary.yaml
	$(PY) -c "from clinical.vocabulary import stylesheet; print(stylesheet(), end='')" \
		> static/css/vocabulary.css

vendor: ## refresh Bootstrap from its npm package (needs npm; the files are committed)
	cd $$(mktemp -d) && npm pack bootstrap@5.3 >/dev/null && tar xzf bootstrap-*.tgz && \
		cp package/dist/css/bootstrap.min.css* package/dist/js/bootstrap.bundle.min.js* \
		package/LICENSE $(CURDIR)/static/vendor/bootstrap/

clean: ## remove .venv, the demo database (var/) and test artifacts
	rm -rf $(VENV) var test-artifacts
