from __future__ import annotations

from django.conf import settings

from staff.roles import FRONT_DESK, THERAPIST_GROUPS


def clinic(request):
    """Expose the clinic's name, phones and the user's role to every template."""
    user = getattr(request, "user", None)
    staff = bool(user is not None and user.is_authenticated and user.is_active)
    # One query for both roles, with staff.roles' rules (it asks once per role).
    groups = set(user.groups.values_list("name", flat=True)) if staff else set()
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_EMERGENCY_NUMBER": settings.CLINIC_EMERGENCY_NUMBER,
        "is_therapist": staff and (user.is_superuser or bool(groups & set(THERAPIST_GROUPS))),
        "is_front_desk": FRONT_DESK in groups,
        "DEBUG": settings.DEBUG,
    }
