"""The tick: for every kind of link message, sweep stuck sends, expire stale rows, claim due
ones and hand them to the workers; then the other periodic steps apps register (follow-up's
therapist alerts).

Due work lives in the database, never in the broker (no Celery ETA for hours or days: Redis
redelivers such tasks after its visibility timeout and loses them on a flush). Celery beat
runs `messaging.tasks.dispatch_due` every FOLLOWUP_TICK_SECONDS in production; `manage.py
sendmessages --loop` runs the same `tick()` in the embedded setup. Each step is its own short
transaction and may be called on its own (the tests do).
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from messaging import kinds
from messaging.kinds import LinkKind
from messaging.models import LinkStatus

logger = logging.getLogger(__name__)

# A row in `sending` longer than this lost its worker (crash, or the task never reached the
# broker): the sweeper hands it back. Far above the transports' timeouts (10 s).
SWEEP_AFTER = datetime.timedelta(seconds=settings.FOLLOWUP_SWEEP_SECONDS)
# Rows per claim and per `send_links` task: one task costs one broker round trip and a
# handful of statements for 100 sends, yet a worker killed mid-batch strands at most 100 rows
# (the sweeper returns them).
BATCH_SIZE = 100
# A tick claims batch after batch while rows are due, so beat's once a minute is no cap on
# throughput, but stops after TICK_SECONDS (well inside beat's minute, so ticks do not pile
# up) and keeps at most MAX_SENDING rows claimed and unfinished: workers then need only
# 10,000 / 600 s = 17 sends/s to finish every claim before the sweeper's window, so it never
# hands back rows whose tasks are merely still queued. (The bench sends ~1,000/s.)
TICK_SECONDS = 20.0
MAX_SENDING = 10_000

# The send task, by its name in Celery's registry: the tasks module runs this tick (the
# beat's task), so the tick looks its task up rather than importing that module back.
SEND_TASK = "messaging.tasks.send_links"

# Other periodic steps, by name: each takes the tick's `now` and returns how many rows it
# handed on. Registered by the apps that own them (AppConfig.ready()).
_STEPS: dict[str, Callable[[datetime.datetime], int]] = {}


def register_step(name: str, step: Callable[[datetime.datetime], int]) -> None:
    """Run `step(now)` on every tick, after the link messages (idempotent per name)."""
    _STEPS[name] = step


@dataclass
class TickResult:
    """What one tick did, for logs and the command's output."""

    returned: int = 0
    expired_unsent: int = 0
    expired_unanswered: int = 0
    claimed: int = 0
    steps: dict[str, int] = field(default_factory=dict)

    def busy(self) -> bool:
        """Return whether the tick moved anything worth a log line."""
        return bool(self.claimed or self.returned or any(self.steps.values()))

    def __str__(self) -> str:
        text = (
            f"claimed {self.claimed}, returned {self.returned}, "
            f"expired {self.expired_unsent} unsent and {self.expired_unanswered} unanswered"
        )
        return "; ".join([text, *(f"{name} {count}" for name, count in self.steps.items())])


def tick(now: datetime.datetime | None = None) -> TickResult:
    """Run every step once: for each kind sweep, expire, claim and send; then the other steps.

    Each claimed batch becomes one `send_links` task, published once the claim has
    committed, so a worker never sees a row that is not claimed yet. Kinds take turns, one
    batch each, so no kind waits behind another's backlog.
    """
    now = now or timezone.now()
    result = TickResult()
    every_kind = kinds.registered()
    for kind in every_kind:
        result.returned += sweep(kind, now)
        unsent, unanswered = expire(kind, now)
        result.expired_unsent += unsent
        result.expired_unanswered += unanswered
    deadline = time.monotonic() + TICK_SECONDS
    room = MAX_SENDING - sum(
        kind.model.objects.filter(status=LinkStatus.SENDING).count() for kind in every_kind
    )
    waiting = list(every_kind)
    while waiting and room > 0 and time.monotonic() < deadline:
        for kind in list(waiting):
            limit = min(BATCH_SIZE, room)
            if limit <= 0:
                break
            claimed = claim_due(kind, now, limit=limit)
            if claimed:
                transaction.on_commit(lambda k=kind, ids=claimed: _enqueue_sends(k, ids))
            result.claimed += len(claimed)
            room -= len(claimed)
            if len(claimed) < limit:
                waiting.remove(kind)
    for name, step in _STEPS.items():
        result.steps[name] = step(now)
    if result.busy():
        logger.info("tick: %s", result)
    return result


def sweep(kind: LinkKind, now: datetime.datetime) -> int:
    """Return rows stuck in `sending` to `scheduled`; return how many.

    A row is stuck when its worker was killed (or its task never reached one). A worker
    killed mid-send may have sent the message already: the row keeps its link, so the second
    message carries the same one. The attempt it lost is given back (the take counted it):
    a crash is not the transport failing, so it neither uses up FOLLOWUP_MAX_ATTEMPTS nor
    lengthens the next backoff. A row whose sends kill their worker every time is sent
    again after each sweep until it is overdue (`expire`, FOLLOWUP_OVERDUE_HOURS).
    """
    stuck = kind.model.objects.filter(status=LinkStatus.SENDING, claimed_at__lt=now - SWEEP_AFTER)
    back = {"status": LinkStatus.SCHEDULED, "claimed_at": None, "next_attempt_at": None}
    with transaction.atomic():
        # `send_key` set: a worker took the row and counted an attempt; unset: the task never
        # reached a worker (broker down), nothing to give back.
        returned = stuck.filter(send_key__isnull=False, attempts__gt=0).update(
            **back, send_key=None, attempts=F("attempts") - 1
        )
        returned += stuck.update(**back, send_key=None)
    if returned:
        logger.warning("sweeper: %s stuck %s(s) returned", returned, kind)
    return returned


def expire(kind: LinkKind, now: datetime.datetime) -> tuple[int, int]:
    """Expire rows never sent long after their due time, and sent ones past their link."""
    overdue = kind.overdue_after()
    unsent = kind.model.objects.filter(
        status=LinkStatus.SCHEDULED, due_at__lt=now - overdue
    ).update(
        status=LinkStatus.EXPIRED,
        next_attempt_at=None,
        last_error=f"not sent within {_hours(overdue)} h of its due time",
    )
    # The token hash stays, so the message's opt-out link keeps working.
    unanswered = kind.model.objects.filter(status=LinkStatus.SENT, expires_at__lte=now).update(
        status=LinkStatus.EXPIRED, last_error="no answer before the link expired"
    )
    return unsent, unanswered


def _hours(delta: datetime.timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def due(kind: LinkKind, now: datetime.datetime) -> QuerySet:
    """Return the queryset of a kind's rows ready to send at `now`, oldest first."""
    ready = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (
        kind.model.objects.filter(status=LinkStatus.SCHEDULED, due_at__lte=now)
        .filter(ready)
        .order_by("due_at", "id")
    )


def claim_due(kind: LinkKind, now: datetime.datetime, *, limit: int = BATCH_SIZE) -> list[int]:
    """Claim up to `limit` due rows of a kind (scheduled -> sending) and return their ids.

    Claiming guarantee: each due row is claimed by exactly one dispatcher, however many run.
    On PostgreSQL we lock the batch with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent
    dispatchers take disjoint batches without waiting on each other (pretix's way); elsewhere
    (SQLite) each row is claimed by a conditional UPDATE ... WHERE status = 'scheduled' and
    only the dispatcher whose update changed the row owns it (healthchecks' way). The tick
    publishes the send after this commits; if publishing fails the row stays `sending` and the
    sweeper returns it - nothing is lost. The claim clears the last attempt's key: the send
    task takes only rows without one (see messaging.sending); the row's link stays.
    """
    model = kind.model
    with transaction.atomic():
        candidates = due(kind, now)
        if connection.features.has_select_for_update_skip_locked:
            ids = list(
                candidates.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit]
            )
            model.objects.filter(id__in=ids, status=LinkStatus.SCHEDULED).update(
                status=LinkStatus.SENDING, claimed_at=now, send_key=None
            )
        else:
            ids = [
                pk
                for pk in candidates.values_list("id", flat=True)[:limit]
                if model.objects.filter(pk=pk, status=LinkStatus.SCHEDULED).update(
                    status=LinkStatus.SENDING, claimed_at=now, send_key=None
                )
            ]
    return ids


def _enqueue_sends(kind: LinkKind, ids: list[int]) -> None:
    try:
        current_app.tasks[SEND_TASK].delay(kind.name, ids)
    except Exception:
        # Broker down: the rows keep their claim and the sweeper hands them back later.
        logger.warning(
            "%s batch %s: could not enqueue; it will be retried", kind, ids, exc_info=True
        )
