"""Answers that worsen open an Escalation once per level and alert the therapist at once."""

from __future__ import annotations

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.urls import reverse

from followup.answers import evaluate_visit, record_answer
from followup.escalations import NOTIFY_GRACE
from followup.models import Escalation, NotifyStatus
from messaging import dispatch
from messaging.channels import LocmemSMSBackend
from tests.factories import CheckInFactory, EscalationFactory
from tests.followup.conftest import NOW, answer_data

pytestmark = pytest.mark.django_db


class DownEmailBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")


@pytest.fixture(autouse=True)
def _at_now(frozen):
    pass


def answer(client, visit, committed, *, hours=24, **data):
    """Answer the visit's check-in at `hours` through its link, as the client does."""
    checkin = CheckInFactory(visit=visit, policy_hours=hours, sent=True)
    with committed():
        client.post(reverse("followup:answer", args=[checkin.token]), answer_data(**data))
    return checkin


def test_a_rise_in_pain_opens_a_review_and_emails_the_therapist_at_once(client, visit, committed):
    checkin = answer(client, visit, committed, score="6")  # baseline 3: R2

    escalation = Escalation.objects.get()
    assert (escalation.level, escalation.checkin, escalation.status) == ("review", checkin, "open")
    assert escalation.reasons == [{"rule": "R2", "hours": 24}]
    assert escalation.notify_status == NotifyStatus.SENT
    [alert] = mail.outbox
    assert alert.to == [visit.therapist.email]
    assert "https://clinic.example/followup/escalations/" in alert.body


def test_expected_soreness_opens_nothing(client, visit, committed):
    answer(client, visit, committed, score="3")

    assert not Escalation.objects.exists()
    assert mail.outbox == []


def test_a_later_higher_level_raises_the_open_escalation_and_alerts_again(client, visit, committed):
    first = answer(client, visit, committed, score="6")
    answer(client, visit, committed, hours=48, score="8")  # R2 again: nothing new
    assert list(Escalation.objects.values_list("level", flat=True)) == ["review"]
    assert len(mail.outbox) == 1

    last = answer(client, visit, committed, hours=72, radiating="yes")  # U2

    escalation = Escalation.objects.get()
    assert (escalation.level, escalation.status, escalation.checkin) == ("urgent", "open", last)
    assert [(s["level"], s["checkin"]) for s in escalation.level_history] == [
        ("review", first.pk),
        ("urgent", last.pk),
    ]
    assert escalation.level_history[0]["reasons"] == [{"rule": "R2", "hours": 24}]
    assert len(mail.outbox) == 2
    assert "Urgent" in mail.outbox[1].subject
    assert escalation.notify_status == NotifyStatus.SENT


def test_an_acknowledged_escalation_is_reopened_at_the_higher_level(
    client, visit, committed, therapist
):
    answer(client, visit, committed, score="6")
    Escalation.objects.update(status="acknowledged", acknowledged_by=therapist)

    answer(client, visit, committed, hours=48, red_flags=["fever"])

    escalation = Escalation.objects.get()
    assert (escalation.level, escalation.status) == ("urgent", "open")


def test_after_a_resolved_review_a_higher_level_opens_a_new_escalation(
    client, visit, committed, therapist
):
    answer(client, visit, committed, score="6")
    Escalation.objects.update(status="resolved", resolved_by=therapist)

    answer(client, visit, committed, hours=48, red_flags=["fever"])

    assert sorted(Escalation.objects.values_list("level", "status")) == [
        ("review", "resolved"),
        ("urgent", "open"),
    ]


def test_the_database_refuses_a_second_unresolved_escalation_for_a_visit(visit):
    first = EscalationFactory(checkin=CheckInFactory(visit=visit, policy_hours=24, sent=True))

    with pytest.raises(IntegrityError), transaction.atomic():
        EscalationFactory(
            checkin=CheckInFactory(visit=visit, policy_hours=48, sent=True),
            level="urgent",
            reasons=[{"rule": "U1", "hours": 48}],
        )
    first.status = "resolved"
    first.save()
    EscalationFactory(
        checkin=CheckInFactory(visit=visit, policy_hours=48, sent=True),
        level="urgent",
        reasons=[{"rule": "U1", "hours": 48}],
    )


def test_a_lower_level_after_urgent_opens_nothing(client, visit, committed):
    answer(client, visit, committed, red_flags=["fever"])
    answer(client, visit, committed, hours=48, red_flags=["bruising"])

    assert list(Escalation.objects.values_list("level", flat=True)) == ["urgent"]


def test_an_urgent_escalation_also_texts_a_therapist_with_a_number(
    client, visit, committed, settings
):
    settings.FOLLOWUP_THERAPIST_PHONES = {visit.therapist.username: "+447700900999"}

    answer(client, visit, committed, character="sharp", score="8")  # U3

    assert len(mail.outbox) == 1
    [(to, body)] = LocmemSMSBackend.outbox
    assert to == "+447700900999"
    assert "Urgent" in body
    assert "needs your attention today" in mail.outbox[0].subject


def test_a_review_alert_does_not_say_urgent(client, visit, committed):
    answer(client, visit, committed, score="6")  # R2

    [alert] = mail.outbox
    assert "needs your review" in alert.subject
    assert "urgent" not in alert.body.lower()


def test_the_alert_says_the_client_wrote_a_note_but_never_what(client, visit, committed):
    answer(client, visit, committed, score="6", note="it throbs near my shoulder blade")

    [alert] = mail.outbox
    assert "The client added a note." in alert.body
    assert "shoulder" not in alert.body


def test_a_failed_alert_is_recorded_and_the_tick_retries_it(
    client, visit, committed, settings, frozen
):
    settings.EMAIL_BACKEND = f"{__name__}.DownEmailBackend"

    answer(client, visit, committed, score="7")

    escalation = Escalation.objects.get()
    assert escalation.notify_status == NotifyStatus.FAILED
    assert escalation.notify_error == "email: temporary: could not reach the mail server " + (
        "(SMTPServerDisconnected)"
    )
    assert escalation.notify_retry_at == NOW + datetime.timedelta(minutes=1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    frozen.shift(datetime.timedelta(minutes=2))
    with committed():
        result = dispatch.tick()

    escalation.refresh_from_db()
    assert result.steps["therapist alerts"] == 1
    assert (escalation.notify_status, escalation.notify_attempts) == (NotifyStatus.SENT, 2)
    assert len(mail.outbox) == 1


def test_a_therapist_without_an_email_address_is_a_visible_permanent_failure(
    client, visit, committed
):
    visit.therapist.email = ""
    visit.therapist.save()

    answer(client, visit, committed, score="7")

    escalation = Escalation.objects.get()
    assert escalation.notify_status == NotifyStatus.FAILED
    assert "no email address" in escalation.notify_error
    assert escalation.notify_retry_at is None


def test_an_alert_left_pending_by_a_broker_outage_goes_out_on_a_later_tick(
    client, visit, frozen, committed
):
    # The answer's transaction commits but its on_commit alert never runs (broker down).
    answer_without_alert = CheckInFactory(visit=visit, sent=True).token
    client.post(reverse("followup:answer", args=[answer_without_alert]), answer_data(score="7"))
    escalation = Escalation.objects.get()
    assert escalation.notify_status == NotifyStatus.PENDING

    with committed():
        assert (
            dispatch.tick().steps["therapist alerts"] == 0
        )  # still within the grace of the immediate alert
    frozen.shift(NOTIFY_GRACE)
    with committed():
        assert dispatch.tick().steps["therapist alerts"] == 1

    escalation.refresh_from_db()
    assert escalation.notify_status == NotifyStatus.SENT


def test_answers_are_evaluated_with_the_checkins_policy_hours_and_the_baseline(visit):
    first = CheckInFactory(visit=visit, policy_hours=24, sent=True)
    second = CheckInFactory(visit=visit, policy_hours=48, sent=True)
    third = CheckInFactory(visit=visit, policy_hours=72, sent=True)
    for checkin, score in ((first, 4), (second, 5), (third, 6)):
        record_answer(checkin=checkin, score=score, character="dull", radiating=False, red_flags=[])

    result = evaluate_visit(visit)

    assert result.level == "urgent"  # U4: still rising at 72 h, baseline 3
    assert {r.rule for r in result.reasons} >= {"U4", "R3"}
