"""The follow-up cast: a completed visit with revealing health data, frozen time, locmem
transports (Django's locmem email backend, LocmemSMSBackend) and Celery run in-process."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from celery import current_app
from celery.signals import task_prerun
from django.core import mail
from kombu.exceptions import OperationalError

from followup import escalations
from messaging import dispatch
from messaging.channels import LocmemSMSBackend
from tests.factories import CheckInFactory, ClientFactory, IntakeFactory, VisitFactory

# A Tuesday morning, outside quiet hours (21-08) in UTC and in London.
NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=datetime.UTC)
HOURS = datetime.timedelta(hours=1)
LINK = re.compile(r"https://clinic\.example/f/([A-Za-z0-9_-]+)/")

# What a visit and its intake reveal; none of it may ever appear in a message.
CONDITION = "herniated_disc"
CONDITION_NOTES = "L4-L5 toward spinal canal"
MODALITY = "deep_tissue"
REGION = "lumbar"
THERAPIST_NOTES = "client guarded the lower back"


@pytest.fixture(autouse=True)
def followup_settings(settings):
    settings.FOLLOWUP_OFFSETS = [24 * 3600, 48 * 3600, 72 * 3600]
    settings.FOLLOWUP_QUIET_HOURS = (21, 8)
    settings.FOLLOWUP_TOKEN_DAYS = 7
    settings.FOLLOWUP_MAX_ATTEMPTS = 5
    settings.TIME_ZONE = "UTC"
    settings.SITE_URL = "https://clinic.example"
    settings.CLINIC_NAME = "Riverside Massage Clinic"
    settings.CLINIC_PHONE = "+44 20 7946 0000"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "locmem"
    settings.FOLLOWUP_THERAPIST_PHONES = {}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    LocmemSMSBackend.outbox.clear()
    mail.outbox = []
    yield settings
    LocmemSMSBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _in_process(celery_in_process):
    """Run every follow-up test's tasks in-process."""


@pytest.fixture
def task_runs():
    """Record each task run in-process, as (task name, its arguments), in order."""
    runs: list[tuple[str, object]] = []

    def record(sender=None, args=(), **kwargs):
        runs.append((sender.name, tuple(args)))

    task_prerun.connect(record, weak=False)
    yield runs
    task_prerun.disconnect(record)


@pytest.fixture
def broker_down(monkeypatch):
    """Refuse every publish of the follow-up tasks, as Celery does when Redis is not answering."""

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for name in (dispatch.SEND_TASK, escalations.NOTIFY_TASK):
        monkeypatch.setattr(current_app.tasks[name], "apply_async", refuse)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (the enqueues) when the block ends, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def frozen():
    """Freeze time at NOW; `frozen.move_to(...)` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def make_visit(*, client=None, completed_at=NOW, baseline_pain=3, **extra):
    """Return a completed visit whose intake holds a condition, a modality and a region."""
    client = client or ClientFactory()
    intake = IntakeFactory(
        client=client,
        planned_modality=MODALITY,
        focus_regions=[REGION],
        conditions=[{"code": CONDITION, "acute": False, "notes": CONDITION_NOTES}],
        pain_regions=[REGION],
        pain_score=baseline_pain,
        free_text=THERAPIST_NOTES,
    )
    return VisitFactory(
        client=client,
        intake=intake,
        planned_modality=MODALITY,
        focus_regions=[REGION],
        status="completed",
        status_reason=THERAPIST_NOTES,
        completed_at=completed_at,
        performed_modality=MODALITY,
        baseline_pain=baseline_pain,
        **extra,
    )


@pytest.fixture
def visit(db):
    return make_visit()


@pytest.fixture
def answerable(visit):
    """A sent 24 h check-in and its link token."""
    checkin = CheckInFactory(visit=visit, policy_hours=24, sent=True)
    return checkin, checkin.token


def answer_data(**overrides) -> dict:
    data = {"score": "3", "character": "dull", "radiating": "no", "note": ""}
    data.update(overrides)
    return data


def links_in(text: str) -> list[str]:
    return LINK.findall(text)
