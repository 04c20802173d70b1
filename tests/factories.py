"""A small cast for tests, built with factory-boy."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from intake.models import Client, Intake, Visit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.test")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))
        if create:
            self.save()


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = datetime.date(1980, 5, 1)
    email = factory.LazyAttribute(
        lambda c: f"{c.first_name.lower()}.{c.last_name.lower()}@example.com"
    )
    phone = "+447700900123"
    preferred_channel = "email"
    followup_consent = True
    followup_consent_at = factory.LazyFunction(timezone.now)
    followup_consent_source = "paper"


class IntakeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intake

    client = factory.SubFactory(ClientFactory)
    date_of_birth = factory.SelfAttribute("client.date_of_birth")
    visit_date = factory.LazyFunction(timezone.localdate)
    planned_modality = "swedish"
    focus_regions = factory.LazyFunction(lambda: ["neck"])
    conditions = factory.LazyFunction(list)
    medications = factory.LazyFunction(list)
    pain_score = 3
    pain_regions = factory.LazyFunction(lambda: ["neck"])
    pain_character = "dull"
    signature_name = factory.LazyAttribute(lambda i: str(i.client))
    signed_at = factory.LazyFunction(timezone.now)


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    client = factory.SubFactory(ClientFactory)
    therapist = factory.SubFactory(UserFactory, groups=["therapist"])
    scheduled_at = factory.LazyFunction(timezone.now)
    planned_modality = "swedish"
    focus_regions = factory.LazyFunction(lambda: ["neck"])
    intake = factory.SubFactory(IntakeFactory, client=factory.SelfAttribute("..client"))
    baseline_pain = 3


class ClearanceFactory(factory.django.DjangoModelFactory):
    """A physician's clearance, valid from a week ago for three months, for blood thinners."""

    class Meta:
        model = "screening.Clearance"

    client = factory.SubFactory(ClientFactory)
    doctor_name = "Dr Ada Okafor"
    issued_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=7))
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=90))
    codes = factory.LazyFunction(lambda: ["blood_thinners"])
    recorded_by = factory.SubFactory(UserFactory, groups=["therapist"])
