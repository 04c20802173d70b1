"""Sending claimed link messages in batches: take the rows, deliver each message, record outcomes.

The tick (messaging.dispatch) claims due rows of each kind and hands each batch to the
`send_links` task, which calls `send_batch` here. The retry policy (backoff, when to give up)
is shared with the staff alerts.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import secrets
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
# What a send reads of every row, besides what its kind reads.
_ROW_FIELDS = ("attempts", "channels", "token_hash", "link_secret")


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


def send_batch(*, kind: LinkKind, ids: Iterable[int]) -> SendSummary:
    """Send a batch of claimed (`sending`) rows of one kind, each with its link; record them.

    Delivery guarantee, decided here: at-least-once, and a repeated message is harmless. The
    tick claims a row (scheduled -> sending) so only one task is handed it; the "take" below
    (one conditional UPDATE for the batch: `sending` rows no attempt has taken yet, marked
    with this attempt's key) lets only one task send per claim even if the broker delivers the
    task twice or the sweeper re-queued a row whose first task was only late; and every
    outcome update applies only while the row still holds this attempt's key, so a finished
    row is never sent again.

    Each message is recorded before the next one is sent (one UPDATE, retried once on a fresh
    connection if the database dropped ours). The window left is a worker killed after a
    transport accepted a message and before that UPDATE committed: about one database round
    trip, under a millisecond (`make bench` reports the longest it saw). The sweeper then
    returns the row and the client gets the message a second time, with the same link (a row
    keeps its link from its first send): either copy opens the same page and one answer
    closes both. We prefer a rare repeated message to a lost one, because a lost check-in
    can hide a worsening client.
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
                    [row.row.pk for row in unreachable],
                    {
                        "status": LinkStatus.CANCELLED,
                        "claimed_at": None,
                        "last_error": kind.unreachable_reason,
                    },
                )
            ],
            send_key=taken[0].send_key,
        )
    with email_connection() as mailer, _commits_without_waiting_for_disk():
        for row in taken:
            if not row.recipient.reachable:
                continue
            deliveries = _deliver(kind, row, mailer=mailer)
            out_at = time.monotonic()
            _record_sends(kind, [(row, deliveries)], summary)
            if any(d.ok for d in deliveries):
                summary.window = max(summary.window, time.monotonic() - out_at)
    logger.info("%s: %s", kind, summary)
    return summary


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


@dataclass(frozen=True)
class _Taken:
    """A row this worker took for one attempt, its link token, its recipient, the attempt key."""

    row: LinkMessage
    token: str
    recipient: Recipient
    send_key: str


def _take(kind: LinkKind, ids: list[int]) -> list[_Taken]:
    """Take the batch's rows still waiting to be sent: one UPDATE, then one SELECT to read them.

    A row is takeable while `sending` without a send key (the claim clears it); taking marks
    it with this attempt's key, bumps `attempts` and renews the lease. A row without a link
    yet (or whose link expired) gets one here: a fresh secret and the hash of its token. A
    row with a link keeps it, so a second send carries the link of the first.

    If the database drops the connection, the take runs again on a fresh one with the same
    key and secrets: the UPDATE then takes only rows the first try did not, and the SELECT
    finds every row taken with the key, so nothing is left taken but unsent.
    """
    if not ids:
        return []
    model = kind.model
    now = timezone.now()
    send_key = secrets.token_hex(16)
    new_secrets = {pk: links.new_secret() for pk in dict.fromkeys(ids)}
    changes = {
        "attempts": F("attempts") + 1,
        "claimed_at": now,
        "send_key": send_key,
        **_new_link_changes(kind, model, new_secrets, now),
    }

    def take() -> list[LinkMessage]:
        model.objects.filter(
            pk__in=list(new_secrets), status=LinkStatus.SENDING, send_key__isnull=True
        ).update(**changes)
        rows = model.objects.filter(
            pk__in=list(new_secrets), send_key=send_key, status=LinkStatus.SENDING
        )
        if kind.select_related:
            rows = rows.select_related(*kind.select_related)
        return list(rows.only(*_ROW_FIELDS, *kind.reads).order_by("pk"))

    taken = []
    for row in _on_a_fresh_connection_if_dropped(take):
        token = links.token_for(row.link_secret, row.token_hash)
        if token is None:
            token = _replace_link(kind, row, send_key)
        taken.append(_Taken(row=row, token=token, recipient=kind.recipient(row), send_key=send_key))
    if len(taken) < len(new_secrets):
        skipped = len(new_secrets) - len(taken)
        logger.info("%s: %s of %s already taken or moved on", kind, skipped, len(new_secrets))
    return taken


def _new_link_changes(kind: LinkKind, model, new_secrets: dict[int, str], now) -> dict:
    """Return the take's updates that give a row without a working link its new link.

    CASE WHEN <no link> THEN CASE id WHEN ... THEN <value> END ELSE <column> END: one
    statement gives each row its own secret and hash. Written as SQL because a Case(When(...))
    of 100 branches costs more Python than the sends themselves. Every SET expression reads
    the row as it was, so the three columns change together or not at all.
    """
    quote = connection.ops.quote_name
    pk_column = quote(model._meta.pk.column)
    secret_column, hash_column, expires_column = (
        quote(model._meta.get_field(name).column)
        for name in ("link_secret", "token_hash", "expires_at")
    )
    adapted_now = connection.ops.adapt_datetimefield_value(now)
    no_link = f"{secret_column} IS NULL OR {expires_column} IS NULL OR {expires_column} <= %s"
    hashes = {
        pk: links.hash_token(links.derive_token(secret)) for pk, secret in new_secrets.items()
    }
    branches = " ".join(["WHEN %s THEN %s"] * len(new_secrets))

    def per_row(values: dict[int, str], column: str) -> RawSQL:
        params: list = [adapted_now]
        for pk, value in values.items():
            params += [pk, value]
        sql = f"CASE WHEN {no_link} THEN CASE {pk_column} {branches} END ELSE {column} END"
        # Safe: the SQL holds only placeholders and quoted column names; values are parameters.
        return RawSQL(sql, params)  # noqa: S611

    changes = {
        "link_secret": per_row(new_secrets, secret_column),
        "token_hash": per_row(hashes, hash_column),
    }
    expires_at = kind.link_expires_at(now)
    if expires_at is not None:
        sql = f"CASE WHEN {no_link} THEN %s ELSE {expires_column} END"
        params = [adapted_now, connection.ops.adapt_datetimefield_value(expires_at)]
        changes["expires_at"] = RawSQL(sql, params)  # noqa: S611
    return changes


def _replace_link(kind: LinkKind, row: LinkMessage, send_key: str) -> str:
    """Give a taken row a new link: its token cannot be rebuilt (the key that made it is no
    longer in SECRET_KEY_FALLBACKS). The link already sent then stops working."""
    logger.warning("%s %s: its link was made with a retired key; sending a new one", kind, row.pk)
    secret = links.new_secret()
    token = links.derive_token(secret)
    kind.model.objects.filter(pk=row.pk, send_key=send_key).update(
        link_secret=secret, token_hash=links.hash_token(token)
    )
    row.link_secret, row.token_hash = secret, links.hash_token(token)
    return token


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
        rows = kind.model.objects.filter(pk__in=pks, send_key=send_key, status=LinkStatus.SENDING)
        return rows.update(**fields)

    def apply() -> int:
        if len(updates) == 1:
            return update(*updates[0])
        with transaction.atomic():
            return sum(update(pks, fields) for pks, fields in updates)

    return _on_a_fresh_connection_if_dropped(apply)


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
