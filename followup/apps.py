from __future__ import annotations

from django.apps import AppConfig


class FollowupConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "followup"
    verbose_name = "Follow-up"

    def ready(self) -> None:
        """Connect follow-up's part of the visit workflow and pages."""
        from followup import hooks

        hooks.register()
