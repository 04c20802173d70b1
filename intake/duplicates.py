"""Duplicate clients: finding a record that is probably the same person, and merging two.

A duplicate is a client with the same name (ignoring case and accents) and date of birth, or
the same email address, or the same phone number. Creating one warns and links to the
existing record; the admin's merge action moves everything of one record onto the other.
"""

from __future__ import annotations

import datetime as dt
import logging

from django import forms
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils.html import format_html, format_html_join
from simple_history.models import HistoricalChanges
from simple_history.utils import update_change_reason

from intake.models import Client, Visit

logger = logging.getLogger(__name__)


def possible_duplicates(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date | None,
    email: str = "",
    phone=None,
    exclude: Client | None = None,
) -> QuerySet[Client]:
    """Return existing clients that are probably the person about to be recorded."""
    same = Q(pk__in=[])
    if first_name and last_name and date_of_birth:
        same |= Q(
            first_name__iexact=first_name.strip(),
            last_name__iexact=last_name.strip(),
            date_of_birth=date_of_birth,
        )
    if email:
        same |= Q(email__iexact=email.strip())
    if phone:
        same |= Q(phone=phone)
    clients = Client.objects.filter(same)
    if exclude is not None and exclude.pk is not None:
        clients = clients.exclude(pk=exclude.pk)
    return clients.order_by("created_at", "id")


@transaction.atomic
def clients_merge(*, keep: Client, duplicate: Client, by) -> dict[str, int]:
    """Move every record of `duplicate` (intakes, visits with their check-ins, clearances,
    the read log...) onto `keep`, then delete `duplicate`; return how many rows each kind moved.

    Every relation pointing at a client is followed, so records of apps above intake move
    too without intake knowing them. Visits are saved one by one so their change history
    records the move; the duplicate's own history stays, ending with its deletion.
    """
    if keep.pk == duplicate.pk:
        raise ValueError("a client cannot be merged into itself")
    # Both rows locked, in id order so two merges never wait on each other in a circle.
    both = Client.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk])
    if len(both.order_by("pk")) != 2:
        raise ValueError("one of the two clients no longer exists")
    moved: dict[str, int] = {}
    for relation in Client._meta.get_fields(include_hidden=True):
        if (
            not isinstance(relation, models.ManyToOneRel)
            or relation.related_model is Visit
            # Change history stays as it was written (it names the record it describes).
            or issubclass(relation.related_model, HistoricalChanges)
        ):
            continue
        rows = relation.related_model._base_manager.filter(**{relation.field.name: duplicate})
        count = rows.update(**{relation.field.name: keep})
        if count:
            moved[str(relation.related_model._meta.verbose_name_plural)] = count
    visits = list(Visit.objects.filter(client=duplicate))
    for visit in visits:
        visit.client = keep
        visit._history_user = by
        visit._change_reason = f"Moved from a duplicate client record (#{duplicate.pk})"
        visit.save(update_fields=["client", "updated_at"])
    if visits:
        moved["visits"] = len(visits)
    _fill_missing_contact(keep, duplicate)
    keep._history_user = by
    keep.save()
    update_change_reason(keep, f"Merged client #{duplicate.pk} ({duplicate}) into this record")
    duplicate._history_user = by
    duplicate._change_reason = f"Merged into client #{keep.pk}"
    duplicate.delete()
    logger.info("client %s merged into client %s", duplicate.pk, keep.pk)
    return moved


def _fill_missing_contact(keep: Client, duplicate: Client) -> None:
    # The kept record's contact data wins; an address only the duplicate had is kept.
    if not keep.email and duplicate.email:
        keep.email = duplicate.email
    if not keep.phone and duplicate.phone:
        keep.phone = duplicate.phone


def different_person_field() -> forms.BooleanField:
    """Return the tick that records a new client despite a possible duplicate."""
    return forms.BooleanField(
        required=False, label="This is a different person: record them anyway"
    )


class DuplicateWarningMixin:
    """Warn, with a link to each, when a new client looks like one already on record; a
    tick on `different_person` records them anyway. `duplicate_url(client)` gives the link."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self._adding():
            self.fields.pop("different_person", None)
        elif "different_person" not in self.fields:
            self.fields["different_person"] = different_person_field()

    def _adding(self) -> bool:
        instance = getattr(self, "instance", None)
        return instance is None or instance.pk is None

    def duplicate_url(self, client: Client) -> str:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if not self._adding():
            return cleaned
        found = list(
            possible_duplicates(
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                date_of_birth=cleaned.get("date_of_birth"),
                email=cleaned.get("email", ""),
                phone=cleaned.get("phone"),
            )[:5]
        )
        if found and not cleaned.get("different_person"):
            links = format_html_join(
                ", ",
                '<a href="{}">{} (born {})</a>',
                ((self.duplicate_url(c), c.full_name, c.date_of_birth.isoformat()) for c in found),
            )
            self.add_error(
                None,
                format_html(
                    "This may be a client already on record: {}. Open that record, or tick "
                    "“different person” to record a new one.",
                    links,
                ),
            )
        return cleaned
