"""Record reads of a client's health history (who, when, which client, what, where)."""

from __future__ import annotations

from django.http import HttpRequest

from intake.models import Client, HealthRecordAccess

WHAT_MAX = HealthRecordAccess._meta.get_field("what").max_length
PATH_MAX = HealthRecordAccess._meta.get_field("path").max_length


def record_health_read(request: HttpRequest, client: Client, what: str) -> HealthRecordAccess:
    """Store one HealthRecordAccess row for the request's user reading `client`'s history."""
    # The path without its query string: search terms may hold names, and the row must
    # say which page was read, not what was typed.
    return HealthRecordAccess.objects.create(
        user=request.user,
        client=client,
        what=what[:WHAT_MAX],
        path=request.path[:PATH_MAX],
    )
