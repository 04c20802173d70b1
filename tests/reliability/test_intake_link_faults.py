"""Health form links through the same faults as the check-ins: a worker killed with SIGKILL
mid-batch, and Redis flushed between the claim and the send. The invariant is the same:
every due link sent exactly once (counted in the messages received, by link token) or
ended with a reason, none stuck in `sending`."""

from __future__ import annotations

import collections
import datetime
import re

import pytest
from django.utils import timezone

from intake.linkmodels import IntakeLink
from intake.models import Client, Visit
from intake.previsit_kind import INTAKE_LINKS
from messaging import dispatch
from messaging.links import hash_token
from messaging.models import LinkStatus
from tests.factories import UserFactory
from tests.reliability.conftest import (
    TASK_BATCH,
    from_sink,
    kill_hard,
    start_worker,
    wait_until_idle,
)
from tests.support.processes import wait_until

pytestmark = pytest.mark.reliability

BATCH = 12
FORM_TOKEN = re.compile(r"/i/([A-Za-z0-9_-]{20,})/")


@pytest.fixture
def private_stack(fault_stack, private_redis):
    """The stack's broker and cache are the private Redis, which the test may flush."""
    fault_stack.env["REDIS_URL"] = private_redis.url
    fault_stack.redis = private_redis
    return fault_stack


def make_due_links(count: int) -> list[IntakeLink]:
    """Create `count` visits of different clients tomorrow, each with a due health form link."""
    now = timezone.now()
    therapist = UserFactory(username="therapist-i", groups=["therapist"])
    clients = Client.objects.bulk_create(
        Client(
            first_name="Client",
            last_name=f"I{i:04d}",
            date_of_birth=datetime.date(1980, 5, 1),
            email=f"i{i:04d}@example.test",
            preferred_channel="email",
        )
        for i in range(count)
    )
    start = now + datetime.timedelta(days=1)
    visits = Visit.objects.bulk_create(
        Visit(client=c, therapist=therapist, scheduled_at=start, planned_modality="swedish")
        for c in clients
    )
    return IntakeLink.objects.bulk_create(
        IntakeLink(
            visit=v,
            due_at=now - datetime.timedelta(minutes=1),
            channels=["email"],
            expires_at=start,
        )
        for v in visits
    )


def claim_and_publish(stack, *, now=None) -> list[int]:
    """Claim the due links as the tick does and publish each batch to the stack's broker."""
    now = now or timezone.now()
    claimed = []
    while batch := dispatch.claim_due(INTAKE_LINKS, now, limit=TASK_BATCH):
        stack.send_task(dispatch.SEND_TASK, INTAKE_LINKS.name, batch)
        claimed += batch
    return claimed


def sweep_after_the_window(stack) -> int:
    later = timezone.now() + dispatch.SWEEP_AFTER + datetime.timedelta(seconds=1)
    returned, _failed = dispatch.sweep(INTAKE_LINKS, later)
    claim_and_publish(stack, now=later)
    return returned


def wait_until_all_sent(timeout: float = 40) -> None:
    def left():
        pending = (LinkStatus.SCHEDULED, LinkStatus.SENDING)
        return IntakeLink.objects.filter(status__in=pending).count()

    wait_until(lambda: left() == 0, timeout=timeout, message=lambda: f"{left()} links left")


def assert_links_invariant(delivered) -> None:
    """No link stuck in `sending`; each sent exactly once, by its token; no second copy."""
    later = timezone.now() + dispatch.SWEEP_AFTER + datetime.timedelta(seconds=1)
    assert dispatch.sweep(INTAKE_LINKS, later) == (0, 0)
    by_hash = collections.defaultdict(list)
    for message in delivered:
        for token in set(FORM_TOKEN.findall(message.body)):  # the form and opt-out links
            by_hash[hash_token(token)].append(message)
    problems, known = [], set()
    for link in IntakeLink.objects.order_by("id"):
        label = f"link {link.pk} ({link.status}, attempts {link.attempts})"
        known.add(link.token_hash)
        got = by_hash.get(link.token_hash, []) if link.token_hash else []
        if link.status == LinkStatus.SENT:
            if len(got) != 1:
                problems.append(f"{label}: its link was delivered {len(got)} times")
        elif link.status in (LinkStatus.FAILED, LinkStatus.EXPIRED, LinkStatus.CANCELLED):
            if not link.last_error:
                problems.append(f"{label}: ended without a reason")
        else:
            problems.append(f"{label}: still {link.status}")
    for token_hash, messages in by_hash.items():
        if token_hash not in known:
            problems += [f"a second message went to {m.to} for one link" for m in messages]
    assert not problems, "\n".join(problems)


def test_links_stuck_by_a_killed_worker_are_swept_back_and_sent_once(fault_stack):
    make_due_links(BATCH)
    fault_stack.start(web=False, worker=True, beat=False)
    claim_and_publish(fault_stack)
    assert IntakeLink.objects.filter(status=LinkStatus.SENDING).count() == BATCH

    journal = fault_stack.journal
    wait_until(
        lambda: journal.count("start") >= 4 and journal.in_flight() > 0,
        timeout=30,
        message="the worker to be in the middle of the batch",
    )
    kill_hard(fault_stack.services["worker"])
    assert 0 < len(fault_stack.sink.messages) < BATCH
    assert IntakeLink.objects.filter(status=LinkStatus.SENDING).exists()

    assert sweep_after_the_window(fault_stack) >= 1
    start_worker(fault_stack, "worker-restarted")
    wait_until_all_sent(timeout=40)

    assert IntakeLink.objects.filter(status=LinkStatus.SENT).count() == BATCH
    assert_links_invariant(from_sink(fault_stack.sink))


def test_links_claimed_before_a_redis_flush_are_swept_back_and_sent_once(private_stack):
    make_due_links(BATCH)
    private_stack.start(web=False, worker=True, beat=False)
    claim_and_publish(private_stack)

    journal = private_stack.journal
    wait_until(
        lambda: journal.count("start") >= 3 and journal.in_flight() > 0,
        timeout=30,
        message="the worker to be in the middle of the batch",
    )
    private_stack.redis.client().flushall()
    wait_until_idle(private_stack, private_stack.redis.client())
    lost = IntakeLink.objects.filter(status=LinkStatus.SENDING).count()
    assert lost > 0, "the flush should have dropped queued sends"

    assert sweep_after_the_window(private_stack) == lost
    wait_until_all_sent(timeout=30)

    assert IntakeLink.objects.filter(status=LinkStatus.SENT).count() == BATCH
    assert_links_invariant(from_sink(private_stack.sink))
