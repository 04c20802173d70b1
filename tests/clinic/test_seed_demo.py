"""The demo data behind `make run`, laid out for today on every run."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from followup.models import CheckInStatus, Escalation
from intake.models import Client, HealthRecordAccess, Visit, VisitStatus
from intake.services import visit_complete
from messaging.models import OutboxMessage
from screening.models import Decision
from tests.factories import ClientFactory, IntakeFactory, UserFactory, VisitFactory

# Mid-morning UTC on two different days: the demo is laid out on the first, `make run`
# happens again on the second.
FIRST_DAY = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
TWO_DAYS_LATER = FIRST_DAY + dt.timedelta(days=2)


@pytest.fixture
def demo_settings(db, settings):
    settings.EMAIL_BACKEND = "messaging.channels.OutboxEmailBackend"
    settings.SMS_BACKEND = "outbox"
    settings.FOLLOWUP_OFFSETS = [120, 240, 360]
    settings.FOLLOWUP_QUIET_HOURS = None


def seed(at: dt.datetime = FIRST_DAY, *args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(at, tick=False):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(demo_settings):
    seed()


def _demo_visit_days() -> set[dt.date]:
    # The visits screened today (the new client booked tomorrow has no health history yet).
    visits = Visit.objects.filter(
        status=VisitStatus.SCHEDULED, client__email__endswith="@example.com", intake__isnull=False
    )
    return {timezone.localdate(v.scheduled_at) for v in visits}


def test_demo_creates_the_printed_logins_with_their_roles(seeded):
    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["therapist"].groups.filter(name="therapist").exists()
    assert users["frontdesk"].groups.filter(name="front_desk").exists()
    assert users["owner"].is_superuser
    assert users["therapist"].check_password("demo-therapist-2026")


def test_demo_covers_every_screening_decision_with_a_visit_today(seeded):
    scheduled = Visit.objects.filter(status=VisitStatus.SCHEDULED, intake__isnull=False)
    decisions = {visit.current_screening().decision for visit in scheduled}
    assert decisions == set(Decision.values)
    assert _demo_visit_days() == {FIRST_DAY.date()}


def test_demo_has_a_completed_visit_with_answers_and_an_escalation(seeded):
    visit = Visit.objects.get(status=VisitStatus.COMPLETED)
    assert timezone.localdate(visit.completed_at) == FIRST_DAY.date() - dt.timedelta(days=2)
    statuses = sorted(visit.checkins.values_list("status", flat=True))
    assert statuses == sorted([CheckInStatus.ANSWERED, CheckInStatus.ANSWERED, CheckInStatus.SENT])
    # Review at the first answer, raised to urgent at the second: one escalation, two levels.
    escalation = Escalation.objects.get(visit=visit)
    assert escalation.level == "urgent"
    assert [step["level"] for step in escalation.level_history] == ["review", "urgent"]
    assert OutboxMessage.objects.filter(body__contains="/f/").exists()


def test_demo_has_a_visit_tomorrow_whose_health_form_link_was_sent(seeded):
    visit = Visit.objects.get(client__email="lena.fischer@example.com")
    assert timezone.localdate(visit.scheduled_at) == FIRST_DAY.date() + dt.timedelta(days=1)
    assert visit.intake_links.get(purpose="invite").status == "sent"
    message = OutboxMessage.objects.get(to="lena.fischer@example.com", channel="email")
    assert "/i/" in message.body and "health form" in message.body


def test_seeding_again_the_same_day_keeps_what_the_person_did_with_the_demo(seeded):
    sam = Visit.objects.get(client__first_name="Sam", status=VisitStatus.SCHEDULED)
    with time_machine.travel(FIRST_DAY + dt.timedelta(hours=1), tick=False):
        visit_complete(visit=sam, by=sam.therapist, modality="sports")
    before = set(Visit.objects.values_list("pk", flat=True))

    output = seed(FIRST_DAY + dt.timedelta(hours=3))

    assert "already laid out for today" in output
    assert set(Visit.objects.values_list("pk", flat=True)) == before
    assert Visit.objects.get(pk=sam.pk).status == VisitStatus.COMPLETED


def test_on_a_later_day_the_demo_is_laid_out_again_for_that_day(seeded):
    demo_clients = Client.objects.count()
    old_visits = set(Visit.objects.values_list("pk", flat=True))

    output = seed(TWO_DAYS_LATER)

    assert f"Demo data laid out for today ({TWO_DAYS_LATER.date()})" in output
    assert Client.objects.count() == demo_clients
    assert not old_visits & set(Visit.objects.values_list("pk", flat=True))
    with time_machine.travel(TWO_DAYS_LATER, tick=False):
        assert _demo_visit_days() == {TWO_DAYS_LATER.date()}
    completed = Visit.objects.get(status=VisitStatus.COMPLETED)
    assert timezone.localdate(completed.completed_at) == FIRST_DAY.date()
    assert Escalation.objects.filter(visit=completed).count() == 1
    assert get_user_model().objects.filter(username="therapist").count() == 1


def test_refreshing_the_demo_leaves_other_clients_and_their_records_alone(seeded):
    therapist = get_user_model().objects.get(username="therapist")
    real = ClientFactory(first_name="Robin", last_name="Hale", email="robin.hale@example.com")
    intake = IntakeFactory(client=real, entered_by=therapist)
    visit = VisitFactory(client=real, intake=intake, therapist=therapist)
    HealthRecordAccess.objects.create(user=therapist, client=real, what="client page")
    OutboxMessage.objects.create(channel="email", to=real.email, subject="hi", body="hello")
    demo_amira = Client.objects.get(first_name="Amira")
    HealthRecordAccess.objects.create(user=therapist, client=demo_amira, what="client page")

    seed(TWO_DAYS_LATER)

    assert Client.objects.filter(pk=real.pk).exists()
    assert Visit.objects.filter(pk=visit.pk, scheduled_at=visit.scheduled_at).exists()
    assert HealthRecordAccess.objects.filter(client=real).count() == 1
    assert OutboxMessage.objects.filter(to=real.email).count() == 1
    assert not Client.objects.filter(pk=demo_amira.pk).exists()


def test_refresh_lays_the_demo_out_again_even_on_the_same_day(seeded):
    before = set(Client.objects.values_list("pk", flat=True))
    assert "laid out for today" in seed(FIRST_DAY, "--refresh")
    assert not before & set(Client.objects.values_list("pk", flat=True))


def test_a_real_user_with_a_demo_username_is_never_taken_over(demo_settings):
    UserFactory(username="therapist", email="tess@riverside.example", groups=["therapist"])
    with pytest.raises(CommandError, match="'therapist' exists and is not the demo's"):
        seed()
    assert not Client.objects.exists()
