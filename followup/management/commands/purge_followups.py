"""Delete old follow-up answers and link hashes; keep check-in rows and escalations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from followup.retention import purge_followups


class Command(BaseCommand):
    help = (
        "Delete check-in answers and clear link hashes of visits completed more than DAYS "
        "ago. Escalations (who, when, notes, rule ids) and check-in rows are kept."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.FOLLOWUP_RETENTION_DAYS,
            metavar="DAYS",
            help="Age in days (default FOLLOWUP_RETENTION_DAYS).",
        )

    def handle(self, *args: Any, older_than: int, **options: Any) -> None:
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day")
        result = purge_followups(older_than_days=older_than)
        self.stdout.write(
            f"Deleted {result.answers_deleted} answer(s) and cleared "
            f"{result.tokens_cleared} link(s) of visits completed over {older_than} days ago."
        )
