"""Kinds of link message: the one small class per kind that the tick and the batch send use.

A kind names its model (a concrete `LinkMessage`), says what a send reads with each row, how to
reach the row's client (`recipient`), what the message says (`notice`, from the link token
only) and how long the link lives. Kinds are registered once, in their app's
AppConfig.ready(), and found by `name`, which is what the send task carries.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import ClassVar

from messaging.channels import Notice
from messaging.models import LinkMessage


@dataclass(frozen=True)
class Recipient:
    """Where a row's message goes; `reachable` False cancels it (the client opted out)."""

    email: str = ""
    phone: str = ""  # E.164, and only when the row has the SMS channel
    reachable: bool = True


class LinkKind:
    """One kind of link message. Subclass it, set the class attributes, register an instance."""

    name: ClassVar[str]
    model: ClassVar[type[LinkMessage]]
    # What `recipient` and `notice` read: relations to join and their fields, loaded with the
    # batch in one query (`only`, so a send reads no health data).
    select_related: ClassVar[tuple[str, ...]] = ()
    reads: ClassVar[tuple[str, ...]] = ()
    # Why a row whose client cannot be reached any more is cancelled (its last_error).
    unreachable_reason: ClassVar[str] = "the client opted out before it was sent"

    def recipient(self, row: LinkMessage) -> Recipient:
        """Return where the row's message goes, read when it is sent (not when scheduled)."""
        raise NotImplementedError

    def notice(self, row: LinkMessage, token: str) -> Notice:
        """Return the row's message carrying the link built from `token`."""
        raise NotImplementedError

    def link_expires_at(self, now: datetime.datetime) -> datetime.datetime | None:
        """Return when a link first sent at `now` expires; None: the row's `expires_at`."""
        return None

    def overdue_after(self) -> datetime.timedelta:
        """Return how late a row may still be sent; later, it expires unsent."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name


_KINDS: dict[str, LinkKind] = {}


def register(kind: LinkKind) -> LinkKind:
    """Add a kind (idempotent per name); the tick sends every registered kind."""
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> LinkKind:
    """Return the registered kind called `name` (LookupError if there is none)."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no kind of link message called {name!r}") from None


def registered() -> list[LinkKind]:
    """Return every registered kind, in registration order."""
    return list(_KINDS.values())
