"""Record reads of a client's health history (who, when, which client, what, where)."""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest

from intake.models import Client, HealthRecordAccess
from staff.access import CLIENT_PATHS

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


def record_health_reads(request: HttpRequest, client_ids, what: str) -> int:
    """Store one row per distinct client a page showed (a list shows several); return how many."""
    rows = [
        HealthRecordAccess(
            user=request.user,
            client_id=client_id,
            what=what[:WHAT_MAX],
            path=request.path[:PATH_MAX],
        )
        for client_id in dict.fromkeys(client_ids)
        if client_id is not None
    ]
    HealthRecordAccess.objects.bulk_create(rows)
    return len(rows)


def record_admin_reads(request: HttpRequest, label: str, objects: list, page: str) -> None:
    """Log an admin page's read of `objects` of model `label` (staff.admin's recorder)."""
    if not objects:
        return
    model = apps.get_model(label)
    path = CLIENT_PATHS[label]
    client_ids = (
        model._default_manager.filter(pk__in=[obj.pk for obj in objects])
        .order_by()
        .values_list(path, flat=True)
    )
    record_health_reads(request, list(client_ids), f"{page}: {model._meta.verbose_name}")
