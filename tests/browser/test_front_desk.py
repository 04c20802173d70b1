"""Front desk in Chromium: the admin shows visits and open escalations, never health history."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from followup.models import EscalationLevel
from intake.models import VisitStatus
from tests.browser.conftest import log_in
from tests.factories import (
    CheckInAnswerFactory,
    ClientFactory,
    EscalationFactory,
    IntakeFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

SECRET_MEDICATION = "warfarin 5 mg"
SECRET_NOTE = "fell off a ladder last spring"


@pytest.fixture
def escalated_visit():
    """A completed visit whose 24-h answer escalated (urgent), with a telling intake."""
    therapist = UserFactory(
        username="tess", first_name="Tess", last_name="Ng", groups=["therapist"]
    )
    client = ClientFactory(first_name="Robin", last_name="Hale", email="robin@example.com")
    intake = IntakeFactory(
        client=client, medications=[SECRET_MEDICATION], free_text=SECRET_NOTE, pain_score=3
    )
    now = timezone.now()
    visit = VisitFactory(
        client=client,
        therapist=therapist,
        intake=intake,
        scheduled_at=now - datetime.timedelta(hours=26),
        status=VisitStatus.COMPLETED,
        performed_modality="swedish",
        completed_at=now - datetime.timedelta(hours=25),
        completed_by=therapist,
        baseline_pain=3,
    )
    answer = CheckInAnswerFactory(
        checkin__visit=visit,
        checkin__sent_at=now - datetime.timedelta(hours=1),
        score=8,
        character="sharp",
        red_flags=["numbness"],
    )
    EscalationFactory(
        checkin=answer.checkin,
        level=EscalationLevel.URGENT,
        reasons=[{"rule": "U1", "hours": 24}],
    )
    return visit


def test_front_desk_sees_the_open_escalation_but_never_the_health_history(tab, escalated_visit):
    UserFactory(username="frank", first_name="Frank", groups=["front_desk"])
    visit = escalated_visit
    log_in(tab, "frank")
    page = tab.page
    assert page.url.endswith("/admin/"), "front desk lands in the admin"
    index = page.locator("#content-main").inner_text()
    assert "Visits" in index and "Clients" in index
    assert "Intakes" not in index  # the health histories are not even listed

    # -- find the visit: its follow-up column shows the open escalation -------------------
    with page.expect_navigation():
        page.click("#content-main a:text-is('Visits')")
    page.fill("#searchbar", "Hale")
    with page.expect_navigation():
        page.press("#searchbar", "Enter")
    row = page.locator("#result_list tbody tr", has_text="Robin Hale")
    assert row.count() == 1
    assert "escalation open" in row.inner_text()
    tab.shot("front-desk-visits")

    with page.expect_navigation():
        row.locator("th a, td a").first.click()
    assert f"/admin/intake/visit/{visit.pk}/" in page.url
    detail = page.locator("#content-main").inner_text()
    assert "Robin Hale" in detail
    for health in ("Baseline pain", "Focus regions", "Intake", SECRET_MEDICATION, SECRET_NOTE):
        assert health not in detail, f"front desk sees {health!r} on the visit"

    # -- the escalation queue: level and contact, no clinical reasons --------------------
    tab.goto("/followup/escalations/")
    queue = page.locator("main").inner_text()
    assert "Robin Hale" in queue and "Urgent" in queue
    assert "Reasons" not in queue and "Pain chart" not in queue
    assert "numbness" not in queue.lower()
    tab.shot("front-desk-escalations")

    # -- and every road to the health history is closed ----------------------------------
    intake_id = visit.intake_id
    client_id = visit.client_id
    for path in (
        "/admin/intake/intake/",
        f"/admin/intake/intake/{intake_id}/change/",
        f"/clients/{client_id}/",
        f"/intakes/{intake_id}/",
        f"/screening/visit/{visit.pk}/",
        f"/followup/visits/{visit.pk}/pain-chart/",
    ):
        tab.goto(path, status=403)
        text = page.locator("body").inner_text()
        assert SECRET_MEDICATION not in text and SECRET_NOTE not in text
    tab.shot("front-desk-refused")

    tab.assert_clean()
