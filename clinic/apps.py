from __future__ import annotations

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The wiring layer above the other apps: periodic jobs and operator commands."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from clinic.history import cache_history_managers

        cache_history_managers()
