"""Retention: delete old answers and link hashes, keep the audit trail (`purge_followups`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from followup.models import CheckIn, CheckInAnswer


@dataclass(frozen=True)
class PurgeResult:
    answers_deleted: int
    tokens_cleared: int


def purge_followups(*, older_than_days: int, now: datetime.datetime | None = None) -> PurgeResult:
    """Delete answers and link hashes of visits completed more than `older_than_days` ago.

    Check-in rows stay (Escalation.checkin is PROTECT) and so do escalations: who acted,
    when, their notes and the rule ids are the audit trail.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=older_than_days)
    old = CheckIn.objects.filter(visit__completed_at__lt=cutoff)
    with transaction.atomic():
        answers_deleted, _ = CheckInAnswer.objects.filter(checkin__in=old).delete()
        tokens_cleared = old.filter(token_hash__isnull=False).update(
            token_hash=None, link_secret=None
        )
    return PurgeResult(answers_deleted=answers_deleted, tokens_cleared=tokens_cleared)
