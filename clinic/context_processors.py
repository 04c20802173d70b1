from __future__ import annotations

from django.conf import settings

from staff.role_cache import group_names
from staff.roles import FRONT_DESK, THERAPIST_GROUPS


def clinic(request):
    """Expose the clinic's name, phones and the user's role to every template."""
    user = getattr(request, "user", None)
    staff = bool(user is not None and user.is_authenticated and user.is_active)
    # The groups read once for the request (staff.role_cache), with staff.roles' rules.
    groups = group_names(user) if staff else frozenset()
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_EMERGENCY_NUMBER": settings.CLINIC_EMERGENCY_NUMBER,
        "is_therapist": staff and (user.is_superuser or bool(groups & set(THERAPIST_GROUPS))),
        "is_front_desk": FRONT_DESK in groups,
        "DEBUG": settings.DEBUG,
    }
