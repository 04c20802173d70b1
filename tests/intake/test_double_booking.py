"""A therapist cannot be booked twice at overlapping times: the therapist's pages and the
admin both refuse it, with the one rule of intake.services.scheduling_problem, and the
services check it again with the therapist locked, so two bookings at once make one visit."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from intake import services
from intake.models import Visit
from intake.services import scheduling_problem
from tests.factories import ClientFactory, IntakeFactory, VisitFactory
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

TOMORROW_10 = timezone.make_aware(
    dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time(10))
)


def _book_on_the_page(http, therapist, when):
    """Book a new client's visit with `therapist` at `when` on the therapist's page."""
    client = IntakeFactory().client
    return http.post(
        reverse("intake:visit_create", args=[client.pk]),
        {
            "scheduled_at": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
            "therapist": therapist.pk,
            "planned_modality": "swedish",
        },
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
    response = _book_on_the_page(
        therapist_client, therapist, TOMORROW_10 + dt.timedelta(minutes=30)
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


def test_the_services_refuse_a_double_booking_the_forms_did_not_see(therapist, booked):
    client = IntakeFactory().client
    plan = {"planned_modality": "swedish", "focus_regions": [], "by": therapist}

    with pytest.raises(services.VisitError) as booking:
        services.visit_schedule(
            client=client,
            therapist=therapist,
            scheduled_at=TOMORROW_10 + dt.timedelta(minutes=30),
            **plan,
        )
    other = VisitFactory(therapist=therapist, scheduled_at=TOMORROW_10 + dt.timedelta(hours=3))
    with pytest.raises(services.VisitError) as moving:
        services.visit_change_plan(visit=other, scheduled_at=TOMORROW_10, **plan)

    assert booking.value.problems == [
        "The therapist already has a visit at 10:00; choose another time."
    ]
    assert moving.value.problems == booking.value.problems
    assert Visit.objects.count() == 2
    other.refresh_from_db()
    assert other.scheduled_at == TOMORROW_10 + dt.timedelta(hours=3)


def test_a_booking_made_between_the_form_and_the_save_is_refused_with_the_form(
    therapist_client, therapist, monkeypatch
):
    # The form's check passes; the same time is booked before the service books it.
    real = services.visit_schedule

    def booked_meanwhile(**kwargs):
        VisitFactory(therapist=therapist, scheduled_at=TOMORROW_10)
        return real(**kwargs)

    monkeypatch.setattr(services, "visit_schedule", booked_meanwhile)

    response = _book_on_the_page(therapist_client, therapist, TOMORROW_10)

    assert response.status_code == 409
    assert "The therapist already has a visit at 10:00" in response.content.decode()
    assert Visit.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_one_therapist_at_one_moment_make_one_visit(therapist):
    require_postgres()
    clients = [IntakeFactory().client for _ in range(4)]
    start = threading.Barrier(len(clients))
    booked, refused, errors = [], [], []

    def book(client) -> None:
        try:
            start.wait()
            visit = services.visit_schedule(
                client=client,
                therapist=therapist,
                scheduled_at=TOMORROW_10,
                planned_modality="swedish",
                focus_regions=[],
                by=therapist,
            )
            booked.append(visit.pk)
        except services.VisitError:
            refused.append(client.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=book, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(booked) == 1
    assert len(refused) == len(clients) - 1
    assert Visit.objects.filter(therapist=therapist, status="scheduled").count() == 1
