"""Data checks: a recovery date after the visit is refused, the client page counts a
pregnancy, and an intake for a booked visit does not ask again for the visit's plan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake
from tests.factories import ClientFactory, IntakeFactory, VisitFactory
from tests.intake.conftest import intake_post

pytestmark = pytest.mark.django_db


def test_recovered_after_the_visit_is_refused_next_to_its_field(therapist_client):
    client = ClientFactory()
    later = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    data = intake_post(client, recent_illness_name="influenza", recent_illness_recovered_on=later)

    response = therapist_client.post(reverse("intake:intake_create", args=[client.pk]), data)

    assert response.status_code == 400
    assert "after the visit date" in " ".join(
        response.context["form"].errors["recent_illness_recovered_on"]
    )
    assert not Intake.objects.exists()


def test_recovered_on_the_visit_day_is_accepted(therapist_client):
    client = ClientFactory()
    data = intake_post(
        client,
        recent_illness_name="influenza",
        recent_illness_recovered_on=timezone.localdate().isoformat(),
    )

    response = therapist_client.post(reverse("intake:intake_create", args=[client.pk]), data)

    assert response.status_code == 302


def test_the_client_page_summary_counts_a_pregnancy(therapist_client):
    intake = IntakeFactory(
        pregnant=True, pregnancy_weeks=20, conditions=[], pain_score=None, red_flags=[]
    )

    content = therapist_client.get(
        reverse("intake:client_detail", args=[intake.client_id])
    ).content.decode()

    assert "0 conditions · pregnant (20 weeks)" in content


def test_an_intake_for_a_booked_visit_takes_its_date_and_plan_and_does_not_ask_again(
    therapist_client, therapist
):
    when = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() + dt.timedelta(days=2), dt.time(11))
    )
    visit = VisitFactory(
        therapist=therapist,
        scheduled_at=when,
        planned_modality="deep_tissue",
        focus_regions=["lumbar"],
        intake=None,
    )
    url = reverse("intake:intake_create", args=[visit.client_id]) + f"?visit={visit.pk}"

    form_page = therapist_client.get(url).content.decode()
    data = intake_post(visit.client, visit_date=None, planned_modality=None, focus_regions=None)
    response = therapist_client.post(url, data)

    assert 'name="visit_date"' not in form_page and 'name="planned_modality"' not in form_page
    assert "For the visit of" in form_page and "Deep tissue, Lower back" in form_page
    assert response.status_code == 302
    intake = Intake.objects.get(client=visit.client)
    assert (intake.visit_date, intake.planned_modality, intake.focus_regions) == (
        when.date(),
        "deep_tissue",
        ["lumbar"],
    )


@pytest.mark.parametrize("asked", ["abc", "-1", "1e3", "9" * 40, "", "%00"])
def test_a_crafted_visit_in_the_query_string_is_ignored(therapist_client, asked):
    client = ClientFactory()
    url = reverse("intake:intake_create", args=[client.pk])
    page = therapist_client.get(url, {"visit": asked})
    assert page.status_code == 200
    posted = therapist_client.post(f"{url}?visit={asked}", intake_post(client))
    assert posted.status_code == 302
    assert Intake.objects.filter(client=client).count() == 1
