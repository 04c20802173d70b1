"""A small cast for tests, built with factory-boy."""

from __future__ import annotations

import datetime
import secrets

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from followup.models import (
    CheckIn,
    CheckInAnswer,
    CheckInStatus,
    Escalation,
    EscalationLevel,
)
from intake.models import Client, Intake, Visit, VisitStatus
from messaging.links import hash_token
from screening.models import Screening
from screening.services import screen_visit

# A condition whose screening is `modify` with one flag of its own (muscle_spasm).
MUSCLE_SPASM = {"code": "muscle_spasm", "acute": False, "notes": ""}


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


class CompletedVisitFactory(VisitFactory):
    """A visit completed an hour after it was scheduled, a day ago, with the planned modality."""

    scheduled_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    status = VisitStatus.COMPLETED
    completed_at = factory.LazyAttribute(lambda v: v.scheduled_at + datetime.timedelta(hours=1))
    completed_by = factory.SelfAttribute("therapist")
    performed_modality = factory.SelfAttribute("planned_modality")


class ScreeningFactory(factory.django.DjangoModelFactory):
    """A visit's screening as the product stores it: its intake screened by the real engine
    through `screen_visit`, with one flag per rule. To get another decision, give a visit
    whose intake says so; by default the intake holds a muscle spasm (`modify`, one flag).
    """

    class Meta:
        model = Screening

    visit = factory.SubFactory(
        VisitFactory, intake__conditions=factory.LazyFunction(lambda: [MUSCLE_SPASM])
    )

    @classmethod
    def _create(cls, model_class, visit, **fields):
        if fields:
            raise TypeError(f"a screening is the engine's result; set the intake, not {fields}")
        return screen_visit(visit=visit)

    @classmethod
    def _build(cls, model_class, *args, **fields):
        raise TypeError("a screening is stored by screening a visit: create it, do not build it")


class CheckInFactory(factory.django.DjangoModelFactory):
    """A completed visit's check-in at `policy_hours` (24 h), due then, scheduled, by email.

    `sent=True` sends it at `sent_at` (now) with a fresh link that expires FOLLOWUP_TOKEN_DAYS
    later; as in a real send only the hash is stored, and the token is kept on
    `checkin.token` for the test to follow the link.
    """

    class Meta:
        model = CheckIn

    class Params:
        sent = factory.Trait(
            status=CheckInStatus.SENT,
            sent_at=factory.LazyFunction(timezone.now),
            expires_at=factory.LazyAttribute(
                lambda c: c.sent_at + datetime.timedelta(days=settings.FOLLOWUP_TOKEN_DAYS)
            ),
            token=factory.LazyFunction(lambda: secrets.token_urlsafe(32)),
        )

    visit = factory.SubFactory(CompletedVisitFactory)
    policy_hours = 24
    offset_seconds = factory.LazyAttribute(lambda c: c.policy_hours * 3600)
    due_at = factory.LazyAttribute(
        lambda c: c.visit.completed_at + datetime.timedelta(hours=c.policy_hours)
    )
    channels = factory.LazyFunction(lambda: ["email"])
    token = None
    token_hash = factory.LazyAttribute(lambda c: hash_token(c.token) if c.token else None)

    @classmethod
    def _create(cls, model_class, *args, token=None, **fields):
        checkin = super()._create(model_class, *args, **fields)
        checkin.token = token
        return checkin

    @classmethod
    def _build(cls, model_class, *args, token=None, **fields):
        checkin = super()._build(model_class, *args, **fields)
        checkin.token = token
        return checkin


class CheckInAnswerFactory(factory.django.DjangoModelFactory):
    """The client's answer to a sent check-in, which it marks answered: 3/10, dull, nothing else."""

    class Meta:
        model = CheckInAnswer
        skip_postgeneration_save = True

    checkin = factory.SubFactory(CheckInFactory, sent=True)
    score = 3
    character = "dull"
    radiating = False
    red_flags = factory.LazyFunction(list)
    note = ""

    @factory.post_generation
    def answered(self, create, extracted, **kwargs):
        self.checkin.status = CheckInStatus.ANSWERED
        if create:
            self.checkin.save(update_fields=["status"])


class EscalationFactory(factory.django.DjangoModelFactory):
    """An open escalation opened by an answered check-in: `review`, because the answer (6/10)
    rose 3 points over the visit's baseline (R2). Give `level` and `reasons` together."""

    class Meta:
        model = Escalation

    # An answered check-in of its own unless one is given (a LazyAttribute, so that giving
    # `checkin=` makes no other rows).
    checkin = factory.LazyAttribute(lambda e: CheckInAnswerFactory(score=6).checkin)
    visit = factory.SelfAttribute("checkin.visit")
    level = EscalationLevel.REVIEW
    reasons = factory.LazyAttribute(lambda e: [{"rule": "R2", "hours": e.checkin.policy_hours}])
    level_history = factory.LazyAttribute(
        lambda e: [
            {
                "level": e.level,
                "at": "",
                "checkin": e.checkin.pk,
                "reasons": e.reasons,
            }
        ]
    )
