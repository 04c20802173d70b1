from __future__ import annotations

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        """Register the catalogue system check."""
        from screening import checks  # noqa: F401 - registers the check
