"""A client on a phone answers a check-in from the link in their email."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from followup.models import CheckIn, CheckInAnswer, CheckInStatus, Escalation
from followup.scheduling import schedule_checkins
from intake.models import VisitStatus
from messaging import dispatch
from tests.factories import ClientFactory, IntakeFactory, UserFactory, VisitFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

ANSWER_LINK = re.compile(r"https?://\S+/f/[A-Za-z0-9_-]+/(?=\s|$)")


@pytest.fixture
def sent_checkin_link(live_server, settings, mailoutbox, celery_in_process):
    """Send a visit's first check-in through the real send path; return its email link."""
    settings.SITE_URL = live_server.url
    settings.FOLLOWUP_QUIET_HOURS = None  # due now, whatever the hour of the test run
    settings.FOLLOWUP_OFFSETS = [24 * 3600, 48 * 3600, 72 * 3600]
    therapist = UserFactory(username="tess", groups=["therapist"])
    client = ClientFactory(first_name="Robin", last_name="Hale", email="robin@example.com")
    intake = IntakeFactory(client=client, pain_score=3)
    completed_at = timezone.now() - datetime.timedelta(hours=24, minutes=1)
    visit = VisitFactory(
        client=client,
        therapist=therapist,
        intake=intake,
        scheduled_at=completed_at - datetime.timedelta(hours=1),
        status=VisitStatus.COMPLETED,
        performed_modality="swedish",
        completed_at=completed_at,
        completed_by=therapist,
        baseline_pain=3,
    )
    checkins = schedule_checkins(visit=visit)
    assert [c.policy_hours for c in checkins] == [24, 48, 72]
    # One tick of the dispatcher, its send task run in-process (celery_in_process).
    result = dispatch.tick()
    assert result.claimed == 1
    (message,) = mailoutbox
    assert message.to == ["robin@example.com"]
    link = ANSWER_LINK.search(message.body)
    assert link, message.body
    return link.group(0)


def test_a_client_answers_a_checkin_on_a_phone_and_the_link_then_stops_working(
    browser_factory, sent_checkin_link
):
    checkin = CheckIn.objects.get(status=CheckInStatus.SENT)
    tab = browser_factory(phone=True)
    page = tab.page

    tab.goto(sent_checkin_link)
    assert page.locator("h1").inner_text() == "How are you feeling after your visit?"
    # Mobile first: nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.SENT  # opening the link changes nothing
    tab.shot("client-checkin-form")

    def choose(name: str, value: str) -> None:
        radio = page.locator(f'input[name="{name}"][value="{value}"]')
        page.click(f'label[for="{radio.get_attribute("id")}"]')  # the big button, by touch
        assert radio.is_checked()

    choose("score", "2")
    choose("character", "stiffness")
    choose("radiating", "no")
    page.fill("textarea[name=note]", "A bit stiff, much better than before")
    with page.expect_navigation():
        page.click("button:has-text('Send my answers')")

    assert page.locator("h1").inner_text() == "Thank you for your answers"
    advice = page.locator("main").inner_text().lower()
    assert "soreness after a massage is normal" in advice
    assert page.locator(".list-group-item").count() >= 3  # self-care from the seeds
    assert "water" in advice or "drink" in advice
    assert page.locator(".alert-danger").count() == 0  # nothing urgent about this answer
    tab.shot("client-checkin-advice")

    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.ANSWERED
    answer = CheckInAnswer.objects.get(checkin=checkin)
    assert (answer.score, answer.character, answer.radiating) == (2, "stiffness", False)
    assert not Escalation.objects.exists()

    tab.goto(sent_checkin_link, status=200)
    assert "Your answers reached us on" in page.locator("main").inner_text()
    assert page.locator("form").count() == 0
    tab.shot("client-checkin-used-link")
    assert CheckInAnswer.objects.filter(checkin=checkin).count() == 1

    tab.assert_clean()
