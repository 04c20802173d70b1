"""Today's list moves day by day, and a week list shows what each coming visit still needs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from intake import extensions
from screening import services
from tests.factories import VisitFactory

pytestmark = pytest.mark.django_db


def at(days: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_the_day_list_shows_another_day_with_links_to_the_days_around_it(
    therapist_client, therapist
):
    tomorrow = VisitFactory(therapist=therapist, scheduled_at=at(1))
    VisitFactory(therapist=therapist, scheduled_at=at(2))
    day = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    response = therapist_client.get(reverse("intake:today"), {"day": day})

    assert [v.pk for v in response.context["visits"]] == [tomorrow.pk]
    content = response.content.decode()
    assert f'href="?day={timezone.localdate().isoformat()}"' in content  # previous day
    assert f'href="?day={(timezone.localdate() + dt.timedelta(days=2)).isoformat()}"' in content


def test_a_day_that_is_not_a_date_shows_today(therapist_client, therapist):
    today = VisitFactory(therapist=therapist, scheduled_at=at(0, 23))

    response = therapist_client.get(reverse("intake:today"), {"day": "tomorrow"})

    assert [v.pk for v in response.context["visits"]] == [today.pk]


def test_the_week_list_shows_seven_days_and_who_needs_a_clearance_letter(
    therapist_client, therapist
):
    needs_letter = VisitFactory(
        therapist=therapist, scheduled_at=at(1), intake__medications=["warfarin 5 mg"]
    )
    clear = VisitFactory(therapist=therapist, scheduled_at=at(6))
    VisitFactory(therapist=therapist, scheduled_at=at(7))  # the eighth day
    services.screen_visit(visit=needs_letter)
    services.screen_visit(visit=clear)

    response = therapist_client.get(reverse("intake:today"), {"week": "1"})

    assert [v.pk for v in response.context["visits"]] == [needs_letter.pk, clear.pk]
    content = response.content.decode()
    letter = reverse("screening:clearance_letter", args=[needs_letter.pk])
    assert f'<a href="{letter}">Needs one: print the letter</a>' in content
    assert reverse("screening:clearance_letter", args=[clear.pk]) not in content
    assert '<th scope="col">Clearance letter</th>' in content


def test_the_week_list_shows_the_pre_visit_health_forms_status(therapist_client, therapist):
    VisitFactory(therapist=therapist, scheduled_at=at(1))

    content = therapist_client.get(reverse("intake:today"), {"week": "1"}).content.decode()

    assert '<th scope="col">Health form</th>' in content


def test_a_column_registered_for_the_week_shows_there(therapist_client, therapist, monkeypatch):
    VisitFactory(therapist=therapist, scheduled_at=at(1))
    column = extensions.VisitColumn(
        name="coming_soon",
        description="Coming soon",
        annotate=lambda visits: visits,
        render=lambda visit: "Ready",
        places=("week",),
    )
    monkeypatch.setattr(extensions, "visit_columns", [*extensions.visit_columns, column])

    content = therapist_client.get(reverse("intake:today"), {"week": "1"}).content.decode()

    assert '<th scope="col">Coming soon</th>' in content
    assert "<td>Ready</td>" in content
