from __future__ import annotations

import pytest
from django.urls import reverse

from intake.models import HealthRecordAccess
from tests.factories import IntakeFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(therapist):
    first = IntakeFactory()
    second = IntakeFactory(client=first.client, previous=first)
    return VisitFactory(client=first.client, intake=second, therapist=therapist)


@pytest.mark.parametrize(
    ("name", "arg", "what"),
    [
        ("intake:client_detail", "client", "client page"),
        ("intake:intake_detail", "intake", "intake"),
        ("intake:intake_diff", "intake", "intake changes"),
        ("intake:visit_detail", "visit", "visit"),
    ],
)
def test_reading_a_health_history_is_logged(therapist_client, therapist, visit, name, arg, what):
    target = {"client": visit.client, "intake": visit.intake, "visit": visit}[arg]
    url = reverse(name, args=[target.pk])
    assert therapist_client.get(url + "?q=secret").status_code == 200
    access = HealthRecordAccess.objects.get()
    assert (access.user, access.client, access.what, access.path) == (
        therapist,
        visit.client,
        what,
        url,
    )


def test_refused_and_list_pages_log_nothing(therapist_client, front_desk_client, visit):
    front_desk_client.get(reverse("intake:client_detail", args=[visit.client.pk]))
    therapist_client.get(reverse("intake:client_list"))
    therapist_client.get(reverse("intake:today"))
    assert not HealthRecordAccess.objects.exists()


def test_the_intake_form_prefilled_from_history_is_logged(therapist_client, visit):
    therapist_client.get(reverse("intake:intake_create", args=[visit.client.pk]))
    assert HealthRecordAccess.objects.get().what == "intake form (previous intake)"
