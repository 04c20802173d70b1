"""Querysets of screening facts for visit lists, at a fixed number of queries per page."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from screening.models import Screening


def with_screening_decision(visits: QuerySet) -> QuerySet:
    """Annotate each visit with `screening_decision`: its latest screening's decision now.

    That is the stored `effective_decision` (the engine's decision with the therapist's
    dismissals applied, kept up to date by the screening services), so every list shows what
    the screening report shows.
    """
    latest = Screening.objects.filter(visit=OuterRef("pk")).order_by("-created_at", "-id")
    return visits.annotate(screening_decision=Subquery(latest.values("effective_decision")[:1]))
