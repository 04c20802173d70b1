from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import ClientFactory, IntakeFactory, VisitFactory


def intake_post(client, **overrides) -> dict:
    """Return a valid intake-form POST for `client`; overrides replace or (None) drop keys."""
    data = {
        "visit_date": timezone.localdate().isoformat(),
        "planned_modality": "swedish",
        "focus_regions": ["neck", "shoulders"],
        "cond_osteoporosis": "on",
        "cond_osteoporosis_notes": "diagnosed 2019",
        "medications": "ibuprofen 200 mg\nvitamin D",
        "pain_score": "4",
        "pain_character": "dull",
        "pain_regions": ["neck"],
        "allergies": "lavender oil",
        "free_text": "Sits at a desk all day.",
        "consent": "on",
        "signature_name": client.full_name,
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hash test passwords cheaply: the cast is built for every test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def person(db):
    return ClientFactory(first_name="Ana", last_name="López", email="ana@example.com")


@pytest.fixture
def visit_today(db, therapist):
    client = ClientFactory()
    intake = IntakeFactory(client=client, entered_by=therapist)
    return VisitFactory(client=client, intake=intake, therapist=therapist, baseline_pain=None)
