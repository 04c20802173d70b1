from __future__ import annotations

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        """Register the catalogue system check and screening's part of the intake pages."""
        from screening import checks, hooks, previsit, tasks  # noqa: F401 - receivers, check, tasks

        hooks.register(self)
