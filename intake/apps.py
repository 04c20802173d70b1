from django.apps import AppConfig


class IntakeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from clinic.roles import ensure_staff_groups

        post_migrate.connect(ensure_staff_groups, sender=self, dispatch_uid="staff-groups")
