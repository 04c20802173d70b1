"""The clinic's admin for clients, visits, intakes and the read log.

Who sees which fields, columns, filters, searches and actions is declared once per role
in staff.access and applied by staff.admin's base classes: front desk never gets a health
field, and a query-string lookup that is not declared is refused.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from clinical import vocabulary
from intake import extensions, services
from intake.client_forms import CONSENT_SOURCES, ConsentSourceMixin
from intake.duplicates import DuplicateWarningMixin, clients_merge, different_person_field
from intake.forms import CatalogueChoiceField, RegionsField
from intake.models import (
    Client,
    ConsentText,
    HealthRecordAccess,
    Intake,
    Visit,
    VisitStatus,
)
from intake.phones import PhoneSearchMixin, RegionalPhoneMixin
from intake.previsit_admin import HealthFormFilter
from intake.visit_forms import ConsentForm, scheduling_errors, therapist_queryset
from staff.admin import RoleAccessAdmin, RoleAccessHistoryAdmin

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
CONSENT_READONLY = (
    "followup_consent",
    "followup_consent_at",
    "followup_consent_source",
    "followup_consent_by",
    "opted_out_at",
)


# A visit that can no longer be changed shows its plan read-only: in words, not codes.
VISIT_WORDS = {
    "planned_modality": "modality",
    "focus_regions": "regions",
    "performed_modality": "performed",
}


def _regions(codes) -> str:
    return ", ".join(vocabulary.label("region", code) for code in codes or ()) or "—"


class ModalityFilter(admin.SimpleListFilter):
    """The planned modality, chosen by its name (the parameter is the field's own lookup)."""

    title = "planned modality"
    parameter_name = "planned_modality__exact"

    def lookups(self, request, model_admin):
        return [(m.code, m.label) for m in vocabulary.MODALITIES]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(planned_modality=self.value())
        return queryset


def _admin_column(column: extensions.VisitColumn):
    @admin.display(description=column.description, ordering=column.ordering)
    def cell(visit):
        return mark_safe(column.render(visit))  # noqa: S308 - the column escapes its content

    cell.__name__ = column.name
    return cell


class ClientAdminForm(
    DuplicateWarningMixin, RegionalPhoneMixin, ConsentSourceMixin, forms.ModelForm
):
    followup_consent_source = forms.ChoiceField(
        label="Consent given", choices=[("", "—"), *CONSENT_SOURCES], required=False
    )
    different_person = different_person_field()

    class Meta:
        model = Client
        fields = (
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_channel",
            "followup_consent",
            "followup_consent_source",
        )

    def duplicate_url(self, client: Client) -> str:
        return reverse("admin:intake_client_change", args=[client.pk])


@admin.register(Client)
class ClientAdmin(PhoneSearchMixin, RoleAccessHistoryAdmin):
    form = ClientAdminForm
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
        ("followup_consent", "followup_consent_source"),
        ("followup_consent_at", "followup_consent_by"),
        "opted_out_at",
        "consent_link",
        "different_person",
    )
    actions = ("merge_clients",)

    def get_readonly_fields(self, request, obj=None):
        # Consent is recorded with its source on its own page, never ticked on the record;
        # an opt-out is the client's, so no date field edits it away.
        fields = ("followup_consent_at", "followup_consent_by", "opted_out_at")
        if obj is not None:
            fields = (*CONSENT_READONLY, "consent_link")
        return self._allowed(request, "fields", fields)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None:
            fields = [f for f in fields if f not in ("consent_link", "opted_out_at")]
        else:
            fields = [f for f in fields if f != "different_person"]
        return fields

    @admin.display(description="follow-up consent")
    def consent_link(self, obj: Client) -> str:
        url = reverse("admin:intake_client_consent", args=[obj.pk])
        return format_html('<a href="{}">Record the client\'s consent or its withdrawal</a>', url)

    def get_urls(self):
        consent = self.admin_site.admin_view(self.consent_view)
        return [
            path("<int:pk>/consent/", consent, name="intake_client_consent"),
            *super().get_urls(),
        ]

    def consent_view(self, request, pk: int):
        """Record a consent (or a withdrawal) the client gave on paper, by phone or in person."""
        client = get_object_or_404(Client, pk=pk)
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        form = ConsentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.consent_record(
                client=client,
                by=request.user,
                source=form.cleaned_data["source"],
                given=form.cleaned_data["given"],
            )
            self.message_user(request, f"Follow-up consent of {client} recorded.", messages.SUCCESS)
            return redirect("admin:intake_client_change", client.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Follow-up consent of {client}",
            "client": client,
            "form": form,
            "opts": self.model._meta,
        }
        status = 400 if form.is_bound else 200
        return TemplateResponse(request, "admin/intake/client/consent.html", context, status=status)

    @admin.action(description="Merge two records of the same client", permissions=["change"])
    def merge_clients(self, request, queryset):
        """Merge the two selected clients into the one chosen on a confirmation page."""
        clients = list(queryset.order_by("created_at", "id"))
        if len(clients) != 2:
            self.message_user(request, "Select exactly two clients to merge.", messages.ERROR)
            return None
        keep_pk = request.POST.get("keep")
        if request.POST.get("confirm") == "yes" and keep_pk in {str(c.pk) for c in clients}:
            keep = next(c for c in clients if str(c.pk) == keep_pk)
            duplicate = next(c for c in clients if c.pk != keep.pk)
            moved = clients_merge(keep=keep, duplicate=duplicate, by=request.user)
            summary = ", ".join(f"{n} {kind}" for kind, n in moved.items()) or "no records"
            self.message_user(
                request,
                f"{duplicate} (#{duplicate.pk}) merged into {keep} (#{keep.pk}): {summary} moved.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge two records of the same client",
            "clients": [(c, c.visits.count()) for c in clients],
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/intake/client/merge.html", context)

    def save_model(self, request, obj, form, change):
        # A consent ticked when the client is added is recorded with who and when.
        if not change and obj.followup_consent:
            obj.followup_consent_at = obj.followup_consent_at or timezone.now()
            obj.followup_consent_by = request.user
        elif not change:
            obj.followup_consent_at, obj.followup_consent_source = None, ""
        super().save_model(request, obj, form, change)


class VisitAdminForm(forms.ModelForm):
    planned_modality = CatalogueChoiceField()

    class Meta:
        model = Visit
        fields = VISIT_FIELDS

    def clean(self):
        cleaned = super().clean()
        # The therapist's form's rules: no past day, no double booking.
        if "scheduled_at" in self.fields:
            scheduling_errors(self, visit=self.instance)
        return cleaned


@admin.register(Visit)
class VisitAdmin(PhoneSearchMixin, RoleAccessHistoryAdmin):
    form = VisitAdminForm
    phone_search_field = "client__phone"
    list_display = ("scheduled_at", "client", "therapist", "modality", "status")
    list_select_related = ("client", "therapist")
    list_filter = (
        "status",
        ("therapist", admin.RelatedOnlyFieldListFilter),
        ModalityFilter,
        HealthFormFilter,
    )
    search_fields = ("client__first_name", "client__last_name", "client__email", "client__phone")
    date_hierarchy = "scheduled_at"
    autocomplete_fields = ("client",)
    fields = VISIT_FIELDS
    readonly_fields = VISIT_READONLY

    @admin.display(description="planned modality", ordering="planned_modality")
    def modality(self, visit: Visit) -> str:
        return vocabulary.label("modality", visit.planned_modality)

    @admin.display(description="focus regions")
    def regions(self, visit: Visit) -> str:
        return _regions(visit.focus_regions)

    @admin.display(description="performed modality")
    def performed(self, visit: Visit) -> str:
        return vocabulary.label("modality", visit.performed_modality or "") or "—"

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            fields = [VISIT_WORDS.get(name, name) for name in fields]
        return fields

    @property
    def actions(self):
        # Screening and follow-up own their actions on visits (intake.extensions); the
        # roles' declarations in staff.access decide who gets which.
        return tuple(extensions.visit_admin_actions)

    def offered_list_display(self, request):
        # ... and their columns (the decision level, the follow-up summary).
        return (*self.list_display, *(_admin_column(c) for c in extensions.columns("admin")))

    def get_queryset(self, request):
        return extensions.annotate_visits(super().get_queryset(request), place="admin")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # Regions ticked by name. Not a field declared on the form: a declared field is
        # shown to every role, and front desk never sees the areas a visit works on.
        if db_field.name == "focus_regions":
            return RegionsField(label="Focus regions")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "therapist":
            kwargs["queryset"] = therapist_queryset()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Through the services, so the visit is (re-)screened like one booked by a therapist.
        plan = {
            "scheduled_at": obj.scheduled_at,
            "planned_modality": obj.planned_modality,
            "focus_regions": list(obj.focus_regions or []),
            "by": request.user,
        }
        if change:
            saved = services.visit_change_plan(visit=obj, therapist=obj.therapist, **plan)
        else:
            saved = services.visit_schedule(client=obj.client, therapist=obj.therapist, **plan)
            obj.pk = saved.pk
            obj.intake_id = saved.intake_id
        if self.shows_health(request):
            # Only to those who read health histories: front desk gets the same plain
            # confirmation whatever the client's history holds.
            for problem in saved.plan_problems:
                self.message_user(request, problem, messages.WARNING)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != VisitStatus.SCHEDULED:
            # A completed, deferred or cancelled visit is history: look, do not edit.
            return False
        return super().has_change_permission(request, obj)


@admin.register(Intake)
class IntakeAdmin(RoleAccessHistoryAdmin):
    """Read-only health histories for the roles staff.access gives them to."""

    list_display = ("client", "created_at", "visit_date", "modality", "entered_by")
    list_select_related = ("client", "entered_by")
    search_fields = ("client__first_name", "client__last_name")
    date_hierarchy = "created_at"
    # The history in words, as on the therapist's intake page (no field of codes or JSON).
    fields = readonly_fields = ("client", "created_at", "previous", "health_history")

    @admin.display(description="planned modality", ordering="planned_modality")
    def modality(self, intake: Intake) -> str:
        return vocabulary.label("modality", intake.planned_modality)

    @admin.display(description="health history")
    def health_history(self, intake: Intake) -> str:
        return render_to_string("intake/_intake_fields.html", {"intake": intake})

    def has_add_permission(self, request):
        # Intakes are recorded on the therapist's intake form (consent and signature).
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HealthRecordAccess)
class HealthRecordAccessAdmin(RoleAccessAdmin):
    """The audit log of health-history reads: the owner's only (staff.access), read-only."""

    list_display = ("at", "user", "client", "what", "path")
    list_select_related = ("user", "client")
    list_filter = ("what",)
    search_fields = ("user__username", "client__first_name", "client__last_name")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentText)
class ConsentTextAdmin(RoleAccessAdmin):
    """The clinic's consent wording, one version a row: add a new one, never change one."""

    list_display = ("version", "created_at", "created_by")
    fields = ("version", "text")

    def has_change_permission(self, request, obj=None):
        # A stored version is read-only: intakes name the version their client signed.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
