from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        """Give the admin base (staff.admin) the read log for the health pages it shows, and
        register the health form link with the tick (the `intake` kind of link message)."""
        from intake import audit, previsit, previsit_admin, previsit_kind
        from messaging import dispatch, kinds
        from staff import admin as staff_admin

        staff_admin.read_recorder = audit.record_admin_reads
        kinds.register(previsit_kind.INTAKE_LINKS)
        dispatch.register_step("health form drafts", previsit.clear_stale_drafts)
        previsit_admin.register()
