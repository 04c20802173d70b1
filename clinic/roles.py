"""Staff roles. Groups are created by a data migration in the intake app."""

from __future__ import annotations

THERAPIST = "therapist"
FRONT_DESK = "front_desk"


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
