"""View decorators for staff roles (the checks live in staff.roles)."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from staff.roles import is_therapist


def therapist_required(view):
    """Let therapists through; send anonymous users to log in and refuse everyone else."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_therapist(request.user):
            raise PermissionDenied("Only therapists may read health histories.")
        return view(request, *args, **kwargs)

    return wrapper
