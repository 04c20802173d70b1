from __future__ import annotations

from django.apps import AppConfig


def staff_name(user) -> str:
    """Return the user's full name, or their username when they have none."""
    return user.get_full_name() or user.get_username()


class StaffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        from django.apps import apps
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_migrate

        from staff import role_cache
        from staff.roles import ensure_staff_groups

        # A member of staff is shown by name wherever the admin or a page prints a user
        # (lists, filters, choices, read-only fields, change histories), not by login name.
        get_user_model().__str__ = staff_name
        role_cache.connect()

        # After migrate (and after the flush that ends a transactional test), so the groups
        # and their permissions always exist. Django sends post_migrate only for apps with
        # models, which staff has none of: listen for auth's.
        post_migrate.connect(
            ensure_staff_groups, sender=apps.get_app_config("auth"), dispatch_uid="staff-groups"
        )
