"""Link tokens: derived from a row's secret, stored only as a hash, found by that hash; links
built on SITE_URL; one answer closes a row's link.

A row's link is made once, at its first send: a random secret kept on the row, and the token
derived from it with SECRET_KEY (an HMAC), so the token can be rebuilt for a second send of
the same row but not from the database alone. Only the token's hash is looked up.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from messaging.models import ANSWERABLE, LinkMessage, LinkStatus
from statements import rows as statements

# Longer than any token we issue (43 characters): anything longer is not worth a lookup.
MAX_TOKEN_CHARS = 100
_SALT = "messaging.links.token"


def new_secret() -> str:
    """Return a fresh link secret (256 random bits)."""
    return secrets.token_urlsafe(32)


def derive_token(secret: str, *, key: str | None = None) -> str:
    """Return the link token of a row's secret (43 URL-safe characters), under `key`."""
    digest = salted_hmac(_SALT, secret, secret=key or settings.SECRET_KEY, algorithm="sha256")
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def token_for(secret: str, token_hash: str) -> str | None:
    """Return the token of `secret` whose hash is `token_hash`, under the current SECRET_KEY or
    one of SECRET_KEY_FALLBACKS (a link made before a key rotation); None if none matches."""
    for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        token = derive_token(secret, key=key)
        if hash_token(token) == token_hash:
            return token
    return None


def hash_token(token: str) -> str:
    """Return the stored form of a link token (only the hash is ever kept)."""
    return hashlib.sha256(token.encode()).hexdigest()


def find(rows: QuerySet, token: str):
    """Return the row of `rows` whose link carries `token` (any status), or None."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    return rows.filter(token_hash=hash_token(token)).first()


# What `LinkMessage.link_works` reads: a page that only asks whether a link works reads these.
LINK_FIELDS = ("status", "token_hash", "expires_at")


def find_row(
    model: type[LinkMessage], token: str, *, lock: bool = False, fields=None
) -> LinkMessage | None:
    """Return the row of `model` (the row alone) whose link carries `token`, or None; `lock`
    takes its row lock, `fields` reads only those columns (and the key; e.g. LINK_FIELDS).
    The answer pages' one look-up, in a statement built once."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    return statements.select_one(model, lock=lock, fields=fields, token_hash=hash_token(token))


def _close(model: type[LinkMessage], key: str, q: str) -> str:
    # The link closes only while it works (link_works): given out, unanswered, not expired.
    # Waiting for a row lock, the database checks this again on the row as it then is.
    table = model._meta.db_table
    answerable = ", ".join(f"'{status.value}'" for status in ANSWERABLE)
    return (
        f"UPDATE {q}{table}{q} SET {q}status{q} = %s, "  # noqa: S608 (names from the models)
        f"{q}sent_at{q} = COALESCE({q}sent_at{q}, {q}claimed_at{q}, %s), "
        f"{q}claimed_at{q} = NULL, {q}next_attempt_at{q} = NULL "
        f"WHERE {q}{key}{q} = %s AND {q}status{q} IN ({answerable}) "
        f"AND {q}token_hash{q} IS NOT NULL AND {q}expires_at{q} > %s"
    )


@statements.built_once
def _close_sql(model: type[LinkMessage], *, q: str) -> str:
    return _close(model, "id", q)


@statements.built_once
def _close_by_token_sql(model: type[LinkMessage], *, q: str) -> str:
    return _close(model, "token_hash", q) + statements.returning_all(model, q)


def close_for_answer(model: type[LinkMessage], token: str) -> LinkMessage | None:
    """Close the link that carries `token` for the answer being recorded, and return its row
    as now stored, locked until the transaction ends; None when the link cannot be answered
    (unknown, expired, answered already, or never given out).

    An answer page's look-up, lock and close in one statement (an UPDATE that returns the
    row), as `find_row(lock=True)` then `mark_answered` would do them in two.
    """
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    if not connection.features.can_return_columns_from_insert:  # no RETURNING at all
        row = find_row(model, token, lock=True)
        return row if row is not None and mark_answered(row) else None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [LinkStatus.ANSWERED.value, now, hash_token(token), now]
    found = statements.returned(model, _close_by_token_sql(model), params)
    return found[0] if found else None


def mark_answered(row: LinkMessage) -> bool:
    """Close the row's link: its one answer is being recorded. Return False if it cannot be.

    Every kind's answer page calls this inside the transaction that stores the answer (after
    locking the row), so one answer closes every copy of the message, and a copy still being
    sent then carries a link that shows "answered". A row answered before its send was
    recorded (a worker killed after the message went out) takes the time it was taken as its
    `sent_at`.
    """
    # One UPDATE, written once (it runs on every answer): the row must still be answerable.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    closed = statements.execute(
        _close_sql(type(row)), [LinkStatus.ANSWERED.value, now, row.pk, now]
    )
    if closed:
        row.status = LinkStatus.ANSWERED
    return bool(closed)


def site_link(path: str) -> str:
    """Return an absolute link on SITE_URL (never the request's Host header)."""
    return f"{settings.SITE_URL}{path}"
