"""Periodic jobs that belong to no one app: retention, and the heartbeat beat is checked by.

Celery beat runs them (CELERY_BEAT_SCHEDULE in clinic/settings.py). The retention jobs call
the same management commands an operator would run by hand, so the two never drift apart.
"""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache
from django.core.management import call_command

HEARTBEAT_KEY = "clinic:beat-heartbeat"


@shared_task(ignore_result=True)
def purge_followups() -> None:
    """Delete follow-up answers and links past FOLLOWUP_RETENTION_DAYS (daily)."""
    call_command("purge_followups")


@shared_task(ignore_result=True)
def clear_sessions() -> None:
    """Delete expired staff sessions from the database (daily)."""
    call_command("clearsessions")


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Record that beat scheduled this and a worker ran it (`manage.py check_beat` reads it)."""
    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def last_heartbeat() -> float | None:
    """Return when the last heartbeat ran (epoch seconds), or None if none is recorded."""
    return cache.get(HEARTBEAT_KEY)
