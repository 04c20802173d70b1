"""A therapist cannot be booked twice at overlapping times: the therapist's pages and the
admin both refuse it, with the one rule of intake.services.scheduling_problem."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Visit
from intake.services import scheduling_problem
from tests.factories import ClientFactory, IntakeFactory, VisitFactory

pytestmark = pytest.mark.django_db

TOMORROW_10 = timezone.make_aware(
    dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(10))
)


@pytest.fixture
def booked(therapist):
    return VisitFactory(therapist=therapist, scheduled_at=TOMORROW_10)


@pytest.mark.parametrize(
    ("minutes", "clash"), [(0, True), (30, True), (-59, True), (60, False), (-60, False)]
)
def test_a_visit_within_the_slot_of_another_clashes(therapist, booked, minutes, clash):
    when = TOMORROW_10 + dt.timedelta(minutes=minutes)

    problem = scheduling_problem(therapist=therapist, scheduled_at=when)

    assert (problem is not None) == clash
    if clash:
        assert problem == "The therapist already has a visit at 10:00; choose another time."


def test_a_cancelled_visit_frees_its_time(therapist, booked):
    booked.status = "cancelled"
    booked.status_reason = "client ill"
    booked.save()

    assert scheduling_problem(therapist=therapist, scheduled_at=TOMORROW_10) is None


def test_the_therapists_page_refuses_a_double_booking(therapist_client, therapist, booked):
    client = IntakeFactory().client
    when = timezone.localtime(TOMORROW_10 + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")

    response = therapist_client.post(
        reverse("intake:visit_create", args=[client.pk]),
        {"scheduled_at": when, "therapist": therapist.pk, "planned_modality": "swedish"},
    )

    assert response.status_code == 400
    assert "The therapist already has a visit at 10:00" in response.content.decode()
    assert Visit.objects.count() == 1


def test_the_admin_refuses_a_double_booking(front_desk_client, therapist, booked):
    client = ClientFactory()
    local = timezone.localtime(TOMORROW_10 + dt.timedelta(minutes=30))

    response = front_desk_client.post(
        reverse("admin:intake_visit_add"),
        {
            "client": client.pk,
            "therapist": therapist.pk,
            "scheduled_at_0": local.date().isoformat(),
            "scheduled_at_1": local.strftime("%H:%M"),
            "planned_modality": "swedish",
        },
    )

    assert response.status_code == 200
    assert "The therapist already has a visit at 10:00" in response.content.decode()
    assert Visit.objects.count() == 1


def test_moving_a_visit_onto_another_is_refused_but_keeping_its_own_time_is_not(
    front_desk_client, therapist, booked
):
    other = VisitFactory(therapist=therapist, scheduled_at=TOMORROW_10 + dt.timedelta(hours=3))
    url = reverse("admin:intake_visit_change", args=[other.pk])
    local = timezone.localtime(TOMORROW_10)
    data = {
        "client": other.client.pk,
        "therapist": therapist.pk,
        "scheduled_at_0": local.date().isoformat(),
        "scheduled_at_1": "10:15",
        "planned_modality": "swedish",
    }

    refused = front_desk_client.post(url, data)
    kept = front_desk_client.post(url, {**data, "scheduled_at_1": "13:00"})

    assert "already has a visit" in refused.content.decode()
    assert kept.status_code == 302
