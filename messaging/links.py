"""Link tokens: random, stored only as a hash, found by that hash; links built on SITE_URL."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db.models import QuerySet

# Longer than any token we issue (43 characters): anything longer is not worth a lookup.
MAX_TOKEN_CHARS = 100


def new_token() -> str:
    """Return a fresh link token (256 random bits, 43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the stored form of a link token (only the hash is ever kept)."""
    return hashlib.sha256(token.encode()).hexdigest()


def find(rows: QuerySet, token: str):
    """Return the row of `rows` whose link carries `token` (any status), or None."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    return rows.filter(token_hash=hash_token(token)).first()


def site_link(path: str) -> str:
    """Return an absolute link on SITE_URL (never the request's Host header)."""
    return f"{settings.SITE_URL}{path}"
