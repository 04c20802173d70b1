"""A therapist in Chromium: clients, the intake form with its body map, screening, completion."""

from __future__ import annotations

import pytest
from django.utils import timezone

from intake.models import Client, Intake, Visit, VisitStatus
from tests.browser.conftest import Tab, log_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _add_client(tab: Tab, first: str, last: str) -> Client:
    tab.goto("/clients/")
    with tab.page.expect_navigation():
        tab.page.click("text=New client")
    page = tab.page
    page.fill("#id_first_name", first)
    page.fill("#id_last_name", last)
    page.fill("#id_date_of_birth", "1990-04-12")
    page.fill("#id_email", f"{first.lower()}@example.com")
    page.select_option("#id_preferred_channel", "email")
    page.check("#id_followup_consent")
    page.select_option("#id_followup_consent_source", "in_person")
    with page.expect_navigation():
        page.click("button:has-text('Add client')")
    assert "/intakes/new/" in page.url, "the client form was refused"
    return Client.objects.get(first_name=first, last_name=last)


def _click_region(tab: Tab, field: str, region: str) -> None:
    """Click a region on a body map and check it ticked the region's (hidden) checkbox."""
    part = tab.page.locator(f'[data-body-map="{field}"] [data-region="{region}"]')
    part.locator("rect").first.click()
    box = tab.page.locator(f'input[name="{field}"][value="{region}"]')
    assert box.is_checked(), f"clicking {region} on the {field} map did not select it"
    assert part.get_attribute("aria-checked") == "true"


def _tick_condition(tab: Tab, code: str) -> None:
    # Conditions sit in collapsed <details> per category: open the category first.
    box = tab.page.locator(f"#id_cond_{code}")
    summary = tab.page.locator(f"details:has(#id_cond_{code}) > summary")
    if not box.is_visible():
        summary.click()
    box.check()


def _sign_and_save(tab: Tab, client: Client) -> None:
    page = tab.page
    page.check("#id_consent")
    page.fill("#id_signature_name", client.full_name)
    with page.expect_navigation():
        page.click("button:has-text('Save health history')")
    assert "/intakes/new/" not in page.url, "the intake form was refused: " + page.inner_text(
        "main"
    )


def _schedule_visit(tab: Tab, client: Client) -> Visit:
    tab.goto(f"/clients/{client.pk}/")
    with tab.page.expect_navigation():
        tab.page.click("text=Schedule visit")
    tab.page.fill("#id_scheduled_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Schedule')")
    assert "/visits/new/" not in tab.page.url, "the visit form was refused: " + (
        tab.page.inner_text("main")
    )
    return Visit.objects.get(client=client)


def _complete(tab: Tab, visit: Visit, modality: str, *, refused: bool) -> None:
    tab.goto(f"/visits/{visit.pk}/")
    tab.page.select_option("#id_performed_modality", modality)
    if refused:
        tab.expect_status(f"/visits/{visit.pk}/complete/", 409)
    with tab.page.expect_navigation():
        tab.page.click("button:has-text('Complete')")


def test_a_therapist_records_intakes_and_screening_decides_what_can_be_completed(tab):
    UserFactory(username="tess", first_name="Tess", last_name="Ng", groups=["therapist"])
    log_in(tab, "tess")
    assert tab.page.url.endswith("/today/")

    # -- a client in the third trimester: contraindicated, with the source quoted --------
    pregnant = _add_client(tab, "Maya", "Okafor")
    page = tab.page
    page.select_option("#id_planned_modality", "swedish")
    _click_region(tab, "focus_regions", "shoulders")
    _click_region(tab, "focus_regions", "neck")
    page.check("#id_pregnant")
    page.fill("#id_pregnancy_weeks", "32")
    page.fill("#id_pain_score", "2")
    page.select_option("#id_pain_character", "stiffness")
    _click_region(tab, "pain_regions", "lumbar")
    tab.shot("therapist-intake-form")
    _sign_and_save(tab, pregnant)
    intake = Intake.objects.get(client=pregnant)
    assert (intake.pregnant, intake.pregnancy_weeks) == (True, 32)
    assert sorted(intake.focus_regions) == ["neck", "shoulders"]
    assert intake.pain_regions == ["lumbar"]

    visit = _schedule_visit(tab, pregnant)
    with page.expect_navigation():
        page.click("text=Open the screening report")
    banner = page.locator(".decision-banner")
    assert "Contraindicated" in banner.inner_text()
    flag = page.locator('article.screening-flag[data-rule="pregnancy_third_trimester"]')
    assert "pregnancy weeks" in flag.inner_text().lower() or "32" in flag.inner_text()
    flag.locator("summary", has_text="Sources").click()
    quote = flag.locator("blockquote.source-quote", has_text="third trimester").first
    assert quote.is_visible()
    assert "should also not perform a massage" in quote.inner_text()
    tab.shot("therapist-report")

    # The visit page offers no Complete, only Postpone and Cancel.
    tab.goto(f"/visits/{visit.pk}/")
    assert page.locator("#id_performed_modality").count() == 0
    assert page.locator("#no-complete", has_text="contraindicated").is_visible()
    assert page.locator("button:has-text('Postpone visit')").is_visible()
    tab.shot("therapist-completion-refused")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SCHEDULED
    assert not visit.checkins.exists()

    # The clinic postpones it, which frees the therapist's slot for the next client.
    page.fill("#id_defer-reason", "Waiting for the midwife's clearance")
    with page.expect_navigation():
        page.click("button:has-text('Postpone visit')")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DEFERRED

    # -- a client with osteoporosis: deep tissue blocked, Swedish allowed ----------------
    fragile = _add_client(tab, "Alan", "Brook")
    page.select_option("#id_planned_modality", "deep_tissue")
    _click_region(tab, "focus_regions", "upper_back")
    _tick_condition(tab, "osteoporosis")
    page.fill("#id_pain_score", "3")
    page.select_option("#id_pain_character", "dull")
    _sign_and_save(tab, fragile)
    visit = _schedule_visit(tab, fragile)

    tab.goto(f"/screening/visit/{visit.pk}/")
    assert "Modify technique" in page.locator(".decision-banner").inner_text()
    blocked = page.locator("section[aria-labelledby=blocked-heading]")
    assert "Deep tissue" in blocked.inner_text()
    with page.expect_navigation():
        page.click("button:has-text('I have read this screening')")
    assert "Acknowledged by" in page.locator("section[aria-labelledby=ack-heading]").inner_text()

    _complete(tab, visit, "deep_tissue", refused=True)
    assert page.locator(".alert-danger", has_text="blocked").is_visible()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SCHEDULED

    _complete(tab, visit, "swedish", refused=False)
    assert page.url.endswith(f"/visits/{visit.pk}/")
    assert page.locator(".alert-success", has_text="Visit completed").is_visible()
    tab.shot("therapist-visit-completed")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert visit.performed_modality == "swedish"
    assert visit.checkins.count() == 3

    tab.assert_clean()
