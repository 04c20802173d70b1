"""Phone numbers as people type them: the clinic's national format or a country code."""

from __future__ import annotations

import phonenumbers
import pytest
from django.urls import reverse

from clinic.management.commands.seed_demo import DEMO_PHONES
from intake.client_forms import ClientForm
from intake.phones import search_number
from tests.factories import ClientFactory, VisitFactory

pytestmark = pytest.mark.django_db


def client_form(phone: str) -> ClientForm:
    return ClientForm(
        {
            "first_name": "Ana",
            "last_name": "Lopez",
            "date_of_birth": "1980-05-01",
            "email": "ana@example.com",
            "phone": phone,
            "preferred_channel": "sms",
        }
    )


@pytest.mark.parametrize(
    "typed", ["07400 123 456", "07400123456", "+44 7400 123456", "+447400123456"]
)
def test_a_national_or_international_number_is_accepted_and_stored_in_e164(typed):
    form = client_form(typed)

    assert form.is_valid(), form.errors
    assert form.save().phone.as_e164 == "+447400123456"


def test_the_help_and_the_error_give_an_example_from_the_clinics_country():
    form = client_form("12345")

    assert not form.is_valid()
    assert (
        form.fields["phone"].help_text
        == "For example 07400 123456, or +44 7400 123456 from abroad."
    )
    assert form.errors["phone"][0] == (
        "Enter a phone number like 07400 123456, or with its country code like +44 7400 123456."
    )


def test_another_region_reads_its_own_national_format(settings):
    settings.CLINIC_REGION = settings.PHONENUMBER_DEFAULT_REGION = "US"

    form = client_form("(201) 555-0123")

    assert form.is_valid(), form.errors
    assert form.save().phone.as_e164 == "+12015550123"
    assert "(201) 555-0123" in form.fields["phone"].help_text


def test_every_demo_number_is_one_the_phone_library_accepts():
    assert DEMO_PHONES
    for number in DEMO_PHONES:
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


@pytest.mark.parametrize(
    ("term", "number"), [("07400 123 456", "+447400123456"), ("lopez", None), ("0740", None)]
)
def test_a_search_term_reads_as_a_number_only_when_it_is_one(term, number):
    assert search_number(term) == number


def test_front_desk_finds_a_client_in_the_admin_by_a_national_number(front_desk_client):
    found = ClientFactory(last_name="Lopez", phone="+447400123456")
    ClientFactory(last_name="Other", phone="+447400123999")

    response = front_desk_client.get(
        reverse("admin:intake_client_changelist"), {"q": "07400 123 456"}
    )

    assert list(response.context["cl"].result_list) == [found]


def test_front_desk_finds_a_clients_visits_by_a_national_number(front_desk_client):
    visit = VisitFactory(client=ClientFactory(phone="+447400123456"))
    VisitFactory(client=ClientFactory(phone="+447400123999"))

    response = front_desk_client.get(reverse("admin:intake_visit_changelist"), {"q": "07400123456"})

    assert [v.pk for v in response.context["cl"].result_list] == [visit.pk]


def test_therapists_find_a_client_by_a_national_number(therapist_client):
    found = ClientFactory(last_name="Lopez", phone="+447400123456")
    ClientFactory(last_name="Other", phone="+447400123999")

    response = therapist_client.get(reverse("intake:client_list"), {"q": "07400 123 456"})

    assert list(response.context["page"]) == [found]
