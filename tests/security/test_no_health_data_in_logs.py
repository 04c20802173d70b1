"""No health data in logs: an intake and a check-in answer go through the real views while
every logger records at DEBUG, and nothing they said shows up in what was logged."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.test import Client as WebClient
from django.urls import reverse
from django.utils import timezone

from followup.models import Escalation
from tests.factories import CheckInFactory, ClientFactory, VisitFactory

pytestmark = pytest.mark.django_db

CONDITION_NOTES = "protrusion L5-S1 pressing nerve"
MEDICATION = "apixaban 2.5 mg"
ALLERGY = "arnica gel"
FREE_TEXT = "Panic attacks since the accident"
ILLNESS = "shingles outbreak"
ANSWER_NOTE = "pins in my left foot since last night"
SECRETS = (CONDITION_NOTES, MEDICATION, ALLERGY, FREE_TEXT, ILLNESS, ANSWER_NOTE, "osteoporosis",
           "herniated")  # fmt: skip
# A score next to a word that says what it is ("score 9", "'score': '9'", "pain=9").
SCORE_IN_CONTEXT = re.compile(r"(score|pain)\W{0,4}9\b", re.I)


@pytest.fixture
def everything_logged(caplog):
    """Every logger at DEBUG into caplog, and the root logger into a stream as well."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(args)s"))
    handler.setLevel(logging.DEBUG)
    saved = {}
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for logger in [logging.root, *loggers]:
        saved[logger] = logger.level
        logger.setLevel(logging.DEBUG)
    logging.root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    yield (
        lambda: (
            caplog.text
            + stream.getvalue()
            + "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
        )
    )
    logging.root.removeHandler(handler)
    for logger, level in saved.items():
        logger.setLevel(level)


def test_an_intake_and_an_answer_leave_no_health_data_in_the_logs(
    everything_logged, therapist_client, therapist
):
    person = ClientFactory(first_name="Ana", last_name="Lopez")
    response = therapist_client.post(
        reverse("intake:intake_create", args=[person.pk]),
        {
            "visit_date": timezone.localdate().isoformat(),
            "planned_modality": "swedish",
            "focus_regions": ["neck"],
            "cond_osteoporosis": "on",
            "cond_osteoporosis_notes": CONDITION_NOTES,
            "other_0_code": "herniated disc",
            "medications": MEDICATION,
            "allergies": ALLERGY,
            "recent_illness_name": ILLNESS,
            "free_text": FREE_TEXT,
            "pain_score": "2",
            "pain_character": "dull",
            "pain_regions": ["neck"],
            "consent": "on",
            "signature_name": person.full_name,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    intake = person.latest_intake()
    assert intake.free_text == FREE_TEXT
    # Reading it back logs an access row, not a log line with its content.
    assert therapist_client.get(response["Location"]).status_code == 200

    visit = VisitFactory(
        client=person,
        intake=intake,
        therapist=therapist,
        status="completed",
        completed_at=timezone.now(),
        performed_modality="swedish",
        baseline_pain=2,
    )
    checkin = CheckInFactory(visit=visit, due_at=timezone.now(), sent=True)
    token = checkin.token
    answer = WebClient().post(
        reverse("followup:answer", args=[token]),
        {"score": "9", "character": "sharp", "radiating": "yes", "red_flags": ["numbness"],
         "note": ANSWER_NOTE},
    )  # fmt: skip
    assert answer.status_code == 200
    assert Escalation.objects.filter(visit=visit, level="urgent").exists()

    logged = everything_logged()
    assert "escalation" in logged  # the capture works: the escalation was logged, by id
    leaked = [secret for secret in SECRETS if secret.lower() in logged.lower()]
    assert not leaked, f"health data in the logs: {leaked}"
    assert not SCORE_IN_CONTEXT.search(logged), SCORE_IN_CONTEXT.search(logged).group(0)
