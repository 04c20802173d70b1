"""The client's health form by link: date of birth first, steps in order, one Intake."""

from __future__ import annotations

import pytest

from intake.models import Intake
from messaging.models import LinkStatus
from tests.intake.previsit_support import book, fill, sent_link, sign, verify

pytestmark = pytest.mark.django_db
TOKEN = "test-intake-token-0123456789abcdef"  # noqa: S105


def test_a_new_client_completes_the_form(client):
    visit = book()
    link = sent_link(visit, TOKEN)
    fill(client, TOKEN)
    response = sign(client, TOKEN, visit.client.full_name)
    assert response.status_code == 302, response.content.decode()[:4000]
    assert response["Location"] == f"/i/{TOKEN}/done/"
    intake = Intake.objects.get(client=visit.client)
    assert intake.source == "client"
    assert intake.consent_method == "client_link"
    assert "ibuprofen" in intake.medications[0]
    link.refresh_from_db()
    assert link.status == LinkStatus.ANSWERED and link.intake == intake and link.draft == {}
    visit.refresh_from_db()
    assert visit.intake == intake
    assert visit.current_screening() is not None
    done = client.get(f"/i/{TOKEN}/done/")
    assert done.status_code == 200
    assert b"Thank you" in done.content


def test_get_changes_nothing(client):
    visit = book()
    link = sent_link(visit, TOKEN)
    for path in (f"/i/{TOKEN}/", f"/i/{TOKEN}/about/", f"/i/{TOKEN}/consent/"):
        client.get(path)
    link.refresh_from_db()
    assert link.opened_at is None and link.steps_done == [] and link.dob_failures == 0
    assert verify(client, TOKEN).status_code == 302
