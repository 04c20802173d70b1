from __future__ import annotations

from django.conf import settings


def clinic(request):
    """Expose the clinic's name and phone, and the user's role, to every template."""
    user = getattr(request, "user", None)
    groups = set()
    if user is not None and user.is_authenticated:
        groups = {g.name for g in user.groups.all()}
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "is_therapist": user is not None
        and user.is_authenticated
        and ("therapist" in groups or user.is_superuser),
        "is_front_desk": "front_desk" in groups,
        "DEBUG": settings.DEBUG,
    }
