"""Create the staff groups `therapist` and `front_desk` with their permissions.

Front desk gets contact and scheduling data only: no permission on Intake, screenings or
answers, and not `view_health_history` (SPEC section 1, minimum necessary).
"""

from django.db import migrations

# A frozen copy of the staff roles (GROUP_PERMISSIONS) as it was when this migration was written
# (migrations must not change with the code); later changes are applied by post_migrate.
GROUP_PERMISSIONS = {
    "therapist": [
        "intake.view_client",
        "intake.add_client",
        "intake.change_client",
        "intake.view_health_history",
        "intake.view_intake",
        "intake.add_intake",
        "intake.view_visit",
        "intake.add_visit",
        "intake.change_visit",
        "screening.view_screening",
        "screening.add_screening",
        "screening.change_screening",
        "screening.view_screeningflag",
        "screening.change_screeningflag",
        "screening.view_clearance",
        "screening.add_clearance",
        "followup.view_checkin",
        "followup.change_checkin",
        "followup.view_checkinanswer",
        "followup.view_escalation",
        "followup.change_escalation",
    ],
    "front_desk": [
        "intake.view_client",
        "intake.add_client",
        "intake.change_client",
        "intake.view_visit",
        "intake.add_visit",
        "intake.change_visit",
        "followup.view_checkin",
        "followup.change_checkin",
        "followup.view_escalation",
        "followup.change_escalation",
    ],
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after `migrate` finishes; create them now so the
    # groups can be given theirs in the same run.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("intake", "0001_initial"),
        ("screening", "0001_initial"),
        ("followup", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
