"""A health form the client submits is screened at once; the therapist is told when it needs
them before the visit, with no health detail in the alert."""

from __future__ import annotations

import pytest
from django.core import mail

from intake.linkmodels import IntakeLink
from intake.models import Visit
from intake.previsit import FormStatus, form_status, with_form_status
from screening import previsit as form_review
from tests.intake.previsit_support import answers, book, fill, sent_link, sign

pytestmark = pytest.mark.django_db
TOKEN = "review-intake-token-0123456789abcdef"  # noqa: S105


def _submit(http, visit, **steps):
    sent_link(visit, TOKEN)
    fill(http, TOKEN, answers(**steps))
    response = sign(http, TOKEN, visit.client.full_name)
    assert response.status_code == 302
    return IntakeLink.objects.get(visit=visit, status="answered")


def _status(visit) -> str:
    return form_status(with_form_status(Visit.objects.filter(pk=visit.pk)).get())


def test_a_contraindication_alerts_the_therapist_at_once(
    client, celery_in_process, django_capture_on_commit_callbacks
):
    visit = book()
    visit.therapist.email = "tess@example.com"
    visit.therapist.save()
    with django_capture_on_commit_callbacks(execute=True):
        link = _submit(
            client, visit, conditions={"cond_thrombosis": "on", "cond_thrombosis_acute": "on"}
        )
    assert link.review_needed
    link.refresh_from_db()
    assert link.alert_status == form_review.SENT
    (alert,) = [m for m in mail.outbox if m.to == ["tess@example.com"]]
    assert "health form needs your review" in alert.subject
    body = alert.body.lower()
    assert "thrombosis" not in body and visit.client.last_name.lower() not in body
    assert f"/visits/{visit.pk}/" in alert.body
    assert _status(visit) == FormStatus.REVIEW


def test_a_clear_form_needs_no_review(client, celery_in_process):
    visit = book()
    link = _submit(client, visit)
    assert not link.review_needed and link.alert_status == ""
    assert _status(visit) == FormStatus.COMPLETED
    assert mail.outbox == [] or all("review" not in m.subject for m in mail.outbox)


def test_review_items_in_everyday_words_need_the_therapist(client, celery_in_process):
    visit = book()
    link = _submit(client, visit, notes={"free_text": "I have a frobnicated wobblitis"})
    assert link.review_needed


def test_the_therapist_marks_it_reviewed(client, celery_in_process, therapist):
    visit = book(therapist=therapist)
    _submit(client, visit, conditions={"cond_thrombosis": "on"})
    client.force_login(therapist)
    page = client.get(f"/visits/{visit.pk}/")
    assert b"Submitted by the client" in page.content
    assert b"needs review before the visit" in page.content
    today = client.get("/today/?all=1")
    assert today.status_code == 200
    response = client.post(f"/screening/visit/{visit.pk}/form-reviewed/")
    assert response.status_code == 302
    assert _status(visit) == FormStatus.COMPLETED
    assert IntakeLink.objects.get(visit=visit, status="answered").reviewed_by == therapist


def test_the_tick_retries_an_alert_that_never_went_out(client, monkeypatch):
    monkeypatch.setattr(form_review, "enqueue_alert", lambda link_id: None)
    visit = book()
    link = _submit(client, visit, conditions={"cond_thrombosis": "on"})
    link.refresh_from_db()
    assert link.alert_status == form_review.PENDING
    later = link.alert_retry_at
    assert form_review.retry_alerts(later) == 1
    assert form_review.retry_alerts(later) == 0  # leased
