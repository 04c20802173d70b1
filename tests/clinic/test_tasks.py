"""The periodic jobs on beat's schedule: retention, and the heartbeat beat's health check reads."""

from __future__ import annotations

import datetime
import io
import secrets

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinic import tasks
from followup.models import CheckIn, CheckInAnswer
from tests.factories import VisitFactory

NOW = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC)
DAYS = datetime.timedelta(days=1)


def _answered_visit(therapist, completed_at: datetime.datetime) -> CheckIn:
    visit = VisitFactory(
        therapist=therapist,
        status="completed",
        completed_at=completed_at,
        performed_modality="swedish",
        baseline_pain=2,
    )
    checkin = CheckIn.objects.create(
        visit=visit,
        offset_seconds=24 * 3600,
        policy_hours=24,
        due_at=completed_at + DAYS,
        channels=["email"],
        status="answered",
        sent_at=completed_at + DAYS,
        token_hash=secrets.token_hex(32),
    )
    CheckInAnswer.objects.create(
        checkin=checkin, score=3, character="dull", radiating=False, answered_at=completed_at
    )
    return checkin


def test_the_daily_purge_removes_answers_past_the_retention_period(
    therapist, settings, celery_in_process
):
    settings.FOLLOWUP_RETENTION_DAYS = 365
    old = _answered_visit(therapist, NOW - 400 * DAYS)
    recent = _answered_visit(therapist, NOW - 10 * DAYS)

    with time_machine.travel(NOW, tick=False):
        tasks.purge_followups.delay()

    assert not CheckInAnswer.objects.filter(checkin=old).exists()
    assert CheckInAnswer.objects.filter(checkin=recent).exists()
    old.refresh_from_db()
    assert old.token_hash is None


def test_the_daily_session_cleanup_removes_only_expired_sessions(db, celery_in_process):
    expired, live = SessionStore(), SessionStore()
    for store in (expired, live):
        store["_auth_user_id"] = "1"
        store.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(minutes=1)
    )

    tasks.clear_sessions.delay()

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


@pytest.fixture
def with_broker(settings):
    """check_beat refuses embedded mode (no beat runs there); the tests run with a broker."""
    settings.CELERY_TASK_ALWAYS_EAGER = False


def _check_beat(*args: str) -> str:
    out = io.StringIO()
    call_command("check_beat", *args, stdout=out)
    return out.getvalue()


def test_beat_is_healthy_while_its_heartbeat_is_recent(with_broker, celery_in_process):
    with time_machine.travel(NOW, tick=False):
        tasks.heartbeat.delay()
    with time_machine.travel(NOW + datetime.timedelta(seconds=100), tick=False):
        assert "beat ok: the last heartbeat ran 100 s ago" in _check_beat()


def test_beat_is_unhealthy_once_heartbeats_stop_or_never_started(with_broker, celery_in_process):
    with pytest.raises(CommandError, match="no heartbeat recorded yet"):
        _check_beat()
    with time_machine.travel(NOW, tick=False):
        tasks.heartbeat.delay()
    with (
        time_machine.travel(NOW + datetime.timedelta(seconds=121), tick=False),
        pytest.raises(CommandError, match=r"ran 121 s ago \(limit 120 s\)"),
    ):
        _check_beat()


def test_beat_has_no_health_in_embedded_mode(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with pytest.raises(CommandError, match="embedded mode"):
        _check_beat()
