"""Staff roles. Groups are created by a data migration in the intake app."""

from __future__ import annotations

THERAPIST = "therapist"
FRONT_DESK = "front_desk"
CLINICAL_LEAD = "clinical_lead"

# What each staff group may do. Front desk gets contact and scheduling data only: nothing on
# intakes, screenings or answers, and not `view_health_history` (minimum necessary).
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
        "screening.view_vocabularyterm",
        "followup.view_checkin",
        "followup.change_checkin",
        "followup.view_checkinanswer",
        "followup.view_escalation",
        "followup.change_escalation",
    ],
    # A therapist who also maintains the clinic's vocabulary (terms mapped to catalogue rules).
    "clinical_lead": [
        "screening.view_vocabularyterm",
        "screening.add_vocabularyterm",
        "screening.change_vocabularyterm",
        "screening.activate_vocabularyterm",
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


def ensure_staff_groups(**kwargs) -> None:
    """Create the staff groups with their permissions if they are missing (idempotent).

    Migration intake 0002 creates them; this runs after every `migrate` and after the flush
    that ends a transactional test, which empties what data migrations created.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for name, dotted_names in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = [dotted.split(".") for dotted in dotted_names]
        permissions = Permission.objects.filter(content_type__app_label__in={a for a, _ in wanted})
        by_name = {
            (p.content_type.app_label, p.codename): p
            for p in permissions.select_related("content_type")
        }
        group.permissions.add(*(by_name[(a, c)] for a, c in wanted))


def _in_group(user, name: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.groups.filter(name=name).exists()


def is_therapist(user) -> bool:
    """Return whether the user may read health histories (therapists and superusers)."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser) or _in_group(
        user, THERAPIST
    )


def is_front_desk(user) -> bool:
    """Return whether the user works the front desk (contact and scheduling data only)."""
    return _in_group(user, FRONT_DESK)


def is_clinical_lead(user) -> bool:
    """Return whether the user maintains the clinic vocabulary (clinical leads, superusers)."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser) or _in_group(
        user, CLINICAL_LEAD
    )
