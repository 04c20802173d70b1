from __future__ import annotations

from django.apps import AppConfig


class StaffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        from django.apps import apps
        from django.db.models.signals import post_migrate

        from staff import role_cache
        from staff.roles import ensure_staff_groups

        role_cache.connect()

        # After migrate (and after the flush that ends a transactional test), so the groups
        # and their permissions always exist. Django sends post_migrate only for apps with
        # models, which staff has none of: listen for auth's.
        post_migrate.connect(
            ensure_staff_groups, sender=apps.get_app_config("auth"), dispatch_uid="staff-groups"
        )
