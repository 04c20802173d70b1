from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        """Give the admin base (staff.admin) the read log for the health pages it shows."""
        from intake import audit
        from staff import admin as staff_admin

        staff_admin.read_recorder = audit.record_admin_reads
