"""The follow-up tick: sweep stuck sends, expire stale check-ins, claim due ones and send them.

Due work lives in the database, never in the broker (no Celery ETA for hours or days: Redis
redelivers such tasks after its visibility timeout and loses them on a flush). Celery beat
runs `followup.tasks.dispatch_due` every minute in production; `manage.py sendfollowups
--loop` runs the same `tick()` in the embedded setup. Each step is its own short transaction
and may be called on its own (the tests do).
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from followup.escalations import enqueue_therapist_notification
from followup.models import CheckIn, CheckInStatus, Escalation, NotifyStatus

logger = logging.getLogger(__name__)

# A row in `sending` longer than this lost its worker (crash, or the task never reached the
# broker): the sweeper hands it back. Far above the transports' timeouts (10 s).
SWEEP_AFTER = datetime.timedelta(seconds=settings.FOLLOWUP_SWEEP_SECONDS)
# A check-in not sent within a day of its due time is no longer a "24 h" check-in.
OVERDUE_AFTER = datetime.timedelta(hours=settings.FOLLOWUP_OVERDUE_HOURS)
# Rows per claim and per `send_checkins` task: one task costs one broker round trip and a
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

# The send tasks, by their names in Celery's registry: the tasks module runs this tick (the
# beat's task), so the tick looks its tasks up rather than importing that module back.
SEND_CHECKINS_TASK = "followup.tasks.send_checkins"


@dataclass
class TickResult:
    """What one tick did, for logs and the command's output."""

    returned: int = 0
    failed_stuck: int = 0
    expired_unsent: int = 0
    expired_unanswered: int = 0
    claimed: int = 0
    alerts: int = 0

    def __str__(self) -> str:
        return (
            f"claimed {self.claimed}, returned {self.returned}, failed {self.failed_stuck}, "
            f"expired {self.expired_unsent} unsent and {self.expired_unanswered} unanswered, "
            f"retried {self.alerts} therapist alert(s)"
        )


def tick(now: datetime.datetime | None = None) -> TickResult:
    """Run every step once: sweep, expire, claim due check-ins and send them, retry alerts.

    Each claimed batch becomes one `send_checkins` task and each alert due again one
    `notify_escalation` task, published once the claim has committed, so a worker never sees
    a row that is not claimed yet.
    """
    now = now or timezone.now()
    result = TickResult()
    result.returned, result.failed_stuck = sweep(now)
    result.expired_unsent, result.expired_unanswered = expire(now)
    deadline = time.monotonic() + TICK_SECONDS
    room = MAX_SENDING - CheckIn.objects.filter(status=CheckInStatus.SENDING).count()
    while room > 0 and time.monotonic() < deadline:
        limit = min(BATCH_SIZE, room)
        claimed = claim_due(now, limit=limit)
        if claimed:
            transaction.on_commit(lambda ids=claimed: _enqueue_sends(ids))
        result.claimed += len(claimed)
        room -= len(claimed)
        if len(claimed) < limit:
            break
    alerts = claim_alerts(now)
    for pk in alerts:
        transaction.on_commit(lambda pk=pk: enqueue_therapist_notification(pk))
    result.alerts = len(alerts)
    if result.claimed or result.returned or result.failed_stuck or result.alerts:
        logger.info("follow-up tick: %s", result)
    return result


def sweep(now: datetime.datetime) -> tuple[int, int]:
    """Return rows stuck in `sending` to `scheduled`, or fail them after the last attempt."""
    stuck = CheckIn.objects.filter(status=CheckInStatus.SENDING, claimed_at__lt=now - SWEEP_AFTER)
    # `attempts` counts sends a worker started; a row whose task never reached a worker
    # (broker down) is returned without using up an attempt.
    failed = stuck.filter(attempts__gte=settings.FOLLOWUP_MAX_ATTEMPTS).update(
        status=CheckInStatus.FAILED,
        claimed_at=None,
        token_hash=None,
        last_error="stuck while sending after the last attempt",
    )
    returned = stuck.filter(attempts__lt=settings.FOLLOWUP_MAX_ATTEMPTS).update(
        status=CheckInStatus.SCHEDULED, claimed_at=None, next_attempt_at=None
    )
    if returned or failed:
        logger.warning("sweeper: %s stuck check-in(s) returned, %s failed", returned, failed)
    return returned, failed


def expire(now: datetime.datetime) -> tuple[int, int]:
    """Expire check-ins never sent long after their due time, and sent ones past their link."""
    unsent = CheckIn.objects.filter(
        status=CheckInStatus.SCHEDULED, due_at__lt=now - OVERDUE_AFTER
    ).update(
        status=CheckInStatus.EXPIRED,
        next_attempt_at=None,
        last_error=f"not sent within {_hours(OVERDUE_AFTER)} h of its due time",
    )
    # The token hash stays, so the message's opt-out link keeps working.
    unanswered = CheckIn.objects.filter(status=CheckInStatus.SENT, expires_at__lte=now).update(
        status=CheckInStatus.EXPIRED, last_error="no answer before the link expired"
    )
    return unsent, unanswered


def _hours(delta: datetime.timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def due_checkins(now: datetime.datetime):
    """Return the queryset of check-ins ready to send at `now`, oldest first."""
    ready = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (
        CheckIn.objects.filter(status=CheckInStatus.SCHEDULED, due_at__lte=now)
        .filter(ready)
        .order_by("due_at", "id")
    )


def claim_due(now: datetime.datetime, *, limit: int = BATCH_SIZE) -> list[int]:
    """Claim up to `limit` due check-ins (scheduled -> sending) and return their ids.

    Claiming guarantee: each due row is claimed by exactly one dispatcher, however many run.
    On PostgreSQL we lock the batch with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent
    dispatchers take disjoint batches without waiting on each other (pretix's way); elsewhere
    (SQLite) each row is claimed by a conditional UPDATE ... WHERE status = 'scheduled' and
    only the dispatcher whose update changed the row owns it (healthchecks' way). The tick
    publishes the send after this commits; if publishing fails the row stays `sending` and the
    sweeper returns it - nothing is lost. The claim clears any old link hash: the send task
    takes only rows without one (see sending.send_checkins).
    """
    with transaction.atomic():
        candidates = due_checkins(now)
        if connection.features.has_select_for_update_skip_locked:
            ids = list(
                candidates.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit]
            )
            CheckIn.objects.filter(id__in=ids, status=CheckInStatus.SCHEDULED).update(
                status=CheckInStatus.SENDING, claimed_at=now, token_hash=None
            )
        else:
            ids = [
                pk
                for pk in candidates.values_list("id", flat=True)[:limit]
                if CheckIn.objects.filter(pk=pk, status=CheckInStatus.SCHEDULED).update(
                    status=CheckInStatus.SENDING, claimed_at=now, token_hash=None
                )
            ]
    return ids


def claim_alerts(now: datetime.datetime) -> list[int]:
    """Lease therapist alerts still pending after their grace, or failed temporarily; return ids."""
    lease = now + SWEEP_AFTER
    with transaction.atomic():
        due = Escalation.objects.filter(
            notify_status__in=[NotifyStatus.PENDING, NotifyStatus.FAILED],
            notify_retry_at__lte=now,
            notify_attempts__lt=settings.FOLLOWUP_MAX_ATTEMPTS,
        ).order_by("notify_retry_at", "id")
        ids = [
            pk
            for pk in due.values_list("id", flat=True)[:BATCH_SIZE]
            # A lease, so the next tick does not enqueue it again while a worker has it.
            if Escalation.objects.filter(pk=pk, notify_retry_at__lte=now).update(
                notify_retry_at=lease
            )
        ]
    return ids


def _enqueue_sends(checkin_ids: list[int]) -> None:
    try:
        current_app.tasks[SEND_CHECKINS_TASK].delay(checkin_ids)
    except Exception:
        # Broker down: the rows keep their claim and the sweeper hands them back later.
        logger.warning(
            "check-in batch %s: could not enqueue; it will be retried", checkin_ids, exc_info=True
        )
