from __future__ import annotations

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The wiring layer: commands that use every app (the demo) live here."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "clinic"
    verbose_name = "Clinic"
