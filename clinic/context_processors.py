from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from staff.role_cache import group_names
from staff.roles import FRONT_DESK, THERAPIST_GROUPS


def clinic(request):
    """Expose the clinic's name, phones and the user's role to every template."""
    user = getattr(request, "user", None)
    staff = bool(user is not None and user.is_authenticated and user.is_active)
    # The groups read once for the request (staff.role_cache), with staff.roles' rules.
    groups = group_names(user) if staff else frozenset()
    therapist = staff and (user.is_superuser or bool(groups & set(THERAPIST_GROUPS)))
    front_desk = FRONT_DESK in groups
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "CLINIC_EMERGENCY_NUMBER": settings.CLINIC_EMERGENCY_NUMBER,
        "is_therapist": therapist,
        "is_front_desk": front_desk,
        "STAFF_HOME": _staff_home(therapist=therapist, front_desk=front_desk),
        "DEBUG": settings.DEBUG,
    }


def _staff_home(*, therapist: bool, front_desk: bool) -> str | None:
    """Return the first staff page of the user's role (the admin's "View site" link)."""
    if therapist:
        return reverse("intake:today")
    if front_desk:
        return reverse("followup:escalation_queue")
    return None
