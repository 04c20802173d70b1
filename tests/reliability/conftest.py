"""Fault tests: the real stack (tests/integration's), a private Redis, and ONE invariant.

The mail server is the real aiosmtpd sink, accepting every message at once; it can hold back
its reply to one chosen message (tests.reliability.sink), which is how a test strikes while
a worker is provably mid-batch, after a message went out and before it was recorded.

Every scenario ends with `assert_links_invariant(...)` (per kind of link message, see
tests/reliability/kinds.py) or `assert_followup_invariant(...)` (that, for check-ins, and
their escalations):

- no row stays `sending` past the sweep window (the sweeper is run, then checked);
- every due row was delivered at least once, counted in the messages actually received (SMTP
  sink, outbox table or locmem), to its client, every copy with the row's one link; exactly
  once where no worker was killed after a message went out; or it is failed/expired/cancelled
  with a reason (last_error);
- no message carries a link that opens no row;
- no escalation is lost (the visit's highest escalation is the policy's level for its
  answers) or doubled (one therapist alert per escalation).

`assert_every_copy_answers_its_row` then opens every delivered link with the test client:
each opens its row's answer page, one answer closes the row, and every copy then shows the
link as used.

Processes are started and stopped by tests.support.processes; the Redis these tests stop or
flush is a private `redis-server` on a free 127.0.0.1 port, never the shared one.
"""

from __future__ import annotations

import collections
import datetime
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client as TestClient
from django.utils import timezone

from followup.answers import evaluate_visit
from followup.models import Escalation, NotifyStatus
from intake.models import Visit
from messaging import dispatch
from messaging.links import hash_token
from messaging.models import LinkStatus
from tests.integration import conftest as integration
from tests.reliability.kinds import CHECKIN, KINDS, FaultKind, make_due_checkins
from tests.reliability.sink import HoldingSink
from tests.support.environment import free_port, stack_env
from tests.support.processes import Service, wait_until
from tests.support.smtp import SmtpSink

# Reuse the integration tests' fixtures (the artifacts folder, the stack of processes) and
# its report hook, which prints the processes' logs when a test fails.
for _name in ("artifacts", "stack", "pytest_runtest_makereport"):
    globals()[_name] = getattr(integration, _name)

__all__ = ["make_due_checkins"]

# Rows per `send_links` task: a two-process worker holds two batches, the rest wait.
TASK_BATCH = 3
FINISHED = (LinkStatus.SENT, LinkStatus.ANSWERED)
ENDED_WITH_REASON = (LinkStatus.FAILED, LinkStatus.EXPIRED, LinkStatus.CANCELLED)
PENDING = (LinkStatus.SCHEDULED, LinkStatus.SENDING)
_RANK = {None: 0, "review": 1, "urgent": 2}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# ---- a private Redis ---------------------------------------------------------------------


class PrivateRedis:
    """A `redis-server` this test started on 127.0.0.1; it may be stopped, restarted, flushed."""

    def __init__(self, artifacts: Path) -> None:
        self.port = free_port()
        self.artifacts = artifacts
        self.service: Service | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if not binary:
            pytest.skip("redis-server is not installed")
        self.starts += 1
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--protected-mode", "yes"]  # fmt: skip
        self.service = Service(
            name=f"redis-{self.starts}",
            argv=argv,
            env=stack_env({}),
            log_path=self.artifacts / f"redis-{self.starts}.log",
        ).start()
        wait_until(self._answers, timeout=10, message="the private redis-server")
        return self

    def _answers(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(timeout=5)
        wait_until(lambda: not self._answers(), timeout=10, message="redis to stop")

    def queue_length(self, queue: str = "celery") -> int:
        return int(self.client().llen(queue))


@pytest.fixture
def private_redis(artifacts) -> Iterator[PrivateRedis]:
    server = PrivateRedis(artifacts).start()
    try:
        yield server
    finally:
        if server.service is not None:
            server.service.stop(timeout=5)


# ---- the stack with fault-test settings --------------------------------------------------


@pytest.fixture
def smtp_sink(request) -> Iterator[HoldingSink]:
    """The stack's mail server: the real aiosmtpd sink, accepting at once, able to hold a reply."""
    sink = HoldingSink().start()
    yield sink
    if integration._failed(request.node):
        print(sink.describe())
    sink.stop()


@pytest.fixture(params=KINDS, ids=str)
def fault_kind(request) -> FaultKind:
    """Each kind of link message in turn (tests/reliability/kinds.py)."""
    return request.param


@pytest.fixture
def reliability_stack(stack):
    """The integration stack (its own Redis database, INTEGRATION_REDIS_DB), commits made cheap.

    synchronous_commit=off (for the subprocesses' sessions only) spares each commit the WAL
    flush: these tests crash workers and cut connections, never PostgreSQL itself, and 1,000
    sends fit in the time budget on a 2-core machine.
    """
    stack.env["DATABASE_URL"] += "?options=-c%20synchronous_commit%3Doff"
    return stack


@pytest.fixture
def fault_stack(reliability_stack):
    """The reliability stack, its email to the sink that accepts at once (or holds a reply)."""
    return reliability_stack


def claim_and_publish(
    stack,
    *,
    kind: FaultKind = CHECKIN,
    now: datetime.datetime | None = None,
    batch: int = TASK_BATCH,
) -> list[int]:
    """Claim a kind's due rows as the tick does and publish each batch to the stack's broker.

    The tick's own publish goes to the broker of this test process, not to the stack's, so
    the test runs the tick's two steps itself: `claim_due`, then one `send_links` task per
    claimed batch. Batches are small, so a worker holds some while others wait on the broker.
    """
    now = now or timezone.now()
    claimed = []
    while ids := dispatch.claim_due(kind.kind, now, limit=batch):
        stack.send_task(dispatch.SEND_TASK, kind.name, ids)
        claimed += ids
    return claimed


def sweep_after_the_window(stack, *, kind: FaultKind = CHECKIN, batch: int = TASK_BATCH) -> int:
    """Run the tick as the beat would once the sweep window has passed; return rows swept back.

    The sweeper returns the rows stuck in `sending`, and they are claimed and published again,
    now: a claim stamped with the sweep's time to come would be in the future, and a later
    sweep would never see it as stuck (a row whose task a killed worker had fetched but not
    started would then stay `sending` for good).
    """
    later = timezone.now() + dispatch.SWEEP_AFTER + datetime.timedelta(seconds=1)
    returned = dispatch.sweep(kind.kind, later)
    claim_and_publish(stack, kind=kind, batch=batch)
    return returned


def start_worker(stack, name: str, *, concurrency: int = 2) -> Service:
    """Start one more `celery worker` on the stack's broker (its own node name) and wait for it."""
    argv = stack.worker_argv(concurrency=concurrency)
    argv[argv.index("--hostname") + 1] = f"{name}-{stack.web_port}@%h"
    service = Service(
        name=name, argv=argv, env=dict(stack.env), log_path=stack.artifacts / f"{name}.log"
    ).start()
    stack.services[name] = service
    service.wait_for_log(r"@\S+ ready\.", integration.START_TIMEOUT)
    return service


def kill_hard(service: Service) -> None:
    """SIGKILL the service's whole process group (a worker and its pool children), no warning."""
    os.killpg(service.proc.pid, signal.SIGKILL)
    service.proc.wait(timeout=10)


def wait_until_idle(stack, redis_client, *, settle: float = 1.5, timeout: float = 40) -> None:
    """Wait until the broker queue is empty, no reply is held and no row moves for a while."""

    def snapshot():
        statuses = sorted(
            (kind.name, status)
            for kind in KINDS
            for status in kind.model.objects.values_list("status", flat=True)
        )
        held = bool(getattr(stack.sink, "holding", False))
        return redis_client.llen("celery"), held, collections.Counter(statuses)

    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = snapshot()
        if now != last:
            last, since = now, time.monotonic()
        elif now[0] == 0 and not now[1] and time.monotonic() - since >= settle:
            return
        time.sleep(0.2)
    raise AssertionError(f"the stack never went idle: queue, held, statuses = {last}")


def wait_until_all_due_finished(timeout: float = 40, *, kind: FaultKind = CHECKIN) -> None:
    """Wait until no due row of the kind is scheduled or sending any more."""

    def left():
        return kind.model.objects.filter(status__in=PENDING, due_at__lte=timezone.now()).count()

    wait_until(
        lambda: left() == 0,
        timeout=timeout,
        message=lambda: f"every due {kind} to be sent ({left()} left: {status_summary(kind)})",
    )


def status_summary(kind: FaultKind = CHECKIN) -> dict[str, int]:
    return dict(collections.Counter(kind.model.objects.values_list("status", flat=True)))


# ---- the invariant -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """One message a transport really delivered: channel, recipient address, text."""

    channel: str
    to: str
    body: str

    def tokens(self, kind: FaultKind = CHECKIN) -> set[str]:
        return set(kind.token.findall(self.body))


def from_sink(sink: SmtpSink) -> list[Delivered]:
    return [Delivered("email", rcpt, m.text) for m in sink.messages for rcpt in m.rcpt_tos]


def from_outbox() -> list[Delivered]:
    from messaging.models import OutboxMessage

    return [Delivered(m.channel, m.to, m.body) for m in OutboxMessage.objects.all()]


def from_locmem() -> list[Delivered]:
    from django.core import mail

    from messaging.channels import LocmemSMSBackend

    emails = [Delivered("email", to, m.body) for m in mail.outbox for to in m.recipients()]
    return emails + [Delivered("sms", to, body) for to, body in LocmemSMSBackend.outbox]


def copies_by_link(kind: FaultKind, delivered: list[Delivered]) -> dict[str, list[Delivered]]:
    """Return the delivered messages of a kind by the hash of the link they carry."""
    by_hash: dict[str, list[Delivered]] = collections.defaultdict(list)
    for message in delivered:
        for token in message.tokens(kind):
            by_hash[hash_token(token)].append(message)
    return by_hash


def assert_links_invariant(
    kind: FaultKind, delivered: list[Delivered], *, exactly_once: bool = True
) -> dict[int, int]:
    """Assert the end state of a kind's rows (module docstring); return copies per sent row."""
    # 1. The sweeper, run once its window has passed, finds nothing stuck in `sending`.
    later = timezone.now() + dispatch.SWEEP_AFTER + datetime.timedelta(seconds=1)
    stuck = list(kind.model.objects.filter(status=LinkStatus.SENDING).values("id", "attempts"))
    swept = dispatch.sweep(kind.kind, later)
    assert swept == 0 and not stuck, f"{kind} rows stuck in sending past the sweep window: {stuck}"

    # 2. Each due row: delivered (at least once, to its client, with its one link), or ended
    #    with a reason.
    by_hash = copies_by_link(kind, delivered)
    problems, known_hashes, copies = [], set(), {}
    rows = kind.model.objects.filter(due_at__lte=timezone.now())
    if kind.kind.select_related:
        rows = rows.select_related(*kind.kind.select_related)
    for row in rows.order_by("id"):
        label = f"{kind} {row.pk} ({row.status}, attempts {row.attempts})"
        if row.token_hash:
            known_hashes.add(row.token_hash)
        got = by_hash.get(row.token_hash, []) if row.token_hash else []
        if row.status in FINISHED:
            per_channel = collections.Counter(m.channel for m in got)
            copies[row.pk] = len(got)
            recipient = kind.kind.recipient(row)
            if not got:
                problems.append(f"{label}: marked sent but no message carries its link")
            elif exactly_once and max(per_channel.values()) > 1:
                problems.append(f"{label}: its link was delivered {dict(per_channel)} times")
            elif any(m.to not in (recipient.email, recipient.phone) for m in got):
                problems.append(f"{label}: a copy went to {[m.to for m in got]}")
        elif row.status in ENDED_WITH_REASON:
            if not row.last_error:
                problems.append(f"{label}: ended without a reason (last_error is empty)")
            if row.sent_at is None and got:
                problems.append(f"{label}: never marked sent, yet {len(got)} message(s) went out")
        else:
            problems.append(f"{label}: due but still {row.status}")
    # 3. A message whose link opens no row would be a dead link in a client's hands.
    for link_hash, messages in by_hash.items():
        if link_hash not in known_hashes:
            for message in messages:
                problems.append(f"a message to {message.to} carries a link that opens no {kind}")
    assert not problems, "\n".join(problems[:30]) + f"\n({len(problems)} problem(s))"
    return copies


def assert_every_copy_answers_its_row(kind: FaultKind, delivered: list[Delivered]) -> None:
    """Open every delivered link of a kind: each opens its row's page; one answer, through
    any copy, closes the row, and every copy then shows the link as used."""
    by_hash = copies_by_link(kind, delivered)
    web = TestClient()
    answered = 0
    for number, row in enumerate(kind.model.objects.filter(status=LinkStatus.SENT).order_by("id")):
        tokens = sorted({t for m in by_hash.get(row.token_hash, []) for t in m.tokens(kind)})
        assert len(tokens) == 1, f"{kind} {row.pk}: its copies carry {len(tokens)} links"
        [token] = tokens
        assert hash_token(token) == row.token_hash
        # One address per row: the link pages' rate limit counts requests per address.
        address = {
            "REMOTE_ADDR": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        }
        copies = len(by_hash[row.token_hash])
        for _ in range(copies):
            opened = web.get(kind.answer_path(token), **address)
            assert opened.status_code == 200, f"{kind} {row.pk}: a copy opened {opened.status_code}"
        if kind.answer is not None:
            response = kind.answer(TestClient(**address), token)
        else:
            response = web.post(kind.answer_path(token), kind.answer_data, **address)
        assert response.status_code == kind.answered_status, (
            f"{kind} {row.pk}: answering gave {response.status_code}"
        )
        row.refresh_from_db()
        assert row.status == LinkStatus.ANSWERED
        for _ in range(copies):
            again = web.get(kind.answer_path(token), **address)
            status, words = kind.closed
            assert again.status_code == status and words in again.content.decode(), (
                f"{kind} {row.pk}: a copy still opens after the answer"
            )
        answered += 1
    assert answered, f"no {kind} was sent"


def _address(number: int) -> str:
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


def assert_followup_invariant(
    delivered: list[Delivered], *, alerts_checked: bool = True, exactly_once: bool = True
) -> None:
    """Assert the shared end state of every check-in scenario (see the module docstring)."""
    assert_links_invariant(CHECKIN, delivered, exactly_once=exactly_once)

    # Escalations: none lost, none doubled.
    for visit in Visit.objects.filter(checkins__answer__isnull=False).distinct():
        expected = evaluate_visit(visit).level
        levels = list(visit.escalations.values_list("level", flat=True))
        assert len(levels) == len(set(levels)), f"visit {visit.pk}: escalations doubled {levels}"
        highest = max((_RANK[level] for level in levels), default=0)
        assert highest == _RANK[expected], (
            f"visit {visit.pk}: the policy says {expected!r} but escalations are {levels}"
        )
    if alerts_checked:
        alerts = collections.Counter(
            m.to for m in delivered if "escalation" in m.body.lower() and not m.tokens()
        )
        wanted = collections.Counter()
        for escalation in Escalation.objects.select_related("visit__therapist"):
            assert escalation.notify_status == NotifyStatus.SENT, (
                f"escalation {escalation.pk}: therapist alert {escalation.notify_status} "
                f"({escalation.notify_error})"
            )
            # One alert per level: a raised escalation alerts the therapist again.
            wanted[escalation.visit.therapist.email] += max(1, len(escalation.level_history))
        assert alerts == wanted, (
            f"therapist alerts received {dict(alerts)}, expected {dict(wanted)}"
        )
