# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench venv lock css vendor clean

venv: $(STAMP)

# Every package is pinned with its hashes: a tampered or substituted download fails the install.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements.lock -r requirements-dev.lock
	touch $(STAMP)

# Pin requirements*.in into the lock files (with hashes); existing pins are kept unless
# UPGRADE=1.
LOCK_FLAGS = --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links $(if $(UPGRADE),--upgrade,)
lock: venv
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) \
		-o requirements.lock requirements.in
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile $(LOCK_FLAGS) \
		-o requirements-dev.lock requirements-dev.in

# The embedded default: SQLite under var/, no Redis, follow-ups sent to the development
# outbox every few minutes, web on http://$(HOST):$(PORT)/. Two-factor sign-in is on as in
# production, with the printed demo logins exempt (here only: settings refuse an exemption
# when DEBUG is off); any other staff account sets up an authenticator at first sign-in.
DEMO_LOGINS := therapist,frontdesk,owner
run: venv
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py seed_demo
	DEBUG=1 SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} FOLLOWUP_OFFSETS=$${FOLLOWUP_OFFSETS:-2m,4m,6m} FOLLOWUP_QUIET_HOURS=$${FOLLOWUP_QUIET_HOURS:-none} \
		STAFF_2FA_REQUIRED=1 STAFF_2FA_EXEMPT=$(DEMO_LOGINS) \
		$(PY) manage.py rundemo --host $(HOST) --port $(PORT)

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv
	$(PY) bench/run.py

# Write the decision and escalation colours from clinical/vocabulary.yaml (a test checks it).
css: venv
	$(PY) -c "from clinical.vocabulary import stylesheet; print(stylesheet(), end='')" \
		> static/css/vocabulary.css

# Refresh Bootstrap from its npm package (needs npm; the files are committed).
vendor:
	cd $$(mktemp -d) && npm pack bootstrap@5.3 >/dev/null && tar xzf bootstrap-*.tgz && \
		cp package/dist/css/bootstrap.min.css* package/dist/js/bootstrap.bundle.min.js* \
		package/LICENSE $(CURDIR)/static/vendor/bootstrap/

clean:
	rm -rf $(VENV) var test-artifacts
