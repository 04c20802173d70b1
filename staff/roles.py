"""Staff roles: the groups, their permissions, and the checks views use.

The groups are (re)created with their permissions after every `migrate` (a post_migrate
handler, see staff/apps.py), so a new role here needs no data migration. A user's groups are
read once per request and cached between requests until they change (staff.role_cache).
"""

from __future__ import annotations

from staff.role_cache import group_names

THERAPIST = "therapist"
FRONT_DESK = "front_desk"
# A therapist who also maintains the clinic's own vocabulary; for now a therapist's rights.
CLINICAL_LEAD = "clinical_lead"
ROLES = (THERAPIST, FRONT_DESK, CLINICAL_LEAD)
# The groups whose members work as therapists (read health histories, see clients).
THERAPIST_GROUPS = (THERAPIST, CLINICAL_LEAD)
# A superuser: the clinic's owner (users, settings, the read log). Not a group.
OWNER = "owner"

# What each staff group may do. Front desk gets contact and scheduling data only: nothing on
# intakes, screenings or answers, and not `view_health_history` (minimum necessary).
_THERAPIST_PERMISSIONS = [
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
]
GROUP_PERMISSIONS = {
    THERAPIST: _THERAPIST_PERMISSIONS,
    # A therapist who also maintains the clinic's vocabulary (terms mapped to catalogue rules).
    CLINICAL_LEAD: [
        *_THERAPIST_PERMISSIONS,
        "screening.add_vocabularyterm",
        "screening.change_vocabularyterm",
        "screening.activate_vocabularyterm",
    ],
    FRONT_DESK: [
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

    It runs after every `migrate` (post_migrate) and after the flush that ends a
    transactional test, so groups added here exist on the next `migrate`.
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


def _in_group(user, *names: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return not group_names(user).isdisjoint(names)


def is_therapist(user) -> bool:
    """Return whether the user may read health histories (therapists, clinical leads, owners)."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser) or _in_group(
        user, *THERAPIST_GROUPS
    )


def is_front_desk(user) -> bool:
    """Return whether the user works the front desk (contact and scheduling data only)."""
    return _in_group(user, FRONT_DESK)


def role_of(user) -> str | None:
    """Return the user's role for staff.access: owner, therapist, front desk, or None.

    A user in both groups gets the therapist's role (which includes the front desk's pages).
    """
    if not (user.is_authenticated and user.is_active):
        return None
    if user.is_superuser:
        return OWNER
    groups = group_names(user)
    if groups & set(THERAPIST_GROUPS):
        return THERAPIST
    if FRONT_DESK in groups:
        return FRONT_DESK
    return None


def is_clinical_lead(user) -> bool:
    """Return whether the user maintains the clinic vocabulary (clinical leads, superusers)."""
    return bool(user.is_authenticated and user.is_active and user.is_superuser) or _in_group(
        user, CLINICAL_LEAD
    )
