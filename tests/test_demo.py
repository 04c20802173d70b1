"""The demo data behind `make run`."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from followup.models import CheckInStatus, Escalation, OutboxMessage
from intake.models import Visit, VisitStatus
from screening.models import Decision


@pytest.fixture
def seeded(db, settings):
    settings.EMAIL_BACKEND = "followup.channels.OutboxEmailBackend"
    settings.SMS_BACKEND = "outbox"
    settings.FOLLOWUP_OFFSETS = [120, 240, 360]
    settings.FOLLOWUP_QUIET_HOURS = None
    call_command("seed_demo", stdout=io.StringIO())


def test_demo_creates_the_printed_logins_with_their_roles(seeded):
    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["therapist"].groups.filter(name="therapist").exists()
    assert users["frontdesk"].groups.filter(name="front_desk").exists()
    assert users["owner"].is_superuser
    assert users["therapist"].check_password("demo-therapist-2026")


def test_demo_covers_every_screening_decision(seeded):
    scheduled = Visit.objects.filter(status=VisitStatus.SCHEDULED)
    decisions = {visit.current_screening().decision for visit in scheduled}
    assert decisions == set(Decision.values)


def test_demo_has_a_completed_visit_with_answers_and_an_escalation(seeded):
    visit = Visit.objects.get(status=VisitStatus.COMPLETED)
    statuses = sorted(visit.checkins.values_list("status", flat=True))
    assert statuses == sorted([CheckInStatus.ANSWERED, CheckInStatus.ANSWERED, CheckInStatus.SENT])
    levels = set(Escalation.objects.filter(visit=visit).values_list("level", flat=True))
    assert levels == {"review", "urgent"}
    assert OutboxMessage.objects.filter(body__contains="/f/").exists()


def test_demo_seeding_twice_changes_nothing(seeded):
    before = Visit.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Visit.objects.count() == before
