"""Helpers for the health form link tests: a booked visit with a link the test can open."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from intake.linkmodels import IntakeLink
from intake.services import visit_schedule
from messaging.links import hash_token
from messaging.models import LinkStatus
from tests.factories import ClientFactory, UserFactory

DOB = "1980-05-01"


def book(*, client=None, therapist=None, hours_ahead: int = 30, **plan):
    """Book a visit through the workflow (which schedules its health form link)."""
    client = client or ClientFactory()
    therapist = therapist or UserFactory(groups=["therapist"])
    return visit_schedule(
        client=client,
        therapist=therapist,
        scheduled_at=timezone.now() + dt.timedelta(hours=hours_ahead),
        planned_modality=plan.get("planned_modality", "swedish"),
        focus_regions=plan.get("focus_regions", ["neck"]),
        by=therapist,
    )


def sent_link(visit, token: str = "test-intake-token-0123456789abcdef") -> IntakeLink:  # noqa: S107
    """Mark the visit's first health form message sent with `token` and return it."""
    link = visit.intake_links.filter(purpose="invite").order_by("-id").first()
    link.status = LinkStatus.SENT
    link.sent_at = timezone.now()
    link.attempts = 1
    link.token_hash = hash_token(token)
    link.save()
    return link


def answers(**extra) -> dict:
    """A plain set of step answers, by step."""
    steps = {
        "about": {},
        "conditions": {},
        "pregnancy": {},
        "medicines": {"medications": "ibuprofen 200 mg"},
        "illness": {},
        "pain": {"pain_score": "3", "pain_character": "dull", "pain_regions": ["neck"]},
        "warning": {},
        "allergies": {"allergies": "latex"},
        "notes": {"free_text": "my neck is stiff after work"},
    }
    steps.update(extra)
    return steps


def verify(http, token: str, dob: str = DOB):
    return http.post(f"/i/{token}/", {"date_of_birth": dob})


def fill(http, token: str, steps: dict | None = None):
    """Verify and go through every step but the last; return the last response."""
    verify(http, token)
    response = None
    for slug, values in (steps or answers()).items():
        response = http.post(f"/i/{token}/{slug}/", values)
        assert response.status_code == 302, (slug, response.content[:3000])
    return response


def sign(http, token: str, name: str):
    return http.post(f"/i/{token}/consent/", {"consent": "on", "signature_name": name})
