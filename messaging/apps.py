from __future__ import annotations

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        """Register the messaging tasks in every process.

        The tick publishes its send task by name (from web requests, `sendmessages` and the
        beat's task), and Celery's own discovery runs in the worker only.
        """
        from messaging import tasks  # noqa: F401 - registers the tasks
