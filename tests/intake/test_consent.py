"""Follow-up consent with its provenance: who recorded it, when, and how the client gave it;
a client's opt-out is reversed only by a new consent from the client."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from followup.scheduling import opt_out
from intake.models import Client
from intake.services import consent_record
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _contact(client: Client, **changes) -> dict:
    data = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "date_of_birth": client.date_of_birth.isoformat(),
        "email": client.email,
        "phone": "+447911123456",
        "preferred_channel": client.preferred_channel,
    }
    return data | changes


def test_front_desk_records_a_consent_given_by_phone_with_who_when_and_how(
    front_desk_client, front_desk
):
    person = ClientFactory(followup_consent=False, followup_consent_at=None)
    url = reverse("admin:intake_client_consent", args=[person.pk])
    assert front_desk_client.get(url).status_code == 200
    response = front_desk_client.post(url, {"given": "yes", "source": "phone", "confirm": "on"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.followup_consent
    assert (person.followup_consent_source, person.followup_consent_by) == ("phone", front_desk)
    assert abs((timezone.now() - person.followup_consent_at).total_seconds()) < 60
    latest = person.history.latest()
    assert (latest.history_user, latest.followup_consent_source) == (front_desk, "phone")


@pytest.mark.parametrize(
    "data",
    [
        {"given": "yes", "source": "phone"},  # not confirmed as the client's own
        {"given": "yes", "confirm": "on"},  # no source
        {"given": "yes", "source": "unrecorded", "confirm": "on"},
        {"given": "maybe", "source": "paper", "confirm": "on"},
    ],
)
def test_a_consent_without_its_provenance_is_refused_and_nothing_changes(front_desk_client, data):
    person = ClientFactory(followup_consent=False, followup_consent_at=None)
    url = reverse("admin:intake_client_consent", args=[person.pk])
    assert front_desk_client.post(url, data).status_code == 400
    person.refresh_from_db()
    assert not person.followup_consent


def test_the_client_record_form_cannot_change_consent_or_clear_an_opt_out(front_desk_client):
    person = ClientFactory()
    opt_out(client=person)
    person.refresh_from_db()
    opted_out_at = person.opted_out_at
    url = reverse("admin:intake_client_change", args=[person.pk])
    response = front_desk_client.post(
        url,
        _contact(
            person,
            followup_consent="on",
            followup_consent_source="phone",
            opted_out_at_0="",
            opted_out_at_1="",
        ),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.opted_out_at == opted_out_at
    form = front_desk_client.get(url).context["adminform"].form
    assert not {"followup_consent", "opted_out_at", "followup_consent_source"} & set(form.fields)


def test_only_a_new_consent_from_the_client_ends_their_opt_out(front_desk_client, front_desk):
    person = ClientFactory()
    opt_out(client=person)
    person.refresh_from_db()
    assert not person.wants_followup()
    url = reverse("admin:intake_client_consent", args=[person.pk])
    front_desk_client.post(url, {"given": "yes", "source": "paper", "confirm": "on"})
    person.refresh_from_db()
    assert person.opted_out_at is None and person.wants_followup()
    assert person.followup_consent_source == "paper"
    # The opt-out and the new consent are both in the history.
    states = [(h.opted_out_at is not None, h.followup_consent_source) for h in person.history.all()]
    assert (True, "paper") not in states[:1]
    assert any(opted for opted, _ in states)


def test_a_withdrawal_is_recorded_with_its_source_too(front_desk_client, front_desk):
    person = ClientFactory()
    url = reverse("admin:intake_client_consent", args=[person.pk])
    front_desk_client.post(url, {"given": "no", "source": "phone", "confirm": "on"})
    person.refresh_from_db()
    assert not person.followup_consent and person.followup_consent_at is None
    assert (person.followup_consent_source, person.followup_consent_by) == ("phone", front_desk)


def test_adding_a_client_with_consent_needs_its_source(front_desk_client, front_desk):
    url = reverse("admin:intake_client_add")
    data = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "date_of_birth": "1985-03-04",
        "email": "ana@example.com",
        "phone": "",
        "preferred_channel": "email",
        "followup_consent": "on",
    }
    refused = front_desk_client.post(url, data)
    assert refused.status_code == 200
    assert "followup_consent_source" in refused.context["adminform"].form.errors
    assert not Client.objects.exists()
    assert (
        front_desk_client.post(url, data | {"followup_consent_source": "paper"}).status_code == 302
    )
    person = Client.objects.get()
    assert (person.followup_consent_source, person.followup_consent_by) == ("paper", front_desk)
    assert person.followup_consent_at is not None


def test_the_service_refuses_an_unknown_source(therapist):
    person = ClientFactory()
    with pytest.raises(ValueError):
        consent_record(client=person, by=therapist, source="rumour")
