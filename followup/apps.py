from __future__ import annotations

from django.apps import AppConfig


class FollowupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "followup"
    verbose_name = "Follow-up"

    def ready(self) -> None:
        """Register the follow-up tasks in every process and connect follow-up's part of the
        visit workflow and pages.

        The tick and the answer that opens an escalation publish tasks by name (web requests,
        `sendfollowups`, the beat's task), and Celery's own discovery runs in the worker only.
        """
        from followup import hooks, tasks  # noqa: F401 - registers the tasks

        hooks.register()
