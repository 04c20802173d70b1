"""Duplicate clients: a warning with a link when one is recorded again, and the admin's merge."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from followup.models import CheckIn
from intake.duplicates import clients_merge
from intake.models import Client, HealthRecordAccess, Intake, Visit
from screening.models import Clearance
from tests.factories import (
    CheckInFactory,
    ClearanceFactory,
    ClientFactory,
    CompletedVisitFactory,
    IntakeFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db


def new_client(**changes) -> dict:
    data = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "date_of_birth": "1980-05-01",
        "email": "ana.new@example.com",
        "phone": "",
        "preferred_channel": "email",
    }
    return {**data, **changes}


@pytest.fixture
def ana():
    return ClientFactory(
        first_name="Ana",
        last_name="López",
        date_of_birth=dt.date(1980, 5, 1),
        email="ana@example.com",
        phone="+447400123456",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"last_name": "lopez", "first_name": "ANA"},  # same name (any case) and birth date
        {"first_name": "Anna", "email": "ANA@example.com"},
        {"first_name": "Anna", "phone": "07400 123456"},
    ],
)
def test_recording_a_client_again_warns_with_a_link_and_records_nothing(therapist_client, changes):
    existing = ClientFactory(
        first_name="Ana",
        last_name="Lopez",
        date_of_birth=dt.date(1980, 5, 1),
        email="ana@example.com",
        phone="+447400123456",
    )

    response = therapist_client.post(reverse("intake:client_create"), new_client(**changes))

    content = response.content.decode()
    assert response.status_code == 200
    assert "This may be a client already on record" in content
    assert f'<a href="{reverse("intake:client_detail", args=[existing.pk])}">Ana Lopez' in content
    assert Client.objects.count() == 1


def test_a_different_person_with_the_same_name_is_recorded_when_ticked(therapist_client, ana):
    data = new_client(last_name="López", different_person="on")

    response = therapist_client.post(reverse("intake:client_create"), data)

    assert response.status_code == 302
    assert Client.objects.count() == 2


def test_a_new_client_with_nothing_in_common_is_recorded_without_a_warning(therapist_client, ana):
    response = therapist_client.post(
        reverse("intake:client_create"), new_client(first_name="Bea", last_name="Marsh")
    )

    assert response.status_code == 302


def test_the_admin_warns_front_desk_with_a_link_to_the_existing_record(front_desk_client, ana):
    data = {**new_client(email="ana@example.com"), "followup_consent_source": ""}

    response = front_desk_client.post(reverse("admin:intake_client_add"), data)

    content = response.content.decode()
    assert "This may be a client already on record" in content
    assert reverse("admin:intake_client_change", args=[ana.pk]) in content
    assert Client.objects.count() == 1


def test_merging_moves_intakes_visits_checkins_and_clearances_and_keeps_history(therapist, ana):
    duplicate = ClientFactory(first_name="Ana", last_name="Lopez", email="")
    intake = IntakeFactory(client=duplicate)
    visit = VisitFactory(client=duplicate, intake=intake)
    checkin = CheckInFactory(visit=CompletedVisitFactory(client=duplicate))
    clearance = ClearanceFactory(client=duplicate)
    HealthRecordAccess.objects.create(user=therapist, client=duplicate, what="test")
    duplicate_id = duplicate.pk

    moved = clients_merge(keep=ana, duplicate=duplicate, by=therapist)

    assert not Client.objects.filter(pk=duplicate_id).exists()
    assert Intake.objects.get(pk=intake.pk).client == ana
    assert Visit.objects.get(pk=visit.pk).client == ana
    assert CheckIn.objects.get(pk=checkin.pk).visit.client == ana
    assert Clearance.objects.get(pk=clearance.pk).client == ana
    assert moved["visits"] == 2
    # The history keeps the duplicate's record, its deletion and the merge on the kept one.
    assert Client.history.filter(id=duplicate_id).values_list("history_type", flat=True)[0] == "-"
    assert Client.history.filter(id=ana.pk).first().history_change_reason == (
        f"Merged client #{duplicate_id} (Ana Lopez) into this record"
    )
    assert Visit.history.filter(id=visit.pk).first().history_user == therapist


def test_a_client_cannot_be_merged_into_itself(therapist, ana):
    with pytest.raises(ValueError, match="into itself"):
        clients_merge(keep=ana, duplicate=ana, by=therapist)


def test_front_desk_merges_two_records_after_a_confirmation_page(front_desk_client, ana):
    duplicate = ClientFactory(first_name="Ana", last_name="Lopez")
    visit = VisitFactory(client=duplicate)
    changelist = reverse("admin:intake_client_changelist")
    selected = {"action": "merge_clients", ACTION_CHECKBOX_NAME: [ana.pk, duplicate.pk]}

    confirm = front_desk_client.post(changelist, selected)
    assert confirm.status_code == 200
    assert "Merge two records of the same client" in confirm.content.decode()
    assert Client.objects.count() == 2

    done = front_desk_client.post(
        changelist, {**selected, "keep": ana.pk, "confirm": "yes"}, follow=True
    )

    assert "merged into Ana López" in done.content.decode()
    assert list(Client.objects.all()) == [ana]
    assert Visit.objects.get(pk=visit.pk).client == ana


def test_the_merge_needs_exactly_two_clients(front_desk_client, ana):
    response = front_desk_client.post(
        reverse("admin:intake_client_changelist"),
        {"action": "merge_clients", ACTION_CHECKBOX_NAME: [ana.pk]},
        follow=True,
    )

    assert "Select exactly two clients to merge." in response.content.decode()
