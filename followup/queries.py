"""Querysets of follow-up facts for visit lists, at a fixed number of queries per page."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from followup.models import CheckIn, CheckInStatus, Escalation, EscalationStatus


def with_followup_summary(visits: QuerySet) -> QuerySet:
    """Annotate check-in counts by status and the number of unresolved escalations.

    Each count is a correlated subquery, so the database works them out only for the rows
    fetched (a page of the admin) and a paginator's COUNT(*) leaves them out; counting over
    joins of every visit's check-ins and escalations took most of the admin list's time.
    """
    checkins = CheckIn.objects.filter(visit=OuterRef("pk"))
    escalations = Escalation.objects.filter(visit=OuterRef("pk"))
    unresolved = Q(status__in=[EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED])
    return visits.annotate(
        checkins_total=_count(checkins),
        checkins_answered=_count(checkins, Q(status=CheckInStatus.ANSWERED)),
        checkins_failed=_count(checkins, Q(status=CheckInStatus.FAILED)),
        escalations_open=_count(escalations, unresolved),
    )


def _count(rows: QuerySet, condition: Q | None = None) -> Coalesce:
    # One visit's rows found by its index, counted with a FILTER: a status in the WHERE
    # tempts the planner into combining indexes over every visit's rows.
    counted = rows.order_by().values("visit").annotate(n=Count("pk", filter=condition))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


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
