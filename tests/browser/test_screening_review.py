"""A therapist in Chromium resolves what the screener did not understand, then completes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from intake import services as intake_services
from intake.models import VisitStatus
from tests.browser.conftest import log_in
from tests.factories import ClientFactory, IntakeFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_review_item_is_resolved_on_the_report_and_the_visit_completed(tab):
    tess = UserFactory(username="tess", first_name="Tess", last_name="Ng", groups=["therapist"])
    client = ClientFactory(first_name="Noah", last_name="Brennan")
    IntakeFactory(
        client=client,
        entered_by=tess,
        conditions=[{"code": "epilepsy", "acute": False, "notes": "last seizure 2019"}],
        free_text="Mother had osteoporosis.",
    )
    visit = intake_services.visit_schedule(
        client=client,
        therapist=tess,
        scheduled_at=timezone.now() + timezone.timedelta(minutes=10),
        planned_modality="swedish",
        focus_regions=["neck"],
        by=tess,
    )
    log_in(tab, "tess")
    page = tab.page

    # The report asks for the item in plain words; completing is refused until it is resolved.
    tab.goto(f"/screening/visit/{visit.pk}/")
    assert "Needs review" in page.locator(".decision-banner").inner_text()
    item = page.locator("article.review-item")
    assert "epilepsy" in item.inner_text() and "condition 1" in item.inner_text()
    mentions = page.locator("section[aria-labelledby=mentions-heading]")
    assert "about someone else" in mentions.inner_text()
    tab.shot("therapist-review-item")

    tab.goto(f"/visits/{visit.pk}/")
    page.select_option("#id_performed_modality", "swedish")
    tab.expect_status(f"/visits/{visit.pk}/complete/", 409)
    with page.expect_navigation():
        page.click("button:has-text('Complete')")
    assert page.locator(".alert-danger", has_text="did not understand").is_visible()

    # Resolve it: not relevant to massage, with a reason.
    tab.goto(f"/screening/visit/{visit.pk}/")
    form = page.locator("form.resolve-form")
    form.locator("input[type=radio][value=not_relevant]").check()
    form.locator("textarea[name=reason]").fill("Seizure-free for years; nothing for massage.")
    with page.expect_navigation():
        form.locator("button:has-text('Resolve this item')").click()
    assert "Clear" in page.locator(".decision-banner").inner_text()
    resolved = page.locator("article.review-item").inner_text()
    assert "Not relevant to massage" in resolved and "Tess Ng" in resolved
    tab.shot("therapist-review-resolved")

    tab.goto(f"/visits/{visit.pk}/")
    page.select_option("#id_performed_modality", "swedish")
    with page.expect_navigation():
        page.click("button:has-text('Complete')")
    assert page.locator(".alert-success", has_text="Visit completed").is_visible()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    tab.assert_clean()
