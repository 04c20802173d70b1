"""The client's health form in the browser page tour (tests/browser/pages.py): the tour's
data for it (a `Tour` mixin) and its pages, each reached through the steps before it."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from django.utils import timezone

from clinical.intake import parse_intake
from intake.client_form import SLUGS
from intake.linkmodels import IntakeLink
from intake.services import intake_record, visit_schedule
from messaging.links import hash_token
from messaging.models import LinkStatus

FORM_TOKEN = "tour-form-token-0123456789abcdefgh"  # noqa: S105
RETURNING_FORM_TOKEN = "tour-returning-form-token-012345"  # noqa: S105
REVIEW_FORM_TOKEN = "tour-review-form-token-0123456789"  # noqa: S105
DATE_OF_BIRTH = "1980-05-01"  # every tour client's


class FormTour:
    """The tour's clients with a health form link (the `Tour` has `_client` and `therapist`)."""

    def _form_link(self, first: str, last: str, token: str, *, hour: int, returning: bool = False):
        """A client booked tomorrow at `hour` whose health form link was sent; return the
        visit (each at its own hour: the therapist cannot be booked twice at once)."""
        from tests.browser.pages import _intake_payload

        client = self._client(first, last)
        if returning:
            intake_record(
                client=client,
                data=parse_intake(_intake_payload(allergies=["latex"])),
                by=self.therapist,
                ip="127.0.0.1",
                signature_name=client.full_name,
            )
        tomorrow = timezone.localtime() + dt.timedelta(days=1)
        visit = visit_schedule(
            client=client,
            therapist=self.therapist,
            scheduled_at=tomorrow.replace(hour=hour, minute=0, second=0, microsecond=0),
            planned_modality="swedish",
            focus_regions=["neck"],
            by=self.therapist,
        )
        link = IntakeLink.objects.get(visit=visit, purpose="invite")
        link.status, link.sent_at, link.attempts = LinkStatus.SENT, timezone.now(), 1
        link.due_at = min(link.due_at, timezone.now())
        link.token_hash = hash_token(token)
        link.save()
        return visit

    @functools.cached_property
    def form_link(self) -> str:
        self._form_link("Lena", "Fischer", FORM_TOKEN, hour=10)
        return f"/i/{FORM_TOKEN}/"

    @functools.cached_property
    def returning_form_link(self) -> str:
        self._form_link("Omar", "Said", RETURNING_FORM_TOKEN, hour=12, returning=True)
        return f"/i/{RETURNING_FORM_TOKEN}/"

    @functools.cached_property
    def form_for_review(self):
        """A visit whose client sent a form that needs the therapist (a blood clot)."""
        from django.test import Client as WebClient

        visit = self._form_link("Kofi", "Mensah", REVIEW_FORM_TOKEN, hour=14, returning=True)
        web, base = WebClient(), f"/i/{REVIEW_FORM_TOKEN}"
        web.post(f"{base}/", {"date_of_birth": DATE_OF_BIRTH})
        web.post(f"{base}/about/", {"changed": "yes"})
        web.post(f"{base}/conditions/", {"cond_thrombosis": "on"})
        for slug in ("pregnancy", "medicines", "illness", "pain", "warning", "allergies", "notes"):
            web.post(f"{base}/{slug}/", {})
        web.post(f"{base}/consent/", {"consent": "on", "signature_name": visit.client.full_name})
        assert IntakeLink.objects.get(visit=visit, status=LinkStatus.ANSWERED).review_needed
        return visit


def _submit(page) -> None:
    with page.expect_navigation():
        page.locator("main button[type=submit]").first.click()


def _date_of_birth(page, value: str = DATE_OF_BIRTH) -> None:
    page.fill("#id_date_of_birth", value)
    _submit(page)


def _to_form_step(steps: int, *, changed: str | None = None) -> Callable:
    """Give the date of birth, then press Next `steps` times with nothing filled in."""

    def reach(page) -> None:
        _date_of_birth(page)
        for number in range(steps):
            if number == 0 and changed:
                radio = page.locator(f'input[name="changed"][value="{changed}"]')
                page.locator(f'label[for="{radio.get_attribute("id")}"]').click()
            _submit(page)

    return reach


def _pain_out_of_range(page) -> None:
    _to_form_step(5)(page)
    page.fill("#id_pain_score", "11")
    _submit(page)


def _sign_wrongly(page) -> None:
    _to_form_step(9)(page)
    page.fill("#id_signature_name", "Somebody Else")
    _submit(page)


def _send_the_form(page) -> None:
    _to_form_step(9)(page)
    page.locator("#id_consent").check()
    page.fill("#id_signature_name", "Lena Fischer")
    _submit(page)


def client_form_pages(Page, CLIENT) -> list:  # noqa: N803 - the tour's class and role
    """Return every page of the client's health form as the page tour's `Page`s."""
    return [
        Page("form-start", CLIENT, lambda t: t.form_link),
        Page(
            "form-wrong-date",
            CLIENT,
            lambda t: t.form_link,
            status=400,
            reach=lambda page: _date_of_birth(page, "1999-12-31"),
        ),
        *(
            Page(f"form-{slug}", CLIENT, lambda t: t.form_link, reach=_to_form_step(number))
            for number, slug in enumerate(SLUGS)
        ),
        Page(
            "form-about-returning", CLIENT, lambda t: t.returning_form_link, reach=_to_form_step(0)
        ),
        Page(
            "form-summary-returning",
            CLIENT,
            lambda t: t.returning_form_link,
            reach=_to_form_step(1, changed="no"),
        ),
        Page(
            "form-step-errors",
            CLIENT,
            lambda t: f"{t.form_link}pain/",
            status=400,
            reach=_pain_out_of_range,
        ),
        Page(
            "form-consent-errors",
            CLIENT,
            lambda t: f"{t.form_link}consent/",
            status=400,
            reach=_sign_wrongly,
        ),
        Page("form-done", CLIENT, lambda t: t.form_link, reach=_send_the_form),
        Page("form-opt-out", CLIENT, lambda t: f"{t.form_link}opt-out/"),
        Page("form-opt-out-done", CLIENT, lambda t: f"{t.form_link}opt-out/", reach=_submit),
        Page("form-unusable", CLIENT, lambda t: "/i/no-such-token-0123456789abcdef/", status=404),
        Page(
            "form-rate-limited",
            CLIENT,
            lambda t: t.form_link,
            status=429,
            prepare=lambda monkeypatch: monkeypatch.setattr(
                "django.conf.settings.INTAKE_RATE_LIMIT_REQUESTS", 0
            ),
        ),
    ]
