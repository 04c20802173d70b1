"""Settings for the test run: the real settings, given what DEBUG-off settings demand.

The tests run with DEBUG off, as production does, so the settings insist on a real
SECRET_KEY, an EMAIL_URL and an SMS_BACKEND; test values are filled in here only where the
environment sets none. Subprocesses started by the tests inherit them.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "tests-only-key-" + "0123456789abcdef" * 4)
os.environ.setdefault("EMAIL_URL", "outbox:")
os.environ.setdefault("SMS_BACKEND", "outbox")


# Under `pytest -n N` (pytest-xdist; `make test` runs two workers) each worker has its own
# test database (pytest-django names it) and its own Redis databases.
from tests.support.environment import worker_redis_databases  # noqa: E402

os.environ.update(worker_redis_databases(os.environ))

from clinic.settings import *  # noqa: E402, F403
