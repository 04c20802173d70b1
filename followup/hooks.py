"""How follow-up plugs into the intake app's workflow, pages and admin (intake imports none).

Connected in FollowupConfig.ready(): completing a visit schedules its check-ins in the same
transaction; the visit page shows the check-ins, escalations and pain chart; the admin's
visit list shows the follow-up summary and gets the follow-up actions.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.dispatch import receiver
from django.utils.html import escape

from followup.escalations import mark_called as mark_visit_called
from followup.models import CheckIn, CheckInStatus
from followup.queries import followup_summary, with_followup_summary
from followup.scheduling import resend_checkins as resend
from followup.scheduling import resend_notice
from followup.scheduling import schedule_checkins as schedule
from intake import extensions, signals
from intake.models import Visit, VisitStatus


@receiver(signals.visit_completed, sender=Visit, dispatch_uid="followup-visit-completed")
def schedule_checkins(sender, visit: Visit, **kwargs) -> None:
    """Schedule the completed visit's check-ins (rows only: safe inside the request)."""
    schedule(visit=visit)


def _visit_section(request, visit: Visit) -> dict | None:
    if visit.status != VisitStatus.COMPLETED:
        return None
    return {
        "visit": visit,
        "checkins": visit.checkins.select_related("answer").order_by("due_at", "id"),
        "escalations": visit.escalations.order_by("opened_at", "id"),
    }


@admin.action(description="Mark the no-response call as made", permissions=["change"])
def mark_called(modeladmin, request, queryset):
    completed = queryset.filter(status=VisitStatus.COMPLETED)
    count = sum(mark_visit_called(visit=visit) for visit in completed)
    modeladmin.message_user(request, f"{count} visit(s) marked as called.", messages.SUCCESS)


@admin.action(description="Resend failed or expired check-ins", permissions=["change"])
def resend_checkins(modeladmin, request, queryset):
    # Only check-ins that did not reach the client: resending one not yet due would make it
    # due now.
    checkins = CheckIn.objects.filter(
        visit__in=queryset, status__in=[CheckInStatus.FAILED, CheckInStatus.EXPIRED]
    )
    count = resend(checkins)
    modeladmin.message_user(request, resend_notice(count), messages.SUCCESS)


def register() -> None:
    """Add follow-up's column, visit-page section and admin actions to intake's pages."""
    extensions.register(
        extensions.visit_columns,
        extensions.VisitColumn(
            name="followup",
            description="Follow-up",
            annotate=with_followup_summary,
            render=lambda visit: escape(followup_summary(visit)),
            places=("admin",),
        ),
    )
    extensions.register(
        extensions.visit_sections,
        extensions.Section("followup", 20, "followup/_visit_section.html", _visit_section),
    )
    extensions.register(extensions.visit_admin_actions, mark_called)
    extensions.register(extensions.visit_admin_actions, resend_checkins)
