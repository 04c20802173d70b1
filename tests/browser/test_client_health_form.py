"""A client fills in their health form on a phone (390 x 844) from the link in the
development outbox; a returning client confirms nothing changed; the therapist then sees the
result and the alert."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from clinical.catalogue import get_catalogue
from clinical.intake import parse_intake
from intake.linkmodels import IntakeLink
from intake.models import Intake
from intake.services import intake_record, visit_schedule
from messaging import dispatch
from messaging.models import LinkStatus, OutboxMessage
from tests.browser.conftest import log_in
from tests.browser.pages import _intake_payload
from tests.factories import ClientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(live_server, settings, celery_in_process):
    """Messages go to the development outbox; links point at the live server."""
    settings.SITE_URL = live_server.url
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "messaging.channels.OutboxEmailBackend"
    settings.FOLLOWUP_QUIET_HOURS = None
    # Load the rule catalogue now (the form's conditions come from it): its first load takes
    # seconds on a busy machine, which a navigation must not wait for.
    get_catalogue(supplementary=settings.SCREENING_SUPPLEMENTARY)
    therapist = UserFactory(
        username="tess", first_name="Tess", last_name="Ng", groups=["therapist"],
        email="tess@clinic.example",
    )  # fmt: skip
    return therapist


def _book(therapist, client):
    tomorrow = timezone.localtime() + dt.timedelta(days=1)
    return visit_schedule(
        client=client,
        therapist=therapist,
        scheduled_at=tomorrow.replace(hour=10, minute=0, second=0, microsecond=0),
        planned_modality="swedish",
        focus_regions=["neck"],
        by=therapist,
    )


def _link_from_the_outbox(staff_tab, email: str) -> str:
    """Open the development outbox as staff and take the form link of the client's message."""
    staff_tab.goto("/followup/outbox/")
    card = staff_tab.page.locator(".card", has_text=f"to {email}").first
    return card.locator("a[href*='/i/']:not([href*='opt-out'])").first.get_attribute("href")


TAP_TARGETS = (
    "main .client-check, main button, main a.btn, main summary, .body-map-choices .form-check"
)


def _small_targets(page) -> list[str]:
    """Return the tap targets on the page lower than 44 px (none should be)."""
    small = []
    for target in page.locator(TAP_TARGETS).all():
        box = target.bounding_box()
        if box is not None and box["height"] < 44:
            small.append(f"{target.inner_text()[:40]!r}: {box['height']:.0f} px")
    return small


def _next(page) -> None:
    with page.expect_navigation():
        page.locator("main button[type=submit]").first.click()


def _tap(page, name: str, value: str | None = None) -> None:
    selector = f'input[name="{name}"]' + (f'[value="{value}"]' if value else "")
    box = page.locator(selector)
    page.locator(f'label[for="{box.get_attribute("id")}"]').click()
    assert box.is_checked()


def test_a_new_client_fills_in_the_form_on_a_phone(browser_factory, clinic):
    client = ClientFactory(first_name="Lena", last_name="Fischer", email="lena@example.com")
    visit = _book(clinic, client)
    dispatch.tick()
    staff = browser_factory()
    log_in(staff, "tess")
    link = _link_from_the_outbox(staff, "lena@example.com")

    tab = browser_factory(phone=True)
    page = tab.page
    tab.goto(link)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert "Lena" not in page.locator("main").inner_text()  # nothing before the date of birth

    # A wrong date of birth first: refused, nothing shown.
    page.fill("#id_date_of_birth", "1980-01-05")
    tab.expect_status(link, 400)
    _next(page)
    assert "does not match" in page.locator("[role=alert]").inner_text()
    page.fill("#id_date_of_birth", "1980-05-01")
    _next(page)
    assert "Step 1 of 10" in page.locator("main").inner_text()
    tab.shot("client-form-about")
    _next(page)

    # Conditions: one from the list, one in everyday words.
    page.locator("summary", has_text="Blood").first.click()
    _tap(page, "cond_thrombosis")
    page.fill("#id_other_0_code", "my knee clicks")
    tab.shot("client-form-conditions")
    assert _small_targets(page) == []
    _next(page)
    _next(page)  # pregnancy: nothing
    page.fill("#id_medications", "warfarin 5 mg")
    _next(page)
    _next(page)  # recent illness: nothing

    # Pain, with the body map: a tap on the map chooses the part, listed in words.
    page.fill("#id_pain_score", "4")
    page.select_option("#id_pain_character", "dull")
    page.locator('.body-map .region[data-region="legs"] rect').first.click()
    assert page.locator('input[name="pain_regions"][value="legs"]').is_checked()
    assert "Legs" in page.locator("[data-chosen]").inner_text()
    tab.shot("client-form-pain")
    assert _small_targets(page) == []
    _next(page)

    # Back keeps the answers.
    page.locator("a", has_text="Back").click()
    assert page.locator("#id_pain_score").input_value() == "4"
    _next(page)
    _next(page)  # warning signs: none
    page.fill("#id_allergies", "latex")
    _next(page)
    page.fill("#id_free_text", "My leg has been swollen since Sunday")
    _next(page)

    # The summary, then the consent signed with the full name.
    summary = page.locator("main").inner_text()
    assert "warfarin 5 mg" in summary and "latex" in summary and "my knee clicks" in summary
    page.locator("#id_consent").check()
    page.fill("#id_signature_name", "Lena Fischer")
    tab.shot("client-form-sign")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _next(page)
    assert "Thank you" in page.locator("h1").inner_text()
    assert "contraindicated" not in page.locator("main").inner_text().lower()
    path = tab.shot("client-form-thanks")

    intake = Intake.objects.get(client=client)
    assert intake.source == "client" and intake.consent_method == "client_link"
    assert IntakeLink.objects.get(visit=visit, status=LinkStatus.ANSWERED).review_needed
    assert path.exists()
    tab.assert_clean()
    staff.assert_clean()


def test_a_returning_client_says_nothing_changed(browser_factory, clinic):
    client = ClientFactory(first_name="Omar", last_name="Said", email="omar@example.com")
    previous = intake_record(
        client=client,
        data=parse_intake(_intake_payload(allergies=["latex"])),
        by=clinic,
        ip="127.0.0.1",
        signature_name=client.full_name,
    )
    _book(clinic, client)
    dispatch.tick()
    staff = browser_factory()
    log_in(staff, "tess")
    link = _link_from_the_outbox(staff, "omar@example.com")

    tab = browser_factory(phone=True)
    page = tab.page
    tab.goto(link)
    page.fill("#id_date_of_birth", "1980-05-01")
    _next(page)
    _tap(page, "changed", "no")
    _next(page)
    assert "Check and sign" in page.locator("h1").inner_text()
    assert "latex" in page.locator("main").inner_text()
    page.locator("#id_consent").check()
    page.fill("#id_signature_name", "Omar Said")
    _next(page)
    assert "Thank you" in page.locator("h1").inner_text()
    latest = client.latest_intake()
    assert latest.previous == previous and latest.allergies == ["latex"]
    tab.assert_clean()


def test_the_therapist_sees_the_result_and_the_alert(browser_factory, clinic):
    client = ClientFactory(first_name="Kofi", last_name="Mensah", email="kofi@example.com")
    visit = _book(clinic, client)
    dispatch.tick()
    from django.test import Client as WebClient

    link = IntakeLink.objects.get(visit=visit, purpose="invite")
    body = OutboxMessage.objects.get(to="kofi@example.com").body
    base = re.search(r"/i/[A-Za-z0-9_-]+", body).group(0)  # the form link, from the outbox
    web = WebClient()
    web.post(f"{base}/", {"date_of_birth": "1980-05-01"})
    web.post(f"{base}/about/", {})
    web.post(f"{base}/conditions/", {"cond_thrombosis": "on"})
    for slug in ("pregnancy", "medicines", "illness", "pain", "warning", "allergies", "notes"):
        web.post(f"{base}/{slug}/", {})
    web.post(f"{base}/consent/", {"consent": "on", "signature_name": "Kofi Mensah"})
    link.refresh_from_db()
    assert link.status == LinkStatus.ANSWERED and link.alert_status == "sent"

    tab = browser_factory()
    log_in(tab, "tess")
    tab.goto("/followup/outbox/")
    alert = tab.page.locator(".card", has_text="to tess@clinic.example").first
    assert "health form needs your review" in alert.inner_text()
    assert "Kofi" not in alert.inner_text() and "thromb" not in alert.inner_text().lower()
    with tab.page.expect_navigation():
        alert.locator(f"a[href$='/visits/{visit.pk}/']").click()
    main = tab.page.locator("main").inner_text()
    assert "needs review before the visit" in main and "Submitted by the client" in main
    tab.shot("therapist-client-form-review")
    with tab.page.expect_navigation():
        tab.page.locator("a", has_text="Open the screening report").click()
    assert "Contraindicated" in tab.page.locator("main").inner_text()
    tab.page.go_back()
    with tab.page.expect_navigation():
        tab.page.locator("button", has_text="Mark the health form as reviewed").click()
    assert "needs review before the visit" not in tab.page.locator("main").inner_text()
    tab.assert_clean()
