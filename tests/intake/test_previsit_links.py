"""Health form links: scheduled when a visit is booked, sent by the tick like every link
message (quiet hours, one live link, a reminder the day before), moved, cancelled, resent."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from intake import previsit
from intake.linkmodels import IntakeLink
from intake.services import visit_cancel, visit_change_plan
from messaging import dispatch
from messaging.links import hash_token
from messaging.models import LinkStatus
from tests.factories import ClientFactory
from tests.intake.previsit_support import book

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings, celery_in_process):
    settings.FOLLOWUP_QUIET_HOURS = None


def _tick(capture):
    with capture(execute=True):
        return dispatch.tick()


def test_a_visit_booked_tomorrow_gets_its_link_at_once(django_capture_on_commit_callbacks):
    visit = book(hours_ahead=30)
    link = visit.intake_links.get(purpose="invite")
    reminder = visit.intake_links.get(purpose="reminder")
    assert link.expires_at == reminder.expires_at == visit.scheduled_at
    assert reminder.due_at == visit.scheduled_at - DAY
    _tick(django_capture_on_commit_callbacks)
    link.refresh_from_db()
    assert link.status == LinkStatus.SENT
    (message,) = mail.outbox
    assert message.to == [visit.client.email]
    day = timezone.localtime(visit.scheduled_at)
    assert f"before your visit on {day:%A} {day.day} {day:%B}" in message.body
    token = re.search(r"/i/([^/\s]+)/", message.body).group(1)
    assert link.token_hash == hash_token(token)
    assert "/opt-out/" in message.body
    # The minimum: no therapist, no modality, no health words.
    assert "swedish" not in message.body.lower() and "neck" not in message.body.lower()


def test_a_visit_far_ahead_gets_it_days_before_and_a_reminder(settings):
    settings.INTAKE_LINK_DAYS_BEFORE = 3
    visit = book(hours_ahead=24 * 10)
    first, reminder = visit.intake_links.order_by("due_at")
    assert first.purpose == "invite"
    assert abs(first.due_at - (visit.scheduled_at - 3 * DAY)) < dt.timedelta(seconds=1)
    assert reminder.purpose == "reminder"
    assert reminder.due_at == visit.scheduled_at - DAY
    assert dispatch.claim_due(previsit_kind(), timezone.now()) == []


def test_zero_days_sends_when_booked(settings):
    settings.INTAKE_LINK_DAYS_BEFORE = 0
    visit = book(hours_ahead=24 * 10)
    first = visit.intake_links.get(purpose="invite")
    assert first.due_at <= timezone.now()


def test_quiet_hours_delay_the_link(settings):
    settings.FOLLOWUP_QUIET_HOURS = (0, 23)
    visit = book(hours_ahead=24 * 5)
    first = visit.intake_links.get(purpose="invite")
    assert timezone.localtime(first.due_at).hour == 23


def test_booking_twice_never_makes_two_live_links():
    visit = book()
    previsit.schedule_links(visit=visit)
    assert visit.intake_links.filter(purpose="invite").count() == 1


def test_a_client_who_opted_out_or_has_no_address_gets_none():
    opted = ClientFactory(opted_out_at=timezone.now())
    assert not book(client=opted).intake_links.exists()
    silent = ClientFactory(email="", phone="", preferred_channel="email")
    assert not book(client=silent).intake_links.exists()


def test_a_moved_visit_moves_its_links_and_a_cancelled_one_cancels_them():
    visit = book(hours_ahead=24 * 10)
    later = visit.scheduled_at + 2 * DAY
    visit_change_plan(
        visit=visit,
        by=visit.therapist,
        scheduled_at=later,
        planned_modality="swedish",
        focus_regions=["neck"],
    )
    assert set(visit.intake_links.values_list("expires_at", flat=True)) == {later}
    visit_cancel(visit=visit, by=visit.therapist, reason="client called")
    assert set(visit.intake_links.values_list("status", flat=True)) == {LinkStatus.CANCELLED}


def test_a_resend_replaces_every_earlier_link():
    visit = book()
    old = visit.intake_links.get(purpose="invite")
    old.status, old.sent_at, old.token_hash = LinkStatus.SENT, timezone.now(), hash_token("x" * 43)
    old.locked_at = timezone.now()
    old.save()
    new = previsit.resend_link(visit=visit)
    old.refresh_from_db()
    assert old.status == LinkStatus.CANCELLED
    reminders = visit.intake_links.filter(purpose="reminder")
    assert sorted(reminders.values_list("status", flat=True)) == ["cancelled", "scheduled"]
    assert new.status == LinkStatus.SCHEDULED and new.locked_at is None
    assert new.expires_at == visit.scheduled_at


def test_no_resend_once_the_form_is_completed():
    visit = book()
    IntakeLink.objects.filter(visit=visit).update(status=LinkStatus.CANCELLED)
    assert previsit.resend_link(visit=visit) is not None
    link = visit.intake_links.get(status=LinkStatus.SCHEDULED, purpose="invite")
    from tests.factories import IntakeFactory

    intake = IntakeFactory(client=visit.client)
    IntakeLink.objects.filter(pk=link.pk).update(
        status=LinkStatus.ANSWERED, sent_at=timezone.now(), intake=intake
    )
    assert previsit.resend_link(visit=visit) is None


def test_a_link_whose_visit_began_before_it_was_sent_is_cancelled(
    django_capture_on_commit_callbacks,
):
    visit = book()
    IntakeLink.objects.filter(visit=visit).update(expires_at=timezone.now() - DAY)
    _tick(django_capture_on_commit_callbacks)
    assert visit.intake_links.get(purpose="invite").status == LinkStatus.CANCELLED
    assert mail.outbox == []


def test_tomorrows_visits_without_a_completed_form():
    tomorrow = timezone.localtime() + DAY
    hours = (
        dt.datetime.combine(tomorrow.date(), dt.time(12), tzinfo=tomorrow.tzinfo) - timezone.now()
    ).total_seconds() // 3600
    visit = book(hours_ahead=int(hours))
    assert list(previsit.tomorrow_without_form()) == [visit]


def previsit_kind():
    from intake.previsit_kind import INTAKE_LINKS

    return INTAKE_LINKS


def test_answers_in_progress_are_emptied_once_the_link_is_over():
    visit = book()
    link = visit.intake_links.get(purpose="invite")
    IntakeLink.objects.filter(pk=link.pk).update(
        status=LinkStatus.EXPIRED,
        sent_at=timezone.now(),
        draft={"medications": ["warfarin"]},
        steps_done=["about"],
    )
    assert previsit.clear_stale_drafts(timezone.now()) == 1
    link.refresh_from_db()
    assert link.draft == {} and link.steps_done == []
