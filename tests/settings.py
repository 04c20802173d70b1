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

from clinic.settings import *  # noqa: E402, F403
