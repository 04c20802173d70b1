"""Recording what sends did: the retry policy, and each message's outcome as soon as it is out.

A batch send (messaging.sending) hands every message's outcome to a `Recorder`, which writes
it on its own thread and database connection while the next messages go out: a message is
recorded about one database round trip after the transport accepted it, and outcomes that
arrive together share one statement. The retry policy (backoff, when to give up) is shared
with the staff alerts.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import queue
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from messaging.channels import Delivery
from messaging.kinds import LinkKind
from messaging.models import LinkStatus

logger = logging.getLogger(__name__)

# Waits before retrying a send after a temporary failure, by attempt number (then the last).
RETRY_BACKOFF = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=15),
    datetime.timedelta(hours=1),
)


def backoff(attempt: int) -> datetime.timedelta:
    """Return how long to wait after failed attempt number `attempt` (1-based)."""
    return RETRY_BACKOFF[min(max(attempt, 1), len(RETRY_BACKOFF)) - 1]


def give_up(deliveries: list[Delivery], attempt: int) -> bool:
    """Return whether a failed attempt is the last: no channel, the last attempt, or permanent."""
    if not deliveries or attempt >= settings.FOLLOWUP_MAX_ATTEMPTS:
        return True
    return all(d.error is not None and d.error.permanent for d in deliveries)


def delivery_errors(deliveries: list[Delivery]) -> str:
    """Return the failed channels and why, e.g. "email: temporary: ...", for `last_error`."""
    # Transport errors only name the channel and the kind of failure: no health data.
    return "; ".join(f"{d.channel}: {d.error}" for d in deliveries if not d.ok)


@dataclass
class SendSummary:
    """What one batch of sends did, for the worker's log."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    moved_on: int = 0
    # The longest time a message was out (accepted by a transport) and not yet recorded.
    window: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.cancelled} cancelled, {self.moved_on} moved on meanwhile; "
            f"longest unrecorded window {self.window * 1000:.1f} ms"
        )


@contextlib.contextmanager
def _commits_without_waiting_for_disk():
    """On PostgreSQL, let the outcome updates commit without waiting for the disk.

    Recording every message on its own would otherwise wait for one disk flush per message.
    A commit that does not wait is still seen at once by every session and survives a
    killed worker; only a crash of PostgreSQL itself can lose the last fraction of a second
    of them, and a row whose "sent" is lost that way is swept back and sent again with the
    same link: a harmless repeat. The take before it waits for the disk as usual, so a link
    that went out is never lost.
    """
    if connection.vendor != "postgresql":
        yield
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
    except (OperationalError, InterfaceError):
        # The database dropped us: the updates run on a fresh connection, waiting for disk.
        connection.close()
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except (OperationalError, InterfaceError):
            # A connection that cannot reset is not reused with the setting: a new one
            # starts from the default.
            connection.close()


class Recorder:
    """Record a batch's sends as they go out, on a thread and database connection of its own.

    `add()` hands over a message's outcome at once and returns, so the next message goes
    out while this one is recorded; outcomes that queue up meanwhile share one statement.
    Leaving the `with` block waits until every outcome is recorded (also after an error in
    the batch: messages already out must be recorded as sent). Inside a transaction (a test,
    or a caller's atomic block) another connection would not see the rows: outcomes are then
    recorded in place, each before the next message is sent.
    """

    def __init__(self, kind: LinkKind, summary: SendSummary) -> None:
        self.kind, self.summary = kind, summary
        self.inline = connection.in_atomic_block
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="link-recorder", daemon=True)

    def __enter__(self) -> Recorder:
        if not self.inline:
            self.thread.start()
            self.ready.wait()
        return self

    def add(self, taken, deliveries: list[Delivery]) -> None:
        if self.error is not None:
            raise RuntimeError("recording sends failed; the batch stops") from self.error
        item = (taken, deliveries, time.monotonic())
        if self.inline:
            self._record([item])
        else:
            self.queue.put(item)

    def __exit__(self, *exc_info) -> None:
        if self.inline:
            return
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc_info[0] is None:
            raise RuntimeError("recording sends failed") from self.error

    def _run(self) -> None:
        try:
            with _commits_without_waiting_for_disk():
                self.ready.set()
                finished = False
                while not finished:
                    items = [self.queue.get()]
                    with contextlib.suppress(queue.Empty):
                        while True:
                            items.append(self.queue.get_nowait())
                    finished = None in items
                    items = [item for item in items if item is not None]
                    if items:
                        self._record(items)
        except BaseException as error:  # handed to the batch, which stops sending
            self.error = error
            logger.exception("%s: recording sends failed", self.kind)
        finally:
            self.ready.set()
            connection.close()  # this thread's own connection

    def _record(self, items: list) -> None:
        _record_sends(
            self.kind, [(taken, deliveries) for taken, deliveries, _ in items], self.summary
        )
        now = time.monotonic()
        for _, deliveries, out_at in items:
            if any(d.ok for d in deliveries):
                self.summary.window = max(self.summary.window, now - out_at)


def _record_sends(kind: LinkKind, pending: list[tuple], summary: SendSummary) -> None:
    """Record the outcome of each send, grouped so that equal updates are one statement.

    Every outcome keeps the row's link: a retry sends the same link, and the opt-out link in
    a message that did go out keeps working.
    """
    if not pending:
        return
    now = timezone.now()
    groups: dict[tuple, list[int]] = {}
    for row, deliveries in pending:
        attempt = row.row.attempts
        errors = delivery_errors(deliveries)
        if any(d.ok for d in deliveries):
            # Sent on at least one channel: a retry would repeat the message on that channel.
            summary.sent += 1
            fields = {
                "status": LinkStatus.SENT,
                "sent_at": now,
                "claimed_at": None,
                "next_attempt_at": None,
                "last_error": errors,
            }
        elif give_up(deliveries, attempt):
            summary.failed += 1
            logger.warning("%s %s: failed after %s attempt(s)", kind, row.row.pk, attempt)
            fields = {
                "status": LinkStatus.FAILED,
                "claimed_at": None,
                "last_error": errors or "no channel to send on",
            }
        else:
            summary.retrying += 1
            fields = {
                "status": LinkStatus.SCHEDULED,
                "claimed_at": None,
                "next_attempt_at": now + backoff(attempt),
                "last_error": errors,
            }
        groups.setdefault(tuple(fields.items()), []).append(row.row.pk)
    done = _record_outcomes(
        kind,
        [(pks, dict(fields)) for fields, pks in groups.items()],
        send_key=pending[0][0].send_key,
    )
    if done < len(pending):
        summary.moved_on += len(pending) - done
        logger.warning("%s: %s sent or tried, but moved on meanwhile", kind, len(pending) - done)


def _record_outcomes(kind: LinkKind, updates: list[tuple[list[int], dict]], *, send_key) -> int:
    """Record what sends did, once more on a fresh connection if the database dropped ours.

    The messages have already gone out: losing these updates would leave the rows `sending`
    and the sweeper would send them a second time. Each update applies only to rows still
    `sending` with this attempt's key, so repeating it is safe. One update is one statement
    (autocommit: no BEGIN and COMMIT round trips, the cost of recording every message).
    """

    def update(pks: list[int], fields: dict) -> int:
        if len(pks) == 1:
            return _update_one(kind.model, pks[0], send_key, fields)
        rows = kind.model.objects.filter(pk__in=pks, send_key=send_key, status=LinkStatus.SENDING)
        return rows.update(**fields)

    def apply() -> int:
        if len(updates) == 1:
            return update(*updates[0])
        with transaction.atomic():
            return sum(update(pks, fields) for pks, fields in updates)

    return _on_a_fresh_connection_if_dropped(apply)


def _update_one(model, pk: int, send_key: str, fields: dict) -> int:
    """Apply `fields` to one row still `sending` with `send_key`: the ORM's update, minus
    the cost of building it (which, once per message, was most of a send's CPU time)."""
    quote = connection.ops.quote_name
    meta = model._meta
    sets, params = [], []
    for name, value in fields.items():
        field = meta.get_field(name)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    columns = (meta.pk.column, meta.get_field("send_key").column, meta.get_field("status").column)
    where = " AND ".join(f"{quote(column)} = %s" for column in columns)
    # Safe: the SQL holds only placeholders and quoted names; values are parameters.
    sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk, send_key, str(LinkStatus.SENDING)])
        return cursor.rowcount


def _on_a_fresh_connection_if_dropped(step):
    """Run `step()`; if the database dropped the connection, once more on a fresh one.

    Only for steps that are safe to repeat (the take and the outcome updates are conditional
    on the attempt's key).
    """
    try:
        return step()
    except (OperationalError, InterfaceError):
        connection.close()
        return step()
