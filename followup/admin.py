"""Admin for follow-up: check-ins (resend, cancel), escalations and answers.

Front desk works here with contact and scheduling data only: staff.access declares what
each role sees (no answers, no escalation reasons or notes for front desk), and the base
classes of staff.admin apply it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from clinical import vocabulary
from followup.models import CheckIn, CheckInAnswer, Escalation, wait_after_visit
from followup.scheduling import (
    cancel_checkins,
    policy_hours_for,
    resend_checkins,
    resend_notice,
)
from followup.templatetags.followup_tags import checkin_name, reason_text
from staff.admin import RoleAccessAdmin

CHECKIN_FIELDS = (
    "visit",
    "which",
    "due_at",
    "channel_list",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_at",
    "sent_at",
    "expires_at",
    "last_error",
    "created_at",
)

CHANNEL_NAMES = {"email": "Email", "sms": "Text message"}


class CheckInFilter(admin.SimpleListFilter):
    """Check-ins by their place (1st, 2nd, 3rd), not by the policy's hour marks."""

    title = "check-in"
    parameter_name = "policy_hours__exact"

    def lookups(self, request, model_admin):
        offsets = range(len(settings.FOLLOWUP_OFFSETS))
        return [(str(hours), checkin_name(hours)) for hours in map(policy_hours_for, offsets)]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(policy_hours=int(self.value()))
        return queryset


class ChannelFilter(admin.SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return list(CHANNEL_NAMES.items())

    def queryset(self, request, queryset):
        if self.value() in ("email", "sms"):
            # channels is a JSON list; icontains on its text works on SQLite and PostgreSQL.
            return queryset.filter(channels__icontains=f'"{self.value()}"')
        return queryset


@admin.register(CheckIn)
class CheckInAdmin(RoleAccessAdmin):
    list_display = (
        "id",
        "client_name",
        "which",
        "due_at",
        "status",
        "channel_list",
        "attempts",
        "last_error",
    )
    list_filter = ("status", ChannelFilter, CheckInFilter)
    date_hierarchy = "due_at"
    search_fields = ("visit__client__first_name", "visit__client__last_name")
    # Clients are fetched for the page's rows only (see get_queryset), not joined: a join
    # made the database sort every check-in with its visit and client to find one page.
    list_select_related = ()
    # The token hash is never shown; everything else is read-only (use the actions).
    fields = CHECKIN_FIELDS
    readonly_fields = CHECKIN_FIELDS
    actions = ("resend_checkins", "cancel_followup")
    ordering = ("-due_at", "-id")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("visit__client")

    @admin.display(description="client", ordering="visit__client__last_name")
    def client_name(self, checkin: CheckIn) -> str:
        return checkin.visit.client.full_name

    @admin.display(description="check-in", ordering="policy_hours")
    def which(self, checkin: CheckIn) -> str:
        # Its real wait: a demo sends after minutes what a clinic sends after a day.
        return f"{checkin_name(checkin.policy_hours)}, {wait_after_visit(checkin.offset_seconds)}"

    @admin.display(description="channels")
    def channel_list(self, checkin: CheckIn) -> str:
        return ", ".join(CHANNEL_NAMES.get(channel, channel) for channel in checkin.channels)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Resend check-in (new link, due now)", permissions=["change"])
    def resend_checkins(self, request, queryset) -> None:
        count = resend_checkins(queryset)
        self.message_user(request, resend_notice(count))

    @admin.action(description="Cancel follow-up", permissions=["change"])
    def cancel_followup(self, request, queryset) -> None:
        count = cancel_checkins(queryset, reason="cancelled by staff")
        level = messages.SUCCESS if count else messages.WARNING
        self.message_user(request, f"{count} check-in(s) cancelled.", level)


@admin.register(CheckInAnswer)
class CheckInAnswerAdmin(RoleAccessAdmin):
    """Answers are health data: shown only with view_checkinanswer (therapists), read-only."""

    list_display = ("checkin", "client_name", "score", "pain", "radiating", "answered_at")
    list_select_related = ("checkin__visit__client",)
    search_fields = ("checkin__visit__client__first_name", "checkin__visit__client__last_name")
    date_hierarchy = "answered_at"
    fields = readonly_fields = ("checkin", "score", "pain", "radiating", "warning_signs", "note")

    @admin.display(description="kind of pain", ordering="character")
    def pain(self, answer: CheckInAnswer) -> str:
        return vocabulary.label("pain_character", answer.character)

    @admin.display(description="warning signs")
    def warning_signs(self, answer: CheckInAnswer) -> str:
        words = [vocabulary.label("followup_red_flag", code) for code in answer.red_flags]
        return ", ".join(words) or "none"

    @admin.display(description="client")
    def client_name(self, answer: CheckInAnswer) -> str:
        return answer.checkin.visit.client.full_name

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Escalation)
class EscalationAdmin(RoleAccessAdmin):
    list_display = (
        "id",
        "client_name",
        "level",
        "status",
        "opened_at",
        "notify_status",
        "notify_error",
    )
    list_filter = ("level", "status", "notify_status")
    date_hierarchy = "opened_at"
    search_fields = ("visit__client__first_name", "visit__client__last_name")
    list_select_related = ("visit__client",)
    # Read-only here: acknowledging and resolving happen in the queue, with who and when.
    fields = readonly_fields = (
        "visit",
        "level",
        "status",
        "reason_list",
        "checkin",
        "opened_at",
        "acknowledged_by",
        "acknowledged_at",
        "acknowledgement_note",
        "resolved_by",
        "resolved_at",
        "resolution_note",
        "notify_status",
        "notify_attempts",
        "notify_error",
        "notified_at",
        "notify_retry_at",
    )

    @admin.display(description="client", ordering="visit__client__last_name")
    def client_name(self, escalation: Escalation) -> str:
        return escalation.visit.client.full_name

    @admin.display(description="reasons")
    def reason_list(self, escalation: Escalation) -> str:
        # In words; the policy's rule codes stay in a tooltip for the technically minded.
        items = format_html_join(
            "",
            '<li title="rule {}">{}</li>',
            ((reason.get("rule", ""), reason_text(reason)) for reason in escalation.reasons),
        )
        return format_html('<ul class="reasons">{}</ul>', items) if items else "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
