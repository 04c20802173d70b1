"""The printable documents: the clearance-request letter and the intake and screening
summary (therapists only; each read logged by tests/security/test_audit.py)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from screening import services
from screening.models import Clearance
from tests.factories import VisitFactory

pytestmark = pytest.mark.django_db

WARFARIN_QUOTE = "blood thinners"  # part of the blood_thinners rule's source quotes


@pytest.fixture
def needs_clearance(therapist):
    visit = VisitFactory(
        therapist=therapist,
        planned_modality="swedish",
        focus_regions=["neck", "shoulders"],
        intake__medications=["warfarin 5 mg"],
    )
    services.screen_visit(visit=visit)
    return visit


def test_the_letter_asks_the_doctor_about_each_rule_with_its_sources_and_the_plan(
    therapist_client, needs_clearance
):
    url = reverse("screening:clearance_letter", args=[needs_clearance.pk])

    content = therapist_client.get(url, {"doctor": "Dr Ada Okafor"}).content.decode()

    rule = services.current_catalogue().find_rule("blood_thinners")
    assert "To: Dr Ada Okafor" in content
    assert needs_clearance.client.full_name in content
    assert f"<strong>{rule.title}</strong>" in content
    assert all(f"Source: “{source.quote}”" in content for source in rule.sources)
    assert "Technique: Swedish (classical)." in content
    assert "Areas: Neck, Shoulders." in content
    assert "Reply slip: medical clearance" in content
    assert 'href="/static/css/print.css"' in content


def test_a_clearance_recorded_from_the_letter_links_back_to_it(therapist_client, needs_clearance):
    client = needs_clearance.client
    reply_url = reverse("screening:client_clearance_add", args=[client.pk])
    today = timezone.localdate()

    form = therapist_client.get(reply_url, {"letter": needs_clearance.pk}).content.decode()
    therapist_client.post(
        f"{reply_url}?letter={needs_clearance.pk}",
        {
            "doctor_name": "Dr Ada Okafor",
            "issued_on": today.isoformat(),
            "expires_on": (today + datetime.timedelta(days=90)).isoformat(),
            "codes": ["blood_thinners"],
        },
    )

    letter_url = reverse("screening:clearance_letter", args=[needs_clearance.pk])
    assert f'href="{letter_url}"' in form
    clearance = Clearance.objects.get()
    assert clearance.requested_for == needs_clearance
    letter = therapist_client.get(letter_url).content.decode()
    assert "Replies recorded" in letter and "Dr Ada Okafor" in letter
    page = therapist_client.get(reply_url).content.decode()
    assert f'In reply to the <a href="{letter_url}">clearance-request letter</a>' in page


def test_the_summary_shows_the_health_history_and_the_screening(therapist_client, needs_clearance):
    url = reverse("screening:record_summary", args=[needs_clearance.pk])

    content = therapist_client.get(url).content.decode()

    assert "Intake and screening summary" in content
    assert "warfarin 5 mg" in content
    assert "Decision: <strong>" in content
    assert "Techniques not to use: Deep tissue" in content


def test_the_visit_page_and_the_report_link_the_documents(therapist_client, needs_clearance):
    letter = reverse("screening:clearance_letter", args=[needs_clearance.pk])
    summary = reverse("screening:record_summary", args=[needs_clearance.pk])

    visit_page = therapist_client.get(reverse("intake:visit_detail", args=[needs_clearance.pk]))
    report = therapist_client.get(reverse("screening:report", args=[needs_clearance.pk]))

    assert letter in visit_page.content.decode() and summary in visit_page.content.decode()
    assert letter in report.content.decode()


@pytest.mark.parametrize("name", ["screening:clearance_letter", "screening:record_summary"])
def test_front_desk_never_sees_the_documents(front_desk_client, needs_clearance, name):
    response = front_desk_client.get(reverse(name, args=[needs_clearance.pk]))

    assert response.status_code == 403
    assert b"warfarin" not in response.content
