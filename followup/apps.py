from __future__ import annotations

from django.apps import AppConfig


class FollowupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "followup"
    verbose_name = "Follow-up"

    def ready(self) -> None:
        """Register the follow-up tasks in every process, the check-in kind, the alerts' retry
        and the reminders with the tick, and connect follow-up's part of the visit workflow
        and pages.

        The tick and the answer that opens an escalation publish tasks by name (web requests,
        `sendmessages`, the beat's task), and Celery's own discovery runs in the worker only.
        """
        from followup import escalations, hooks, scheduling, sending, tasks  # noqa: F401
        from messaging import dispatch, kinds

        kinds.register(sending.CHECKINS)
        dispatch.register_step("therapist alerts", escalations.retry_alerts)
        dispatch.register_step("check-in reminders", scheduling.remind_unanswered)
        hooks.register()
