"""The admin speaks in words: therapists by name, modalities, regions and escalation reasons
by their labels from the vocabulary (the codes at most in a tooltip)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CheckInAnswerFactory, EscalationFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deep_tissue_visit(therapist):
    return VisitFactory(
        therapist=therapist,
        planned_modality="deep_tissue",
        focus_regions=["upper_back"],
        intake__planned_modality="deep_tissue",
    )


def test_the_visit_list_names_the_therapist_and_the_modality_in_words(
    front_desk_client, deep_tissue_visit
):
    body = front_desk_client.get(reverse("admin:intake_visit_changelist")).content.decode()
    assert "Tess Ng" in body and ">tess<" not in body  # the column and the filter
    assert "Deep tissue" in body
    assert ">deep_tissue<" not in body


def test_the_visit_list_filters_by_modality_in_words(front_desk_client, deep_tissue_visit):
    VisitFactory(planned_modality="swedish")
    url = reverse("admin:intake_visit_changelist")
    response = front_desk_client.get(url, {"planned_modality__exact": "deep_tissue"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [deep_tissue_visit]
    filters = [spec.title for spec in response.context["cl"].filter_specs]
    assert "planned modality" in filters


def test_the_visit_form_offers_therapists_by_name(front_desk_client, therapist):
    body = front_desk_client.get(reverse("admin:intake_visit_add")).content.decode()
    assert f'<option value="{therapist.pk}">Tess Ng</option>' in body


def test_a_completed_visit_shows_its_plan_in_words(therapist_client, therapist):
    visit = VisitFactory(
        therapist=therapist,
        planned_modality="deep_tissue",
        focus_regions=["upper_back", "neck"],
        status="completed",
        performed_modality="swedish",
        completed_at=timezone.now(),
        completed_by=therapist,
    )
    response = therapist_client.get(reverse("admin:intake_visit_change", args=[visit.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for words in ("Deep tissue", "Upper back, Neck", "Swedish", "Tess Ng"):
        assert words in body
    for code in ("deep_tissue", "upper_back", '["'):
        assert code not in body


def test_the_intake_page_shows_the_history_in_words(therapist_client, deep_tissue_visit):
    url = reverse("admin:intake_intake_change", args=[deep_tissue_visit.intake_id])
    body = therapist_client.get(url).content.decode()
    assert "Deep tissue" in body
    assert "deep_tissue" not in body and '["' not in body


def test_the_escalation_page_gives_its_reasons_in_words(superuser, client, therapist):
    answer = CheckInAnswerFactory(checkin__visit__therapist=therapist, score=8)
    escalation = EscalationFactory(
        checkin=answer.checkin, reasons=[{"rule": "U1", "hours": 24}, {"rule": "R2", "hours": 48}]
    )
    client.force_login(superuser)
    url = reverse("admin:followup_escalation_change", args=[escalation.pk])
    body = client.get(url).content.decode()
    assert "Urgent warning sign reported (check-in 1)" in body
    assert "Pain up 2 or more points, to 4/10 or more (check-in 2)" in body
    assert '"rule"' not in body
    assert ">U1<" not in body and ">R2 " not in body


def test_check_ins_are_named_by_their_real_wait(front_desk_client):
    """A demo sends after 2 minutes: nothing says "24 h" of a check-in that waited 2 minutes."""
    from tests.factories import CheckInFactory

    checkin = CheckInFactory(policy_hours=24, offset_seconds=120, channels=["sms"])
    assert str(checkin) == f"Check-in #{checkin.pk} (2 minutes after the visit, scheduled)"
    body = front_desk_client.get(reverse("admin:followup_checkin_changelist")).content.decode()
    assert "Check-in 1, 2 minutes after the visit" in body
    assert "Text message" in body
    assert "24 h" not in body and ">24<" not in body
    page = reverse("admin:followup_checkin_change", args=[checkin.pk])
    body = front_desk_client.get(page).content.decode()
    assert "Check-in 1, 2 minutes after the visit" in body
    assert "Offset seconds" not in body and '["sms"]' not in body
