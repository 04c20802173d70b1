"""Messages carry the minimum: no condition, treatment, body area, score or notes."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse

from followup.scheduling import schedule_checkins
from messaging import dispatch
from messaging.channels import LocmemSMSBackend
from tests.factories import ClientFactory
from tests.followup.conftest import (
    CONDITION,
    CONDITION_NOTES,
    MODALITY,
    NOW,
    REGION,
    THERAPIST_NOTES,
    answer_data,
    links_in,
    make_visit,
)

pytestmark = pytest.mark.django_db

FORBIDDEN = [
    CONDITION,
    "herniated",
    "disc",
    CONDITION_NOTES,
    "L4",
    MODALITY,
    "deep tissue",
    "swedish",
    REGION,
    "back",
    "neck",
    THERAPIST_NOTES,
    "pain",
    "/10",
]


def every_message() -> list[str]:
    texts = [f"{m.subject}\n{m.body}" for m in mail.outbox]
    texts += [body for _, body in LocmemSMSBackend.outbox]
    return texts


def assert_minimal(text: str) -> None:
    # Links carry random tokens, which may spell anything ("l4", "back"): check the words.
    words = re.sub(r"https?://\S+", "", text)
    lowered = words.lower()
    for word in FORBIDDEN:
        assert word.lower() not in lowered, word
    # No scores: once the links are taken out there is no digit left at all.
    assert not re.search(r"\d", words)


def test_no_checkin_message_or_therapist_alert_reveals_health_data(client, frozen, committed):
    visit = make_visit(client=ClientFactory(preferred_channel="both"), baseline_pain=7)
    schedule_checkins(visit=visit)
    frozen.move_to(NOW + datetime.timedelta(hours=24))
    with committed():
        dispatch.tick()
    [token, _] = links_in(mail.outbox[0].body)
    with committed():
        client.post(
            reverse("followup:answer", args=[token]),
            answer_data(score="9", character="sharp", red_flags=["numbness"], note="my lumbar"),
        )

    texts = every_message()

    assert len(texts) == 3  # check-in by email and SMS, then the therapist's alert
    for text in texts:
        assert_minimal(text)


def test_a_checkin_message_has_the_clinic_the_question_the_link_and_the_opt_out(frozen, committed):
    visit = make_visit()
    schedule_checkins(visit=visit)
    frozen.move_to(NOW + datetime.timedelta(hours=24))
    with committed():
        dispatch.tick()

    [message] = mail.outbox
    assert message.subject == "Riverside Massage Clinic: How are you feeling after your visit?"
    [token, opt_out_token] = links_in(message.body)
    assert f"https://clinic.example/f/{token}/\n" in message.body
    assert f"To stop these messages: https://clinic.example/f/{opt_out_token}/opt-out/" in (
        message.body
    )
