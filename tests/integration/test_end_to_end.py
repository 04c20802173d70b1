"""Proof on the real stack: gunicorn, celery worker and beat, PostgreSQL, Redis and SMTP.

A therapist logs in over HTTP and records a client, an intake and a visit through the real
forms, then completes the visit. Check-ins go out at seconds-long offsets through beat ->
worker -> SMTP; the client follows the first email's link, answers with worsening pain and
a red flag, and the therapist's alert arrives by email. The remaining check-ins still go out,
and nothing is sent twice.
"""

from __future__ import annotations

import re
import time

import pytest
from django.utils import timezone

from clinical import vocabulary
from followup.models import (
    CheckIn,
    CheckInAnswer,
    CheckInStatus,
    Escalation,
    EscalationLevel,
    EscalationStatus,
    NotifyStatus,
)
from intake.models import Client, Visit, VisitStatus
from tests.factories import UserFactory
from tests.support.environment import portable_password_hash
from tests.support.http import Browser
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
MAIL_TIMEOUT = 40  # the last check-in is due 15 s after completion, ticks every second
ANSWER_LINK = re.compile(r"https?://\S+/f/[A-Za-z0-9_-]+/(?=\s|$)")


def _id_from(location: str, pattern: str) -> int:
    match = re.search(pattern, location)
    assert match, f"unexpected redirect {location!r} (wanted {pattern})"
    return int(match.group(1))


def _checkin_mails(sink, email: str):
    return sink.matching(lambda m: email in m.rcpt_tos)


@pytest.mark.django_db(transaction=True)
def test_a_completed_visit_is_followed_up_and_a_worsening_answer_reaches_the_therapist(stack):
    therapist = UserFactory(
        username="tess",
        first_name="Tess",
        last_name="Ng",
        groups=["therapist"],
        email="tess@clinic.test",
    )
    therapist.password = portable_password_hash(PASSWORD)
    therapist.save(update_fields=["password"])
    stack.start(web=True, worker=True, beat=True)
    sink = stack.sink
    staff = Browser(stack.base_url)

    # -- the therapist logs in through the login page -------------------------------------
    login = staff.submit(
        "/accounts/login/", {"username": "tess", "password": PASSWORD, "next": "/"}
    )
    assert login.headers["Location"] == "/"
    staff.get("/today/")

    # -- records a new client, their health history and a visit ---------------------------
    created = staff.submit(
        "/clients/new/",
        {
            "first_name": "Robin",
            "last_name": "Hale",
            "date_of_birth": "1984-03-09",
            "email": "robin.hale@example.com",
            "phone": "+447911123456",
            "preferred_channel": "email",
            "followup_consent": "on",
            "followup_consent_source": "in_person",
        },
    )
    client_id = _id_from(created.headers["Location"], r"/clients/(\d+)/intakes/new/")
    today = timezone.localdate().isoformat()
    staff.submit(
        f"/clients/{client_id}/intakes/new/",
        {
            "visit_date": today,
            "planned_modality": "swedish",
            "focus_regions": ["neck", "shoulders"],
            "pain_score": "3",
            "pain_character": "dull",
            "pain_regions": ["neck"],
            "consent": "on",
            "signature_name": "Robin Hale",
        },
    )
    scheduled = staff.submit(
        f"/clients/{client_id}/visits/new/",
        {
            "scheduled_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "therapist": str(therapist.pk),
            "planned_modality": "swedish",
            "focus_regions": ["neck", "shoulders"],
        },
    )
    visit_id = _id_from(scheduled.headers["Location"], r"/visits/(\d+)/")
    report = staff.get(f"/screening/visit/{visit_id}/")
    assert vocabulary.severity("clear").heading in report.text

    # -- completes it: three check-ins are scheduled in the same transaction --------------
    staff.submit(
        f"/visits/{visit_id}/complete/",
        {"performed_modality": "swedish", "completed_at": ""},
        form_page=f"/visits/{visit_id}/",
    )
    visit = Visit.objects.get(pk=visit_id)
    assert visit.status == VisitStatus.COMPLETED
    assert visit.baseline_pain == 3
    assert CheckIn.objects.filter(visit=visit).count() == 3
    client = Client.objects.get(pk=client_id)

    # -- the first check-in arrives by SMTP; its link shows the form and changes nothing --
    first_mail = sink.wait_for(lambda m: client.email in m.rcpt_tos, timeout=MAIL_TIMEOUT)[0]
    assert "Integration Clinic" in first_mail.subject
    words = re.sub(r"https?://\S+", "", first_mail.text).lower()
    for private in ("swedish", "neck", "shoulders", "pain", "tess", "robin"):
        assert private not in words, f"the check-in email mentions {private!r}"
    link = ANSWER_LINK.search(first_mail.text)
    assert link, f"no answer link in:\n{first_mail.text}"
    assert link.group(0).startswith(stack.base_url)

    first = CheckIn.objects.get(visit=visit, policy_hours=24)
    # The row is marked sent just after the SMTP server accepted the message.
    _wait(lambda: _refreshed(first).status == CheckInStatus.SENT)
    patient = Browser(stack.base_url)
    form_page = patient.get(link.group(0))
    # The token must never leak to another site through the Referer header.
    assert form_page.headers.get("Referrer-Policy") in ("no-referrer", "same-origin")
    assert 'name="score"' in form_page.text and 'value="numbness"' in form_page.text
    first.refresh_from_db()
    assert first.status == CheckInStatus.SENT
    assert not CheckInAnswer.objects.filter(checkin=first).exists()

    # -- the client answers: worse pain, sharp, and numbness (a red flag) -----------------
    done = patient.submit(
        link.group(0),
        {
            "score": "8",
            "character": "sharp",
            "radiating": "no",
            "red_flags": ["numbness"],
            "note": "Worse since yesterday",
        },
        expect=200,
    )
    assert "Thank you for your answers" in done.text
    assert "doctor" in done.text.lower()  # urgent advice: contact a doctor, then the clinic
    first.refresh_from_db()
    assert first.status == CheckInStatus.ANSWERED
    answer = CheckInAnswer.objects.get(checkin=first)
    assert (answer.score, answer.character, answer.red_flags) == (8, "sharp", ["numbness"])

    # -- the therapist's alert arrives at once, and the escalation is in the queue ---------
    (alert,) = sink.wait_for(lambda m: therapist.email in m.rcpt_tos, timeout=MAIL_TIMEOUT)
    assert f"{stack.base_url}/followup/escalations/" in alert.text
    assert "numbness" not in alert.text.lower() and "Robin" not in alert.text
    escalation = Escalation.objects.get(visit=visit)
    assert escalation.level == EscalationLevel.URGENT
    assert escalation.status == EscalationStatus.OPEN
    assert escalation.checkin_id == first.pk
    _wait(lambda: _refreshed(escalation).notify_status == NotifyStatus.SENT)
    queue = staff.get("/followup/escalations/")
    assert "Robin Hale" in queue.text and "Urgent" in queue.text

    # -- the other two check-ins still go out --------------------------------------------
    sink.wait_for(lambda m: client.email in m.rcpt_tos, count=3, timeout=MAIL_TIMEOUT)
    _wait(
        lambda: (
            set(CheckIn.objects.filter(visit=visit).values_list("status", flat=True))
            <= {CheckInStatus.SENT, CheckInStatus.ANSWERED}
        )
    )

    # -- nothing is sent twice: a few more ticks change nothing ---------------------------
    time.sleep(3)
    assert len(_checkin_mails(sink, client.email)) == 3, sink.describe()
    assert len(_checkin_mails(sink, therapist.email)) == 1, sink.describe()
    assert len(sink.messages) == 4, sink.describe()
    links = {ANSWER_LINK.search(m.text).group(0) for m in _checkin_mails(sink, client.email)}
    assert len(links) == 3  # one link per check-in
    rows = CheckIn.objects.filter(visit=visit).order_by("policy_hours")
    assert [(c.policy_hours, c.status, c.attempts) for c in rows] == [
        (24, CheckInStatus.ANSWERED, 1),
        (48, CheckInStatus.SENT, 1),
        (72, CheckInStatus.SENT, 1),
    ]
    assert Escalation.objects.filter(visit=visit).count() == 1
    assert _refreshed(escalation).notify_attempts == 1

    # -- and the used link now confirms the answer arrived -----------------------------
    reused = patient.get(link.group(0), expect=200)
    assert "Your answers reached us on" in reused.text


def _refreshed(obj):
    obj.refresh_from_db()
    return obj


def _wait(predicate, timeout: float = 15):
    return wait_until(predicate, timeout=timeout, interval=0.25, message="the database state")
