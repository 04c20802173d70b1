"""Sending claimed link messages in batches: take the rows, deliver each message, record outcomes.

The tick (messaging.dispatch) claims due rows of each kind and hands each batch to the
`send_links` task, which calls `send_batch` here. Outcomes and the retry policy are in
messaging.recording.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone

from messaging import links
from messaging.channels import Delivery, email_connection, notify
from messaging.kinds import LinkKind, Recipient
from messaging.models import LinkMessage, LinkStatus
from messaging.recording import (
    Recorder,
    SendSummary,
    _on_a_fresh_connection_if_dropped,
    _record_outcomes,
    backoff,
    delivery_errors,
    give_up,
)

__all__ = ["SendSummary", "backoff", "delivery_errors", "give_up", "send_batch"]

logger = logging.getLogger(__name__)

# What a send reads of every row, besides what its kind reads.
_ROW_FIELDS = ("attempts", "channels", "token_hash", "link_secret")


def send_batch(*, kind: LinkKind, ids: Iterable[int]) -> SendSummary:
    """Send a batch of claimed (`sending`) rows of one kind, each with its link; record them.

    Delivery guarantee, decided here: at-least-once, and a repeated message is harmless. The
    tick claims a row (scheduled -> sending) so only one task is handed it; the "take" below
    (one conditional UPDATE for the batch: `sending` rows no attempt has taken yet, marked
    with this attempt's key) lets only one task send per claim even if the broker delivers the
    task twice or the sweeper re-queued a row whose first task was only late; and every
    outcome update applies only while the row still holds this attempt's key, so a finished
    row is never sent again.

    Each message's outcome is recorded as soon as the transport accepted it, while the next
    message goes out (messaging.recording.Recorder: its own thread and connection; outcomes
    that arrive together share one UPDATE, retried once on a fresh connection if the
    database dropped it). The window left is a worker killed after a transport accepted a
    message and before that UPDATE committed: about one database round trip (`make bench`
    reports the longest it saw; on a quiet machine well under a millisecond). The sweeper then
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
    with email_connection() as mailer, Recorder(kind, summary) as recorder:
        for row in taken:
            if row.recipient.reachable:
                recorder.add(row, _deliver(kind, row, mailer=mailer))
    logger.info("%s: %s", kind, summary)
    return summary


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
