"""The front-desk admin: contact and scheduling data, never the health history.

Who sees what is decided per user from permissions: front desk lacks
`intake.view_health_history`, so health fields are left out of their forms and lists, and
the Intake admin refuses them outright.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin

from intake import services
from intake.forms import CatalogueChoiceField, therapist_queryset
from intake.models import Client, HealthRecordAccess, Intake, Visit, VisitStatus
from intake.queries import followup_summary, with_followup_summary, with_screening_decision
from screening.catalogue import get_catalogue
from screening.models import Decision

HEALTH_PERMISSION = "intake.view_health_history"
# Visit fields that reveal health information: the intake it was screened on, the pain the
# client came with, the body areas worked on, and why it was deferred (often clinical).
VISIT_HEALTH_FIELDS = ("intake", "baseline_pain", "focus_regions", "status_reason")
VISIT_FIELDS = (
    "client",
    "therapist",
    "scheduled_at",
    "planned_modality",
    "focus_regions",
    "status",
    "status_reason",
    "intake",
    "performed_modality",
    "completed_at",
    "completed_by",
    "baseline_pain",
    "followup_called_at",
)
# Status moves go through the services (screening and follow-up must run), never a select.
VISIT_READONLY = (
    "status",
    "status_reason",
    "intake",
    "performed_modality",
    "completed_at",
    "completed_by",
    "baseline_pain",
    "followup_called_at",
)


def _sees_health(request) -> bool:
    return request.user.has_perm(HEALTH_PERMISSION)


class PlainActionCheckbox:
    """Write each row's action checkbox as plain HTML, the same markup Django's widget makes.

    Django renders it through a form-widget template per row, a quarter of a 100-row list.
    """

    def action_checkbox(self, obj):
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )


@admin.register(Client)
class ClientAdmin(PlainActionCheckbox, SimpleHistoryAdmin):
    list_display = (
        "last_name",
        "first_name",
        "date_of_birth",
        "email",
        "phone",
        "preferred_channel",
        "followup_consent",
        "opted_out_at",
    )
    list_display_links = ("last_name", "first_name")
    list_filter = (
        "preferred_channel",
        "followup_consent",
        ("opted_out_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("first_name", "last_name", "email", "phone")
    date_hierarchy = "created_at"
    fields = (
        ("first_name", "last_name"),
        "date_of_birth",
        ("email", "phone"),
        "preferred_channel",
        ("followup_consent", "followup_consent_at"),
        "opted_out_at",
    )
    readonly_fields = ("followup_consent_at",)

    def save_model(self, request, obj, form, change):
        # Consent needs its moment on record (and the database insists).
        if obj.followup_consent and obj.followup_consent_at is None:
            obj.followup_consent_at = timezone.now()
        if not obj.followup_consent:
            obj.followup_consent_at = None
        super().save_model(request, obj, form, change)


class VisitAdminForm(forms.ModelForm):
    planned_modality = CatalogueChoiceField()

    class Meta:
        model = Visit
        fields = VISIT_FIELDS

    def clean_focus_regions(self):
        cat = get_catalogue()
        regions = self.cleaned_data.get("focus_regions") or []
        if not isinstance(regions, list):
            raise forms.ValidationError('Give a list of regions, e.g. ["neck", "lumbar"].')
        codes = []
        for name in regions:
            code = cat.normalise_region(name) if isinstance(name, str) else None
            if code is None:
                raise forms.ValidationError(f"Unknown region {name!r}.")
            codes.append(code)
        return list(dict.fromkeys(codes))


@admin.register(Visit)
class VisitAdmin(PlainActionCheckbox, admin.ModelAdmin):
    form = VisitAdminForm
    list_display = (
        "scheduled_at",
        "client",
        "therapist",
        "planned_modality",
        "status",
        "decision",
        "followup",
    )
    list_select_related = ("client", "therapist")
    list_filter = ("status", ("therapist", admin.RelatedOnlyFieldListFilter), "planned_modality")
    search_fields = ("client__first_name", "client__last_name", "client__email", "client__phone")
    date_hierarchy = "scheduled_at"
    autocomplete_fields = ("client",)
    actions = ("mark_called", "resend_checkins")

    def get_queryset(self, request):
        return with_followup_summary(with_screening_decision(super().get_queryset(request)))

    def get_fields(self, request, obj=None):
        if _sees_health(request):
            return VISIT_FIELDS
        return tuple(f for f in VISIT_FIELDS if f not in VISIT_HEALTH_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        fields = VISIT_READONLY
        if not _sees_health(request):
            fields = tuple(f for f in fields if f not in VISIT_HEALTH_FIELDS)
        return fields

    def get_exclude(self, request, obj=None):
        return () if _sees_health(request) else VISIT_HEALTH_FIELDS

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "therapist":
            kwargs["queryset"] = therapist_queryset()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Screening", ordering="screening_decision")
    def decision(self, visit):
        # The decision level only: flags and what matched are health details.
        return Decision(visit.screening_decision).label if visit.screening_decision else "—"

    @admin.display(description="Follow-up")
    def followup(self, visit):
        return followup_summary(visit)

    @admin.action(description="Mark the no-response call as made", permissions=["change"])
    def mark_called(self, request, queryset):
        from followup.escalations import mark_called

        completed = queryset.filter(status=VisitStatus.COMPLETED)
        count = sum(mark_called(visit=visit) for visit in completed)
        self.message_user(request, f"{count} visit(s) marked as called.", messages.SUCCESS)

    @admin.action(description="Resend failed or expired check-ins", permissions=["change"])
    def resend_checkins(self, request, queryset):
        from followup.models import CheckIn, CheckInStatus
        from followup.scheduling import resend_checkins

        # Only check-ins that did not reach the client: resending one not yet due would
        # make it due now.
        checkins = CheckIn.objects.filter(
            visit__in=queryset, status__in=[CheckInStatus.FAILED, CheckInStatus.EXPIRED]
        )
        count = resend_checkins(checkins)
        self.message_user(request, f"{count} check-in(s) will be sent again.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        # Through the services, so the visit is (re-)screened like one booked by a therapist.
        plan = {
            "scheduled_at": obj.scheduled_at,
            "planned_modality": obj.planned_modality,
            "focus_regions": list(obj.focus_regions or []),
            "by": request.user,
        }
        if change:
            services.visit_change_plan(visit=obj, therapist=obj.therapist, **plan)
        else:
            saved = services.visit_schedule(client=obj.client, therapist=obj.therapist, **plan)
            obj.pk = saved.pk
            obj.intake_id = saved.intake_id

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != VisitStatus.SCHEDULED:
            # A completed, deferred or cancelled visit is history: look, do not edit.
            return False
        return super().has_change_permission(request, obj)


@admin.register(Intake)
class IntakeAdmin(admin.ModelAdmin):
    """Read-only health histories for users allowed to read them; everyone else gets 403."""

    list_display = ("client", "created_at", "visit_date", "planned_modality", "entered_by")
    list_select_related = ("client", "entered_by")
    search_fields = ("client__first_name", "client__last_name")
    date_hierarchy = "created_at"

    def has_module_permission(self, request):
        return _sees_health(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _sees_health(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        # Intakes are recorded on the therapist's intake form (consent and signature).
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HealthRecordAccess)
class HealthRecordAccessAdmin(admin.ModelAdmin):
    """The audit log of health-history reads: superusers only, read-only."""

    list_display = ("at", "user", "client", "what", "path")
    list_select_related = ("user", "client")
    list_filter = ("what",)
    search_fields = ("user__username", "client__first_name", "client__last_name")
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
