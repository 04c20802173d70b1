"""How screening plugs into the intake app's workflow and pages (intake imports none of this).

Connected in ScreeningConfig.ready(): a visit booked or changed is screened in the same
transaction, a completion is refused for the screening's reasons, and visit lists, the visit
page, the client page and the intake page show what screening knows.
"""

from __future__ import annotations

from django.dispatch import receiver
from django.template.loader import render_to_string

from clinical.intake import IntakeError
from intake import extensions, signals
from intake.models import Visit
from screening import services
from screening.queries import with_screening_decision


@receiver(signals.visit_changed, sender=Visit, dispatch_uid="screening-visit-changed")
def screen_changed_visit(sender, visit: Visit, **kwargs) -> list[str]:
    """Screen a booked or changed visit; return why its intake cannot be screened, if so.

    E.g. a visit booked so long before a pregnancy's due date that the intake no longer
    fits it. The visit keeps its booking and stays unscreened (it cannot be completed
    until a new intake is recorded): refusing the booking would tell whoever booked it
    something of the client's health history.
    """
    try:
        services.screen_visit(visit=visit)
    except IntakeError as exc:
        # Not logged either: a log line only for such visits would say something too.
        return [f"The intake cannot be screened for this plan: {exc}"]
    return []


@receiver(signals.visit_completing, sender=Visit, dispatch_uid="screening-visit-completing")
def completion_problems(sender, visit: Visit, modality: str, **kwargs) -> list[str]:
    """Return why the screening does not allow completing the visit with `modality`."""
    return services.completion_problems(visit=visit, modality=modality)


def _decision_cell(visit) -> str:
    return render_to_string(
        "intake/_decision_badge_cell.html", {"decision": visit.screening_decision}
    )


def _visit_section(request, visit: Visit) -> dict:
    screening = visit.current_screening()
    effective = services.restrictions(screening) if screening is not None else None
    return {"visit": visit, "screening": screening, "effective": effective}


def _client_section(request, client) -> dict:
    return {"client": client}


def _intake_section(request, intake) -> dict | None:
    unknown = services.unrecognised_conditions(intake)
    return {"unknown": unknown} if unknown else None


def register() -> None:
    """Add screening's column and page sections to intake's pages (intake.extensions)."""
    extensions.register(
        extensions.visit_columns,
        extensions.VisitColumn(
            name="decision",
            description="Screening",
            annotate=with_screening_decision,
            render=_decision_cell,
            ordering="screening_decision",
        ),
    )
    extensions.register(
        extensions.visit_sections,
        extensions.Section("screening", 10, "screening/_visit_section.html", _visit_section),
    )
    extensions.register(
        extensions.client_sections,
        extensions.Section("clearances", 10, "screening/_client_clearances.html", _client_section),
    )
    extensions.register(
        extensions.intake_sections,
        extensions.Section("unrecognised", 10, "screening/_intake_section.html", _intake_section),
    )
