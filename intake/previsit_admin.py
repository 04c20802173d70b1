"""The health form in the admin's visit list: its status column, the filter front desk uses
to call the clients of tomorrow's visits whose form is not completed, and send/resend.

Registered in IntakeConfig.ready() through intake.extensions, as screening and follow-up
add theirs. Front desk reads the status only: never the form's answers, never why a
therapist must review it.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.utils.html import escape

from intake import extensions, previsit
from intake.linkmodels import IntakeLink
from messaging.models import ANSWERABLE, LinkStatus

# What front desk reads for each status: the review's reason is the therapist's.
ADMIN_WORDS = {previsit.FormStatus.REVIEW: "completed, therapist to review"}


def _cell(visit) -> str:
    status = previsit.form_status(visit)
    return escape(ADMIN_WORDS.get(status, status))


@admin.action(description="Send or resend the health form link", permissions=["change"])
def send_health_form(modeladmin, request, queryset):
    sent = sum(previsit.resend_link(visit=visit) is not None for visit in queryset)
    skipped = queryset.count() - sent
    modeladmin.message_user(request, f"{sent} health form link(s) will be sent.", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(
            request,
            f"{skipped} visit(s) skipped: already completed, not ahead, or the client "
            "cannot be reached (opted out, no address).",
            messages.WARNING,
        )


class HealthFormFilter(admin.SimpleListFilter):
    title = "health form"
    parameter_name = "health_form"

    def lookups(self, request, model_admin):
        return [
            ("tomorrow_missing", "Tomorrow, not completed"),
            ("completed", "Completed"),
            ("locked", "Locked"),
        ]

    def queryset(self, request, queryset):
        links = IntakeLink.objects.filter(visit=OuterRef("pk"))
        if self.value() == "tomorrow_missing":
            return queryset.filter(pk__in=previsit.tomorrow_without_form().values("pk"))
        if self.value() == "completed":
            return queryset.filter(Exists(links.filter(status=LinkStatus.ANSWERED)))
        if self.value() == "locked":
            locked = links.filter(
                status__in=ANSWERABLE, token_hash__isnull=False, locked_at__isnull=False
            )
            return queryset.filter(Exists(locked))
        return queryset


def register() -> None:
    """Add the health form's column and admin action to intake's visit pages."""
    extensions.register(
        extensions.visit_columns,
        extensions.VisitColumn(
            name="health_form",
            description="Health form",
            annotate=previsit.with_form_status,
            render=_cell,
            places=("admin",),
        ),
    )
    extensions.register(extensions.visit_admin_actions, send_health_form)
