"""A visit's finish time lies between its scheduled time minus one day and now, whichever
page completes it (the rule is in services.visit_complete, which every path calls)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from followup.models import CheckIn
from intake.models import VisitStatus
from intake.services import VisitError, visit_complete
from intake.visit_forms import VisitCompleteForm
from screening.services import screen_visit
from tests.factories import VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(therapist):
    visit = VisitFactory(
        therapist=therapist, scheduled_at=timezone.now() - datetime.timedelta(hours=2)
    )
    screen_visit(visit=visit)
    return visit


@pytest.mark.parametrize(
    "finished",
    [
        datetime.datetime(1999, 1, 1, tzinfo=datetime.UTC),
        "scheduled - 1 day - 1 minute",
        "now + 10 minutes",
    ],
)
def test_a_finish_time_out_of_bounds_is_refused_and_nothing_is_stored(visit, therapist, finished):
    if finished == "scheduled - 1 day - 1 minute":
        finished = visit.scheduled_at - datetime.timedelta(days=1, minutes=1)
    elif finished == "now + 10 minutes":
        finished = timezone.now() + datetime.timedelta(minutes=10)
    with pytest.raises(VisitError):
        visit_complete(visit=visit, by=therapist, modality="swedish", completed_at=finished)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SCHEDULED
    assert not CheckIn.objects.exists()


def test_a_finish_time_within_bounds_is_kept(visit, therapist):
    finished = visit.scheduled_at - datetime.timedelta(hours=23)
    done = visit_complete(visit=visit, by=therapist, modality="swedish", completed_at=finished)
    assert done.completed_at == finished
    assert CheckIn.objects.filter(visit=visit).count() == 3


def test_the_therapists_form_says_why(visit, therapist_client):
    response = therapist_client.post(
        reverse("intake:visit_complete", args=[visit.pk]),
        {"performed_modality": "swedish", "completed_at": "1999-01-01T10:00"},
    )
    assert response.status_code == 400
    errors = response.context["complete_form"].errors["completed_at"]
    assert "cannot finish before" in errors[0]
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SCHEDULED


def test_the_form_accepts_a_time_a_minute_ahead_as_now(visit):
    ahead = timezone.localtime() + datetime.timedelta(seconds=30)
    form = VisitCompleteForm(
        {"performed_modality": "swedish", "completed_at": ahead.strftime("%Y-%m-%dT%H:%M")},
        visit=visit,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["completed_at"] <= timezone.now()


def test_the_admin_offers_no_way_around_it(front_desk_client, therapist, visit):
    """The admin shows the finish time read-only: completion goes through the service."""
    from django.contrib import admin
    from django.test import RequestFactory

    from intake.models import Visit

    model_admin = admin.site._registry[Visit]
    request = RequestFactory().get("/")
    request.user = therapist
    assert "completed_at" in model_admin.get_readonly_fields(request, visit)
    url = reverse("admin:intake_visit_change", args=[visit.pk])
    form = front_desk_client.get(url).context["adminform"].form
    assert "completed_at" not in form.fields
