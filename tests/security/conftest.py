"""The security cast: one client with a revealing health history, a screened visit, a
completed visit with check-ins (one sent with a live link, one answered and escalated), a
clearance letter on file, and one logged-in test client per role."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as WebClient
from django.utils import timezone

from followup.models import CheckInStatus
from intake.linkmodels import IntakeLink
from intake.models import HealthRecordAccess
from messaging.channels import LocmemSMSBackend
from messaging.links import hash_token
from tests.factories import (
    CheckInAnswerFactory,
    CheckInFactory,
    ClearanceFactory,
    ClientFactory,
    EscalationFactory,
    IntakeFactory,
    ScreeningFactory,
    VisitFactory,
)

ROLES = ("anonymous", "client_link", "front_desk", "therapist", "superuser")

# What the cast's health history says; none of it may reach front desk, a log or a message.
CONDITION = "herniated_disc"
CONDITION_NOTES = "L4-L5 protrusion toward the canal"
MEDICATION = "warfarin 5 mg"
FREE_TEXT = "Recovering from a divorce, sleeps badly"
ALLERGY = "lavender oil"


@pytest.fixture(autouse=True)
def _security_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://clinic.example"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "locmem"
    settings.FOLLOWUP_QUIET_HOURS = None
    settings.FOLLOWUP_THERAPIST_PHONES = {}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    LocmemSMSBackend.outbox.clear()
    yield
    LocmemSMSBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _in_process(celery_in_process):
    """Run every security test's tasks in-process."""


@dataclass
class World:
    client: object
    intake: object
    visit: object
    screening: object
    flag: object
    clearance: object
    done_visit: object
    checkin: object
    token: str
    answered: object
    answer: object
    escalation: object
    silent_visit: object
    access: object
    other_token: str
    intake_token: str


@pytest.fixture
def world(db, therapist) -> World:
    person = ClientFactory(
        first_name="Ana", last_name="Lopez", email="ana@example.com", phone="+447911123456"
    )
    intake = IntakeFactory(
        client=person,
        entered_by=therapist,
        conditions=[{"code": CONDITION, "acute": False, "notes": CONDITION_NOTES}],
        medications=[MEDICATION],
        allergies=[ALLERGY],
        free_text=FREE_TEXT,
    )
    visit = VisitFactory(
        client=person,
        intake=intake,
        therapist=therapist,
        scheduled_at=timezone.now() + datetime.timedelta(hours=2),
        baseline_pain=None,
    )
    screening = ScreeningFactory(visit=visit)
    flag = screening.flags.first()
    clearance = ClearanceFactory(
        client=person,
        recorded_by=therapist,
        document=SimpleUploadedFile("letter.pdf", b"%PDF-1.4 letter", "application/pdf"),
    )
    completed_at = timezone.now() - datetime.timedelta(days=2)
    done_visit = VisitFactory(
        client=person,
        intake=intake,
        therapist=therapist,
        status="completed",
        completed_at=completed_at,
        performed_modality="swedish",
        baseline_pain=3,
    )
    checkin = CheckInFactory(visit=done_visit, policy_hours=48, sent=True)
    answer = CheckInAnswerFactory(
        checkin__visit=done_visit, score=8, character="sharp", radiating=True, note="it burns"
    )
    answered = answer.checkin
    # What the policy says of that answer: sharp at 8/10 (U3), radiating (U2).
    escalation = EscalationFactory(
        checkin=answered,
        level="urgent",
        reasons=[{"rule": "U2", "hours": 24}, {"rule": "U3", "hours": 24}],
    )
    # A visit nobody answered for: on front desk's "no response" list.
    silent_visit = VisitFactory(
        client=ClientFactory(),
        therapist=therapist,
        status="completed",
        completed_at=completed_at,
        performed_modality="swedish",
    )
    CheckInFactory(visit=silent_visit, status=CheckInStatus.EXPIRED, last_error="no answer")
    other = VisitFactory(
        client=ClientFactory(),
        therapist=therapist,
        status="completed",
        completed_at=completed_at,
        performed_modality="swedish",
    )
    other_token = CheckInFactory(visit=other, sent=True).token
    access = HealthRecordAccess.objects.create(user=therapist, client=person, what="intake")
    intake_token = "world-intake-token-0123456789abcdefgh"  # noqa: S105
    IntakeLink.objects.create(
        visit=visit,
        due_at=timezone.now(),
        status="sent",
        sent_at=timezone.now(),
        attempts=1,
        token_hash=hash_token(intake_token),
        expires_at=visit.scheduled_at,
    )
    return World(
        client=person,
        intake=intake,
        visit=visit,
        screening=screening,
        flag=flag,
        clearance=clearance,
        done_visit=done_visit,
        checkin=checkin,
        token=checkin.token,
        answered=answered,
        answer=answer,
        escalation=escalation,
        silent_visit=silent_visit,
        access=access,
        other_token=other_token,
        intake_token=intake_token,
    )


@pytest.fixture
def browsers(therapist, front_desk, superuser):
    """Return a test client per role; `client_link` is anonymous but holds a link token."""
    users = {"front_desk": front_desk, "therapist": therapist, "superuser": superuser}

    def browser(role: str) -> WebClient:
        web = WebClient()
        if role in users:
            web.force_login(users[role])
        return web

    return browser
