"""Printable documents of a visit (therapists only, every read logged): the clearance-request
letter to the client's doctor, and the intake and screening summary for the client's record.

Both are pages with a print stylesheet (static/css/print.css): the browser's Print (or
"Save as PDF") gives a clean A4 or Letter page without the site's navigation.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from intake.audit import record_health_read
from intake.models import Visit
from screening import services
from screening.models import Decision
from staff.decorators import therapist_required

MAX_ADDRESS_CHARS = 200


def _visit(visit_id: int) -> Visit:
    return get_object_or_404(
        Visit.objects.select_related("client", "therapist", "intake"), pk=visit_id
    )


def clearance_rules(visit: Visit) -> list[dict]:
    """Return the rules of the visit's screening that need a doctor's clearance, each with
    its plain title, what the catalogue advises and its source quotes."""
    screening = visit.current_screening()
    if screening is None:
        return []
    catalogue = services.current_catalogue()
    rules = []
    for flag in services.restrictions(screening).flags:
        if flag.severity != Decision.CLEARANCE:
            continue
        rule = catalogue.find_rule(flag.code)
        rules.append(
            {
                "code": flag.code,
                "title": rule.title if rule else flag.title,
                "actions": rule.actions if rule else (),
                "quotes": [s.quote for s in rule.sources] if rule else [],
            }
        )
    return rules


@never_cache
@require_GET
@therapist_required
def clearance_letter(request, visit_id: int):
    """Show the letter asking the client's doctor to clear the planned massage, to print."""
    visit = _visit(visit_id)
    record_health_read(request, visit.client, "clearance letter")
    doctor = request.GET.get("doctor", "").strip()[:MAX_ADDRESS_CHARS]
    context = {
        "visit": visit,
        "client": visit.client,
        "doctor": doctor,
        "rules": clearance_rules(visit),
        "today": timezone.localdate(),
        "replies": visit.clearance_replies.select_related("recorded_by"),
    }
    return render(request, "screening/clearance_letter.html", context)


@never_cache
@require_GET
@therapist_required
def record_summary(request, visit_id: int):
    """Show the visit's intake and screening on one page for the client's record, to print."""
    visit = _visit(visit_id)
    record_health_read(request, visit.client, "intake and screening summary")
    screening = visit.current_screening()
    effective = services.restrictions(screening) if screening is not None else None
    context = {
        "visit": visit,
        "client": visit.client,
        "intake": visit.intake,
        "screening": screening,
        "effective": effective,
        "clearances": list(visit.client.clearances.all()),
        "today": timezone.localdate(),
    }
    return render(request, "screening/record_summary.html", context)
