"""One reminder for a check-in still unanswered halfway to its link's expiry, through the tick."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from followup.models import CheckIn, CheckInStatus
from messaging import dispatch
from tests.factories import CheckInFactory
from tests.followup.conftest import NOW, answer_data, links_in

pytestmark = pytest.mark.django_db

# Links live 7 days: halfway is 3.5 days after the send, Friday 22:00, inside quiet hours.
HALFWAY = NOW + datetime.timedelta(days=3, hours=12)
NEXT_MORNING = HALFWAY + datetime.timedelta(hours=10)  # Saturday 08:00


def tick(frozen, committed, at):
    frozen.move_to(at)
    with committed():
        return dispatch.tick()


def test_an_unanswered_checkin_is_reminded_once_after_quiet_hours_with_the_same_link(
    client, frozen, committed, visit
):
    checkin = CheckInFactory(visit=visit, policy_hours=72, due_at=NOW)
    tick(frozen, committed, NOW)  # the first message, sent for real
    [first] = mail.outbox
    [first_token, _] = links_in(first.body)
    mail.outbox.clear()

    early = tick(frozen, committed, HALFWAY - datetime.timedelta(minutes=1))
    quiet = tick(frozen, committed, HALFWAY)
    assert (early.steps["check-in reminders"], quiet.steps["check-in reminders"]) == (0, 0)

    assert tick(frozen, committed, NEXT_MORNING).steps["check-in reminders"] == 1
    tick(frozen, committed, NEXT_MORNING + datetime.timedelta(minutes=1))  # claims and sends

    [reminder] = mail.outbox
    assert (
        reminder.subject
        == "Riverside Massage Clinic: A reminder: How are you feeling after your visit?"
    )
    [token, _opt_out] = links_in(reminder.body)
    checkin.refresh_from_db()
    assert (checkin.status, checkin.reminded_at) == (CheckInStatus.SENT, NEXT_MORNING)
    # The reminder carries the first message's link, which still works until it expires.
    assert token == first_token
    assert client.get(reverse("followup:answer", args=[token])).status_code == 200
    assert checkin.expires_at == NOW + datetime.timedelta(days=7)

    later = checkin.expires_at - datetime.timedelta(hours=1)
    assert tick(frozen, committed, later).steps["check-in reminders"] == 0
    assert len(mail.outbox) == 1


def test_an_answered_checkin_is_not_reminded(client, frozen, committed, visit):
    checkin = CheckInFactory(visit=visit, policy_hours=24, sent=True)
    client.post(reverse("followup:answer", args=[checkin.token]), answer_data())

    assert tick(frozen, committed, NEXT_MORNING).steps["check-in reminders"] == 0


def test_a_checkin_followed_by_a_later_one_is_not_reminded(frozen, committed, visit):
    first = CheckInFactory(visit=visit, policy_hours=24, sent=True)
    CheckInFactory(visit=visit, policy_hours=48, sent=True)

    assert tick(frozen, committed, NEXT_MORNING).steps["check-in reminders"] == 1
    first.refresh_from_db()
    assert first.reminded_at is None
    assert CheckIn.objects.filter(reminded_at__isnull=False).get().policy_hours == 48
