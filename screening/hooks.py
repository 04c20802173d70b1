"""How screening plugs into the intake app's workflow and pages (intake imports none of this).

Connected in ScreeningConfig.ready(): a visit booked or changed is screened in the same
transaction, a completion is refused for the screening's reasons, and visit lists, the visit
page, the client page and the intake page show what screening knows.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from clinical.intake import IntakeError
from intake import extensions, previsit, signals
from intake.models import Visit
from screening import previsit as form_review
from screening import services
from screening.models import Decision, VocabularyTerm
from screening.queries import with_screening_decision


@receiver(signals.visit_changed, sender=Visit, dispatch_uid="screening-visit-changed")
def screen_changed_visit(sender, visit: Visit, new_intake: bool = False, **kwargs) -> list[str]:
    """Screen a booked or changed visit; return why its intake cannot be screened, if so.

    E.g. a visit booked so long before a pregnancy's due date that the intake no longer
    fits it. The visit keeps its booking and stays unscreened (it cannot be completed
    until a new intake is recorded): refusing the booking would tell whoever booked it
    something of the client's health history.
    """
    try:
        # The sender's transaction holds the visit's row (intake.signals.visit_changed).
        services.screen_visit(visit=visit, locked=True, new_intake=new_intake)
    except IntakeError as exc:
        # Not logged either: a log line only for such visits would say something too.
        return [f"The intake cannot be screened for this plan: {exc}"]
    return []


@receiver(signals.visit_completing, sender=Visit, dispatch_uid="screening-visit-completing")
def completion_problems(sender, visit: Visit, modality: str, **kwargs) -> list[str]:
    """Return why the screening does not allow completing the visit with `modality`."""
    return services.completion_problems(visit=visit, modality=modality)


@receiver(post_save, sender=VocabularyTerm, dispatch_uid="screening-vocabulary-saved")
@receiver(post_delete, sender=VocabularyTerm, dispatch_uid="screening-vocabulary-deleted")
def rescreen_after_vocabulary_change(sender, instance: VocabularyTerm, **kwargs) -> None:
    """Re-screen scheduled visits once the change to the clinic vocabulary is committed.

    A proposed term changes nothing until it is active, so saving one re-screens nothing
    (rescreen_scheduled skips every visit whose screening is still current).
    """
    transaction.on_commit(services.rescreen_scheduled)


def rescreen_after_migrate(sender, using=None, **kwargs) -> None:
    """Re-screen scheduled visits after `migrate`: a new catalogue or a switched tier.

    Deploys and restarts run `migrate` (docker-compose's web service, `make run`), so a new
    catalogue version or SCREENING_SUPPLEMENTARY switched re-screens what is booked.
    """
    from django.db import connections

    if "screening_screening" not in connections[using or "default"].introspection.table_names():
        return
    services.rescreen_scheduled()


def _decision_cell(visit) -> str:
    return render_to_string(
        "intake/_decision_badge_cell.html", {"decision": visit.screening_decision}
    )


def _clearance_letter_cell(visit) -> str:
    """Link the clearance-request letter of a visit whose screening needs a clearance."""
    if visit.screening_decision != Decision.CLEARANCE:
        return "—"
    return format_html(
        '<a href="{}">Needs one: print the letter</a>',
        reverse("screening:clearance_letter", args=[visit.pk]),
    )


def _visit_section(request, visit: Visit) -> dict:
    screening = visit.current_screening()
    effective = services.restrictions(screening) if screening is not None else None
    return {"visit": visit, "screening": screening, "effective": effective}


def _completion_limits(visit: Visit) -> extensions.CompletionLimits:
    screening = visit.current_screening()
    if screening is None:
        return extensions.CompletionLimits()
    effective = services.restrictions(screening)
    return extensions.CompletionLimits(
        blocked_modalities=frozenset(effective.blocked_modalities),
        refused=effective.decision == Decision.CONTRAINDICATED,
    )


def _client_section(request, client) -> dict:
    return {"client": client}


def _intake_section(request, intake) -> dict | None:
    unknown = services.unrecognised_conditions(intake)
    return {"unknown": unknown} if unknown else None


def _review_cell(visit) -> str:
    if previsit.form_status(visit) != previsit.FormStatus.REVIEW:
        return ""
    return render_to_string("screening/_form_review_badge.html")


def _form_section(request, visit: Visit) -> dict | None:
    link = visit.intake_links.filter(status="answered").order_by("-submitted_at").first()
    if link is None:
        return None
    return {"visit": visit, "link": link, "intake": link.intake}


def register(app_config=None) -> None:
    """Add screening's column and page sections to intake's pages (intake.extensions)."""
    if app_config is not None:
        post_migrate.connect(
            rescreen_after_migrate, sender=app_config, dispatch_uid="screening-rescreen-migrate"
        )
    extensions.register(
        extensions.visit_columns,
        extensions.VisitColumn(
            name="decision",
            description="Screening",
            annotate=with_screening_decision,
            render=_decision_cell,
            ordering="screening_decision",
            places=("admin", "lists", "week"),
        ),
    )
    extensions.register(
        extensions.visit_columns,
        extensions.VisitColumn(
            name="clearance_letter",
            description="Clearance letter",
            # The decision column's annotation (also in the week list) is all it needs.
            annotate=lambda visits: visits,
            render=_clearance_letter_cell,
            places=("week",),
        ),
    )
    extensions.register(
        extensions.visit_columns,
        extensions.VisitColumn(
            name="form_review",
            description="Health form",
            annotate=previsit.with_form_status,
            render=_review_cell,
            # Also in the week list: who has not completed their form before their visit.
            places=("lists", "week"),
        ),
    )
    extensions.register(
        extensions.visit_sections,
        extensions.Section("screening", 10, "screening/_visit_section.html", _visit_section),
    )
    extensions.register(extensions.completion_limits, _completion_limits)
    extensions.register(
        extensions.visit_sections,
        extensions.Section("health_form", 5, "screening/_form_review_section.html", _form_section),
    )
    from messaging import dispatch

    dispatch.register_step("health form alerts", form_review.retry_alerts)
    extensions.register(
        extensions.client_sections,
        extensions.Section("clearances", 10, "screening/_client_clearances.html", _client_section),
    )
    extensions.register(
        extensions.intake_sections,
        extensions.Section("unrecognised", 10, "screening/_intake_section.html", _intake_section),
    )
