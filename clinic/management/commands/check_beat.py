"""Beat's health check: is the heartbeat it schedules every 30 s recent?"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinic.tasks import last_heartbeat

# Four heartbeats missed: beat has stopped scheduling, or no worker runs what it schedules.
MISSED_HEARTBEATS = 4


class Command(BaseCommand):
    help = (
        "Exit 0 when Celery beat's heartbeat task ran recently (beat schedules it every "
        f"{settings.BEAT_HEARTBEAT_SECONDS} s and a worker runs it), 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-age",
            type=float,
            default=MISSED_HEARTBEATS * settings.BEAT_HEARTBEAT_SECONDS,
            metavar="SECONDS",
            help="the oldest heartbeat still healthy (default %(default)g)",
        )

    def handle(self, *args, max_age: float, **options):
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("no broker is configured (embedded mode): beat does not run")
        try:
            beat_at = last_heartbeat()
        except Exception as exc:  # the cache (Redis) is unreachable
            raise CommandError(f"cannot read the heartbeat ({type(exc).__name__})") from exc
        if beat_at is None:
            raise CommandError("no heartbeat recorded yet")
        age = time.time() - beat_at
        if age > max_age:
            raise CommandError(f"the last heartbeat ran {age:.0f} s ago (limit {max_age:g} s)")
        self.stdout.write(f"beat ok: the last heartbeat ran {age:.0f} s ago")
