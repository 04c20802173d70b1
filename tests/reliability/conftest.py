"""Fault tests: the real stack (tests/integration's), a private Redis, and ONE invariant.

Every scenario ends with `assert_followup_invariant(...)`:

- no check-in stays `sending` past the sweep window (the sweeper is run, then checked);
- every due check-in was sent exactly once, counted in the messages actually received (SMTP
  sink, outbox table or locmem), or is failed/expired/cancelled with a reason (last_error);
- no escalation is lost (the visit's highest escalation is the policy's level for its
  answers) or doubled (one therapist alert per escalation).

A check-in's message is recognised by its link token (only the hash is stored, and each send
attempt gets a fresh token), so a message whose token matches no row is a second copy of a
check-in that was sent again.

Processes are started and stopped by tests.support.processes; the Redis these tests stop or
flush is a private `redis-server` on a free 127.0.0.1 port, never the shared one.
"""

from __future__ import annotations

import collections
import datetime
import os
import re
import shutil
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from followup.answers import evaluate_visit
from followup.models import CheckIn, CheckInStatus, Escalation, NotifyStatus
from followup.sending import CHECKINS
from intake.models import Client, Visit, VisitStatus
from messaging import dispatch
from messaging.links import hash_token
from tests.factories import CheckInFactory, UserFactory
from tests.integration import conftest as integration
from tests.support.environment import free_port, stack_env
from tests.support.processes import Service, wait_until
from tests.support.smtp import SmtpSink

# Reuse the integration tests' fixtures (the SMTP sink, the artifacts folder, the stack of
# processes) and its report hook, which prints the processes' logs when a test fails.
for _name in ("artifacts", "smtp_sink", "stack", "pytest_runtest_makereport"):
    globals()[_name] = getattr(integration, _name)

SEND_DELAY = "0.4"  # seconds per message in the slow transport: room to strike mid-batch
# Check-ins per `send_links` task: a two-process worker holds two batches, the rest wait.
TASK_BATCH = 3
TOKEN = re.compile(r"/f/([A-Za-z0-9_-]{20,})/")
FINISHED = (CheckInStatus.SENT, CheckInStatus.ANSWERED)
ENDED_WITH_REASON = (CheckInStatus.FAILED, CheckInStatus.EXPIRED, CheckInStatus.CANCELLED)
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


class Journal:
    """The slow transport's journal: which sends started and finished, in which process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("")

    def lines(self) -> list[tuple[str, int, str]]:
        rows = []
        for line in self.path.read_text().splitlines():
            event, pid, to = line.split(" ", 2)
            rows.append((event, int(pid), to))
        return rows

    def count(self, event: str, pids: Iterable[int] | None = None) -> int:
        wanted = set(pids) if pids is not None else None
        return sum(
            1 for e, pid, _ in self.lines() if e == event and (wanted is None or pid in wanted)
        )

    def in_flight(self) -> int:
        """Return how many sends started and did not finish (processes still alive or not)."""
        return self.count("start") - self.count("done")


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
def fault_stack(reliability_stack, artifacts):
    """The reliability stack, its email through the slow SMTP transport to the sink."""
    stack = reliability_stack
    journal = Journal(artifacts / "sends.journal")
    stack.env.update(
        {
            "EMAIL_BACKEND": "tests.reliability.backends.SlowSMTPBackend",
            "RELIABILITY_SEND_DELAY": SEND_DELAY,
            "RELIABILITY_SEND_JOURNAL": str(journal.path),
        }
    )
    stack.journal = journal
    return stack


def claim_and_publish(stack, *, now: datetime.datetime | None = None) -> list[int]:
    """Claim the due check-ins as the tick does and publish each batch to the stack's broker.

    The tick's own publish goes to the broker of this test process, not to the stack's, so
    the test runs the tick's two steps itself: `claim_due`, then one `send_links` task per
    claimed batch. Batches are small, so a worker holds some while others wait on the broker.
    """
    now = now or timezone.now()
    claimed = []
    while batch := dispatch.claim_due(CHECKINS, now, limit=TASK_BATCH):
        stack.send_task(dispatch.SEND_TASK, CHECKINS.name, batch)
        claimed += batch
    return claimed


def sweep_after_the_window(stack) -> int:
    """Run the tick as the beat would once the sweep window has passed; return rows swept back.

    The sweeper returns the rows stuck in `sending`, and they are claimed and published again.
    """
    later = timezone.now() + dispatch.SWEEP_AFTER + datetime.timedelta(seconds=1)
    returned, _failed = dispatch.sweep(CHECKINS, later)
    claim_and_publish(stack, now=later)
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
    """Wait until the broker queue is empty, no send is in flight and no row moves for a while."""

    def snapshot():
        statuses = collections.Counter(CheckIn.objects.values_list("status", flat=True))
        return redis_client.llen("celery"), stack.journal.in_flight(), sorted(statuses.items())

    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = snapshot()
        if now != last:
            last, since = now, time.monotonic()
        elif now[0] == 0 and time.monotonic() - since >= settle:
            return
        time.sleep(0.2)
    raise AssertionError(f"the stack never went idle: queue, in flight, statuses = {last}")


def wait_until_all_due_finished(timeout: float = 40) -> None:
    """Wait until no due check-in is scheduled or sending any more."""
    pending = (CheckInStatus.SCHEDULED, CheckInStatus.SENDING)

    def left():
        return CheckIn.objects.filter(status__in=pending, due_at__lte=timezone.now()).count()

    wait_until(
        lambda: left() == 0,
        timeout=timeout,
        message=lambda: f"every due check-in to be sent ({left()} left: {status_summary()})",
    )


def status_summary() -> dict[str, int]:
    return dict(collections.Counter(CheckIn.objects.values_list("status", flat=True)))


# ---- data --------------------------------------------------------------------------------


def make_due_checkins(
    count: int, *, therapist=None, channels: tuple[str, ...] = ("email",), tag: str = "c"
) -> list[CheckIn]:
    """Create `count` completed visits of different clients, each with one due 24 h check-in."""
    now = timezone.now()
    therapist = therapist or UserFactory(username=f"therapist-{tag}", groups=["therapist"])
    clients = Client.objects.bulk_create(
        Client(
            first_name="Client",
            last_name=f"{tag.upper()}{i:04d}",
            date_of_birth=datetime.date(1980, 5, 1),
            email=f"{tag}{i:04d}@example.test",
            phone=f"+447911{i:06d}",
            preferred_channel="email",
            followup_consent=True,
            followup_consent_at=now,
            followup_consent_source="paper",
        )
        for i in range(count)
    )
    visits = Visit.objects.bulk_create(
        Visit(
            client=client,
            therapist=therapist,
            scheduled_at=now - datetime.timedelta(hours=2),
            planned_modality="swedish",
            status=VisitStatus.COMPLETED,
            performed_modality="swedish",
            completed_at=now - datetime.timedelta(hours=1),
            completed_by=therapist,
            baseline_pain=3,
        )
        for client in clients
    )
    return CheckIn.objects.bulk_create(
        CheckInFactory.build(
            visit=visit, due_at=now - datetime.timedelta(minutes=1), channels=list(channels)
        )
        for visit in visits
    )


# ---- the invariant -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """One message a transport really delivered: channel, recipient address, text."""

    channel: str
    to: str
    body: str

    def tokens(self) -> set[str]:
        return set(TOKEN.findall(self.body))


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


def assert_followup_invariant(delivered: list[Delivered], *, alerts_checked: bool = True) -> None:
    """Assert the shared end state of every fault scenario (see the module docstring)."""
    # 1. The sweeper, run once its window has passed, finds nothing stuck in `sending`.
    later = timezone.now() + dispatch.SWEEP_AFTER + datetime.timedelta(seconds=1)
    stuck = list(CheckIn.objects.filter(status=CheckInStatus.SENDING).values("id", "attempts"))
    swept = dispatch.sweep(CHECKINS, later)
    assert swept == (0, 0) and not stuck, f"rows stuck in sending past the sweep window: {stuck}"

    # 2. Each due check-in: sent exactly once, or ended with a reason.
    now = timezone.now()
    by_hash: dict[str, list[Delivered]] = collections.defaultdict(list)
    for message in delivered:
        for token in message.tokens():
            by_hash[hash_token(token)].append(message)
    problems = []
    known_hashes = set()
    checkins = CheckIn.objects.filter(due_at__lte=now).select_related("visit__client")
    for checkin in checkins.order_by("id"):
        label = f"check-in {checkin.pk} ({checkin.status}, attempts {checkin.attempts})"
        if checkin.token_hash:
            known_hashes.add(checkin.token_hash)
        got = by_hash.get(checkin.token_hash, []) if checkin.token_hash else []
        if checkin.status in FINISHED:
            per_channel = collections.Counter(m.channel for m in got)
            if not got:
                problems.append(f"{label}: marked sent but no message carries its link")
            elif max(per_channel.values()) > 1:
                problems.append(f"{label}: its link was delivered {dict(per_channel)} times")
        elif checkin.status in ENDED_WITH_REASON:
            if not checkin.last_error:
                problems.append(f"{label}: ended without a reason (last_error is empty)")
            if checkin.sent_at is None and got:
                problems.append(f"{label}: never marked sent, yet {len(got)} message(s) went out")
        else:
            problems.append(f"{label}: due but still {checkin.status}")
    # A message whose token matches no row is an earlier copy of a check-in sent again.
    orphans = [m for h, ms in by_hash.items() if h not in known_hashes for m in ms]
    for message in orphans:
        problems.append(
            f"a second message went to {message.to} ({message.channel}) for one check-in"
        )
    assert not problems, "\n".join(problems[:30]) + f"\n({len(problems)} problem(s))"

    # 3. Escalations: none lost, none doubled.
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
            wanted[escalation.visit.therapist.email] += 1
        assert alerts == wanted, (
            f"therapist alerts received {dict(alerts)}, expected {dict(wanted)}"
        )
