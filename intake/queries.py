"""Querysets shared by the therapist pages and the admin, built so lists stay at fixed queries."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from followup.models import CheckInStatus, EscalationStatus
from screening.models import Screening


def with_screening_decision(visits: QuerySet) -> QuerySet:
    """Annotate each visit with `screening_decision`: the latest stored Screening's decision."""
    latest = Screening.objects.filter(visit=OuterRef("pk")).order_by("-created_at", "-id")
    return visits.annotate(screening_decision=Subquery(latest.values("decision")[:1]))


def with_followup_summary(visits: QuerySet) -> QuerySet:
    """Annotate check-in counts by status and the number of unresolved escalations."""
    open_escalations = Q(
        escalations__status__in=[EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED]
    )
    return visits.annotate(
        checkins_total=Count("checkins", distinct=True),
        checkins_answered=Count(
            "checkins", filter=Q(checkins__status=CheckInStatus.ANSWERED), distinct=True
        ),
        checkins_failed=Count(
            "checkins", filter=Q(checkins__status=CheckInStatus.FAILED), distinct=True
        ),
        escalations_open=Count("escalations", filter=open_escalations, distinct=True),
    )


def followup_summary(visit) -> str:
    """Return a short follow-up status for a visit annotated by with_followup_summary."""
    if not visit.checkins_total:
        return "—"
    parts = [f"{visit.checkins_answered}/{visit.checkins_total} answered"]
    if visit.checkins_failed:
        parts.append(f"{visit.checkins_failed} failed")
    if visit.escalations_open:
        parts.append("escalation open")
    return " · ".join(parts)
