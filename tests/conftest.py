from __future__ import annotations

import datetime as dt
import os

import pytest
import time_machine

from tests.factories import ClientFactory, IntakeFactory, UserFactory


@pytest.fixture(autouse=True, scope="session")
def _clock_at_test_clock():
    """With TEST_CLOCK=HH:MM, run the session from that time of day today (UTC), the clock
    ticking: time-of-day rules (quiet hours, "tomorrow", a day's end) are tried at any hour
    (e.g. `TEST_CLOCK=02:30 make test`). Processes the tests start keep the real clock."""
    hour = os.environ.get("TEST_CLOCK", "").strip()
    if not hour:
        yield
        return
    start = dt.datetime.combine(dt.date.today(), dt.time.fromisoformat(hour), dt.UTC)
    with time_machine.travel(start, tick=True):
        yield


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """Let the test client talk plain HTTP; production keeps TLS redirects and secure cookies."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture(autouse=True)
def _no_second_sign_in_step(settings):
    """Two-factor sign-in is not under test here: its own tests turn STAFF_2FA_REQUIRED on
    (tests/security/test_two_factor.py, tests/browser/test_two_factor.py). Production has it
    on whenever DEBUG is off."""
    settings.STAFF_2FA_REQUIRED = False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords cheaply; production keeps Django's default PBKDF2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def celery_in_process():
    """Run Celery tasks eagerly whatever the broker settings (the app reads them once)."""
    from clinic.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def therapist(db):
    return UserFactory(username="tess", first_name="Tess", last_name="Ng", groups=["therapist"])


@pytest.fixture
def front_desk(db):
    return UserFactory(username="frank", first_name="Frank", groups=["front_desk"])


@pytest.fixture
def superuser(db):
    return UserFactory(username="owner", is_superuser=True)


@pytest.fixture
def client_with_intake(db, therapist):
    client = ClientFactory()
    IntakeFactory(client=client, entered_by=therapist)
    return client


@pytest.fixture
def therapist_client(client, therapist):
    client.force_login(therapist)
    return client


@pytest.fixture
def front_desk_client(client, front_desk):
    client.force_login(front_desk)
    return client
