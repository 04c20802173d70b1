"""Celery application `clinic` (`celery -A clinic worker`, `celery -A clinic beat`)."""

from __future__ import annotations

import os

from celery import Celery, signals

from clinic.scrub import add_filter_to_handlers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _scrub_celery_logs(logger, **kwargs) -> None:
    """Put the token and exception scrubbing on the handlers Celery sets up (clinic.scrub)."""
    add_filter_to_handlers(logger)
