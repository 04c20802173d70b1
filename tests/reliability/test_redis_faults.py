"""Redis stopped while a therapist records an intake and completes a visit; Redis flushed
between the claim and the send. The Redis stopped and flushed here is a private one."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as WebClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from followup.models import CheckIn, CheckInStatus, Escalation
from intake.models import Intake, Visit, VisitStatus
from messaging.models import LinkStatus
from tests.factories import ClientFactory, UserFactory
from tests.integration.conftest import first_link
from tests.reliability.conftest import (
    assert_every_copy_answers_its_row,
    assert_followup_invariant,
    assert_links_invariant,
    claim_and_publish,
    from_sink,
    sweep_after_the_window,
    wait_until_all_due_finished,
    wait_until_idle,
)
from tests.services import redis_caches
from tests.support.http import Browser
from tests.support.processes import wait_until

pytestmark = pytest.mark.reliability

PASSWORD = "correct horse battery"
OFFSETS = [2, 4, 6]  # seconds: the three check-ins fall due while the test watches
BATCH = 12


@pytest.fixture
def private_stack(fault_stack, private_redis):
    """The stack's broker and cache are the private Redis, which the test may stop or flush."""
    fault_stack.env["REDIS_URL"] = private_redis.url
    fault_stack.redis = private_redis
    return fault_stack


def _redis_settings(url: str) -> dict:
    options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    caches = redis_caches(url, OPTIONS=options)
    return {"CACHES": caches, "REDIS_URL": url, "CELERY_BROKER_URL": url}


def test_intake_and_visit_completion_work_with_redis_down_and_checkins_follow(
    private_stack, settings
):
    settings.FOLLOWUP_OFFSETS = OFFSETS
    settings.FOLLOWUP_QUIET_HOURS = None
    therapist = UserFactory(username="tess", email="tess@clinic.test", groups=["therapist"])
    person = ClientFactory(first_name="Ana", last_name="Lopez", email="ana@example.test")
    private_stack.redis.stop()

    with override_settings(**_redis_settings(private_stack.redis.url)):
        web = WebClient()
        login = web.post(reverse("login"), {"username": "tess", "password": PASSWORD})
        assert login.status_code == 302, "logging in must not need Redis"
        intake = web.post(
            reverse("intake:intake_create", args=[person.pk]),
            {
                "visit_date": timezone.localdate().isoformat(),
                "planned_modality": "swedish",
                "focus_regions": ["neck"],
                "pain_score": "3",
                "pain_character": "dull",
                "pain_regions": ["neck"],
                "consent": "on",
                "signature_name": person.full_name,
            },
        )
        assert intake.status_code == 302, intake.content.decode()[:2000]
        when = timezone.localtime() + datetime.timedelta(minutes=5)
        booked = web.post(
            reverse("intake:visit_create", args=[person.pk]),
            {
                "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
                "therapist": therapist.pk,
                "planned_modality": "swedish",
                "focus_regions": ["neck"],
            },
        )
        assert booked.status_code == 302
        visit = Visit.objects.get()
        completed = web.post(
            reverse("intake:visit_complete", args=[visit.pk]), {"performed_modality": "swedish"}
        )
        assert completed.status_code == 302
        # The health endpoint tells the truth meanwhile.
        assert web.get(reverse("health")).json()["broker"]["ok"] is False

    assert Intake.objects.count() == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert visit.checkins.filter(status=CheckInStatus.SCHEDULED).count() == 3

    # Redis is back: the beat and a worker send every check-in, once.
    private_stack.redis.start()
    private_stack.start(web=True, worker=True, beat=True)
    wait_until_all_due_finished(timeout=30)
    mails = private_stack.sink.wait_for(lambda m: "ana@example.test" in m.rcpt_tos, count=3)

    # The client answers through the web process: a bruise (review), then numbness (urgent).
    browser = Browser(private_stack.base_url)
    answers = {24: ["bruising"], 48: ["numbness"]}
    for checkin in visit.checkins.filter(policy_hours__in=answers).order_by("policy_hours"):
        link = _link_for(mails, checkin)
        data = {"score": "3", "character": "dull", "radiating": "no", "note": ""}
        browser.submit(link, {**data, "red_flags": answers[checkin.policy_hours]}, expect=200)
    private_stack.sink.wait_for(lambda m: "tess@clinic.test" in m.rcpt_tos, count=2)
    # One escalation for the visit, raised from review to urgent, each level in its history.
    [escalation] = Escalation.objects.all()
    assert escalation.level == "urgent"
    assert [step["level"] for step in escalation.level_history] == ["review", "urgent"]
    wait_until(
        lambda: not Escalation.objects.exclude(notify_status="sent").exists(),
        timeout=15,
        message="the therapist alerts to be recorded as sent",
    )
    assert_followup_invariant(from_sink(private_stack.sink))


def _link_for(mails, checkin: CheckIn) -> str:
    from messaging.links import hash_token

    for mail in mails:
        link = first_link(mail.text, "/f/")
        if hash_token(link.rstrip("/").rsplit("/", 1)[-1]) == checkin.token_hash:
            return link
    raise AssertionError(f"no message carries the link of check-in {checkin.pk}")


def test_rows_claimed_before_a_redis_flush_are_swept_back_and_sent_once(private_stack, fault_kind):
    fault_kind.make_due(BATCH, tag=f"r{fault_kind.name[:3]}")
    private_stack.start(web=False, worker=True, beat=False)
    private_stack.sink.hold(after=2)
    claim_and_publish(private_stack, kind=fault_kind)

    # Flush while the worker is provably mid-batch (its third message's reply held).
    private_stack.sink.wait_held()
    private_stack.redis.client().flushall()
    private_stack.sink.release()
    broker = private_stack.redis.client()
    wait_until_idle(private_stack, broker)
    lost = fault_kind.model.objects.filter(status=LinkStatus.SENDING).count()
    assert lost > 0, "the flush should have dropped queued sends"

    assert sweep_after_the_window(private_stack, kind=fault_kind) == lost
    wait_until_all_due_finished(timeout=30, kind=fault_kind)

    assert fault_kind.model.objects.filter(status=LinkStatus.SENT).count() == BATCH
    delivered = from_sink(private_stack.sink)
    assert_links_invariant(fault_kind, delivered, exactly_once=True)
    assert_every_copy_answers_its_row(fault_kind, delivered)
