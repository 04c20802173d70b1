from __future__ import annotations

from django.apps import AppConfig


class StaffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from staff.roles import ensure_staff_groups

        # After every app's migrations (and after the flush that ends a transactional test),
        # so the groups and their permissions always exist.
        post_migrate.connect(ensure_staff_groups, sender=self, dispatch_uid="staff-groups")
