"""Sending claimed link messages in batches: take the rows, deliver each message, record outcomes.

The tick (messaging.dispatch) claims due rows of each kind and hands each batch to the
`send_links` task, which calls `send_batch` here. The retry policy (backoff, when to give up)
is shared with the staff alerts.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from messaging import links
from messaging.channels import Delivery, email_connection, notify
from messaging.kinds import LinkKind, Recipient
from messaging.models import LinkMessage, LinkStatus

logger = logging.getLogger(__name__)

# Waits before retrying a send after a temporary failure, by attempt number (then the last).
RETRY_BACKOFF = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=15),
    datetime.timedelta(hours=1),
)
# A batch records its sends at least this often, so a worker killed mid-batch leaves at most
# this long's worth of messages unrecorded (the sweeper would send those again).
RECORD_EVERY = datetime.timedelta(seconds=0.2)

# What a send reads of every row, besides what its kind reads.
_ROW_FIELDS = ("attempts", "channels", "token_hash")


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

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.cancelled} cancelled, {self.moved_on} moved on meanwhile"
        )


def send_batch(*, kind: LinkKind, ids: Iterable[int]) -> SendSummary:
    """Send a batch of claimed (`sending`) rows of one kind, each with a fresh link; record them.

    Delivery guarantee, decided here: at-least-once, duplicates avoided. The tick claims a row
    (scheduled -> sending) so only one task is handed it; the "take" below (one conditional
    UPDATE for the batch, `sending` rows without a link yet, each given its own new link hash)
    lets only one task send per claim even if the broker delivers the task twice or the
    sweeper re-queued a row whose first task was only late; and every outcome update applies
    only while the row still holds the link we gave it, so a finished row is never sent
    again. Outcomes are recorded at least every RECORD_EVERY while the batch sends (and once
    more on a fresh connection if the database dropped ours). The window left is a worker
    killed after the transport accepted a message and before its row was marked `sent`: the
    sweeper then returns the row and the client gets a second message (with a new link; the
    first stops working). That is at most RECORD_EVERY's worth of one worker's messages. We
    prefer a rare duplicate to a lost message, because a lost check-in can hide a worsening
    client.
    """
    summary = SendSummary()
    taken = _take(kind, list(ids))
    if not taken:
        return summary
    # The client is read with the take (a join after it): an opt-out or a corrected address
    # made while the row waited in the queue counts.
    unreachable = [row for row in taken if not row.recipient.reachable]
    if unreachable:
        summary.cancelled = len(unreachable)
        _record_outcomes(
            kind,
            [
                (
                    [row.token_hash for row in unreachable],
                    {
                        "status": LinkStatus.CANCELLED,
                        "token_hash": None,
                        "claimed_at": None,
                        "last_error": kind.unreachable_reason,
                    },
                )
            ],
        )
    sendable = [row for row in taken if row.recipient.reachable]
    pending: list[tuple[_Taken, list[Delivery]]] = []
    flushed_at = time.monotonic()
    try:
        with email_connection() as mailer:
            for row in sendable:
                pending.append((row, _deliver(kind, row, mailer=mailer)))
                if time.monotonic() - flushed_at >= RECORD_EVERY.total_seconds():
                    _record_sends(kind, pending, summary)
                    pending, flushed_at = [], time.monotonic()
    finally:
        # Also after an unexpected error: messages already out must be recorded as sent.
        _record_sends(kind, pending, summary)
    logger.info("%s: %s", kind, summary)
    return summary


@dataclass(frozen=True)
class _Taken:
    """A row this worker took for one attempt, the link token it carries, its recipient."""

    row: LinkMessage
    token: str
    token_hash: str
    recipient: Recipient


def _take(kind: LinkKind, ids: list[int]) -> list[_Taken]:
    """Take the batch's rows still waiting to be sent: one UPDATE, then one SELECT to read them.

    A row is takeable while `sending` without a link hash (the claim clears it); taking bumps
    `attempts`, renews the lease and stores the hash of a fresh token, distinct per row, so
    the hash identifies this attempt in every later update.
    """
    if not ids:
        return []
    model = kind.model
    now = timezone.now()
    tokens = {pk: links.new_token() for pk in dict.fromkeys(ids)}
    hashes = {pk: links.hash_token(token) for pk, token in tokens.items()}
    # CASE id WHEN ... THEN <hash>: one statement gives each row its own hash. Written as SQL
    # because a Case(When(...)) of 100 branches costs more Python than the sends themselves.
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    params: list = []
    for pk, token_hash in hashes.items():
        params += [pk, token_hash]
    branches = " ".join(["WHEN %s THEN %s"] * len(hashes))
    # Safe: the SQL holds only placeholders and a quoted column name; values are parameters.
    token_hash_case = RawSQL(f"CASE {pk_column} {branches} END", params)  # noqa: S611
    changes = {
        "attempts": F("attempts") + 1,
        "claimed_at": now,
        "token_hash": token_hash_case,
    }
    expires_at = kind.link_expires_at(now)
    if expires_at is not None:
        changes["expires_at"] = expires_at
    model.objects.filter(
        pk__in=list(tokens), status=LinkStatus.SENDING, token_hash__isnull=True
    ).update(**changes)
    rows = model.objects.filter(token_hash__in=list(hashes.values()), status=LinkStatus.SENDING)
    if kind.select_related:
        rows = rows.select_related(*kind.select_related)
    taken = [
        _Taken(
            row=row, token=tokens[row.pk], token_hash=row.token_hash, recipient=kind.recipient(row)
        )
        for row in rows.only(*_ROW_FIELDS, *kind.reads).order_by("pk")
    ]
    if len(taken) < len(tokens):
        skipped = len(tokens) - len(taken)
        logger.info("%s: %s of %s already taken or moved on", kind, skipped, len(tokens))
    return taken


def _deliver(kind: LinkKind, row: _Taken, *, mailer) -> list[Delivery]:
    return notify(
        notice=kind.notice(row.row, row.token),
        channels=row.row.channels,
        email=row.recipient.email,
        phone=row.recipient.phone,
        connection=mailer,
    )


def _record_sends(
    kind: LinkKind, pending: list[tuple[_Taken, list[Delivery]]], summary: SendSummary
) -> None:
    """Record the outcome of each send, grouped so that equal updates are one statement."""
    if not pending:
        return
    now = timezone.now()
    groups: dict[tuple, list[str]] = {}
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
                "token_hash": None,
                "claimed_at": None,
                "last_error": errors or "no channel to send on",
            }
        else:
            summary.retrying += 1
            fields = {
                "status": LinkStatus.SCHEDULED,
                "token_hash": None,
                "claimed_at": None,
                "next_attempt_at": now + backoff(attempt),
                "last_error": errors,
            }
        groups.setdefault(tuple(fields.items()), []).append(row.token_hash)
    done = _record_outcomes(kind, [(hashes, dict(fields)) for fields, hashes in groups.items()])
    if done < len(pending):
        summary.moved_on += len(pending) - done
        logger.warning("%s: %s sent or tried, but moved on meanwhile", kind, len(pending) - done)


def _record_outcomes(kind: LinkKind, updates: list[tuple[list[str], dict]]) -> int:
    """Record what sends did, once more on a fresh connection if the database dropped ours.

    The messages have already gone out: losing these updates would leave the rows `sending`
    and the sweeper would send them a second time. Each update applies only to rows still
    `sending` with the link hash this attempt gave them, so repeating it is safe.
    """

    def apply() -> int:
        with transaction.atomic():
            return sum(
                kind.model.objects.filter(token_hash__in=hashes, status=LinkStatus.SENDING).update(
                    **fields
                )
                for hashes, fields in updates
            )

    try:
        return apply()
    except (OperationalError, InterfaceError):
        connection.close()
        return apply()
