"""Read-only admin for screenings, flags and clearances (the roles staff.access allows).

Screenings are the engine's output and every change to them (acknowledgement, dismissal,
resolution, a clearance) goes through screening.services from the report page, which checks
the rules and records who and when. So the admin lists, searches and shows history, and
edits nothing. The clinic vocabulary is the exception: clinical leads maintain it here.
Front desk never sees health data (SPEC section 1): staff.access declares none of these
models for them, so they get 403 here even if a permission were granted by mistake.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from clinical import vocabulary
from screening.models import Clearance, Screening, ScreeningFlag, VocabularyTerm
from screening.services import current_catalogue
from screening.templatetags.screening_tags import matched_words, rule_title
from staff.admin import RoleAccessHistoryAdmin, RoleAccessInline
from staff.roles import is_clinical_lead, is_therapist


def _lines(items) -> str:
    """Return items as a list in the page (or a dash for none)."""
    if not items:
        return "—"
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items)))


def _rules(codes) -> str:
    return _lines([rule_title(code) for code in codes or ()])


class ReadOnlyAdmin(RoleAccessHistoryAdmin):
    """Viewing only (for the roles staff.access allows); nobody adds, changes or deletes."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ScreeningFlagInline(RoleAccessInline, admin.TabularInline):
    model = ScreeningFlag
    fields = [
        "title",
        "severity",
        "tier",
        "what_matched",
        "item",
        "free_text_only",
        "fuzzy_only",
        "dismissed_by",
        "dismissed_at",
        "dismissal_reason",
        "resolution",
        "resolved_as",
        "resolution_reason",
        "resolved_by",
        "resolved_at",
        "origin",
        "added_by",
        "added_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="what matched")
    def what_matched(self, flag: ScreeningFlag) -> str:
        return _lines([matched_words(item) for item in flag.matched])

    @admin.display(description="resolved as")
    def resolved_as(self, flag: ScreeningFlag) -> str:
        return rule_title(flag.resolved_rule) if flag.resolved_rule else "—"


class ScreeningChangeList(ChangeList):
    """The screenings list, without each row's `result` JSON (large, and not shown there)."""

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).defer("result")


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "visit",
        "decision",
        "modality",
        "catalogue_version",
        "created_at",
        "acknowledged_by",
        "acknowledged_at",
    ]
    # In words: the report link has everything else (the result is the engine's JSON).
    fields = [
        "visit",
        "report_link",
        "decision",
        "effective_decision",
        "modality",
        "regions",
        "visit_date",
        "catalogue_version",
        "supplementary_version",
        "vocabulary_version",
        "created_at",
        "acknowledged_by",
        "acknowledged_at",
        "acknowledgement_note",
    ]
    list_filter = ["decision", "catalogue_version", "created_at"]
    list_select_related = ["visit__client", "acknowledged_by"]
    search_fields = ["visit__client__last_name", "visit__client__first_name", "flags__code"]
    date_hierarchy = "created_at"
    readonly_fields = ["report_link", "modality", "regions"]
    inlines = [ScreeningFlagInline]

    @admin.display(description="planned modality", ordering="planned_modality")
    def modality(self, obj: Screening) -> str:
        return vocabulary.label("modality", obj.planned_modality)

    @admin.display(description="focus regions")
    def regions(self, obj: Screening) -> str:
        return ", ".join(vocabulary.label("region", r) for r in obj.focus_regions) or "—"

    @admin.display(description="report")
    def report_link(self, obj: Screening) -> str:
        url = reverse("screening:report", args=[obj.visit_id])
        return format_html('<a href="{}">Open the screening report</a>', url)

    def get_changelist(self, request, **kwargs):
        return ScreeningChangeList

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        if search_term:
            # Searching a flag code joins flags; distinct keeps one row per screening. (Only
            # then: DISTINCT over every screening's columns made the plain list slow.)
            queryset = queryset.distinct()
        return queryset, False


@admin.register(ScreeningFlag)
class ScreeningFlagAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "severity",
        "screening",
        "free_text_only",
        "dismissed_by",
        "dismissed_at",
    ]
    list_filter = ["severity", "free_text_only", ("dismissed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["screening", "dismissed_by"]
    search_fields = ["code", "title"]
    fields = [
        "screening",
        *(f for f in ScreeningFlagInline.fields if f not in ("what_matched", "resolved_as")),
        "what_matched",
        "resolved_as",
    ]
    readonly_fields = ["what_matched", "resolved_as"]
    what_matched = ScreeningFlagInline.what_matched
    resolved_as = ScreeningFlagInline.resolved_as


@admin.register(Clearance)
class ClearanceAdmin(ReadOnlyAdmin):
    list_display = [
        "client",
        "doctor_name",
        "issued_on",
        "expires_on",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = ["issued_on", "expires_on"]
    list_select_related = ["client", "recorded_by"]
    search_fields = ["client__last_name", "client__first_name", "doctor_name"]
    date_hierarchy = "issued_on"
    # The letter is served by the therapist-only download view, never by a media URL.
    fields = [
        "client",
        "doctor_name",
        "issued_on",
        "expires_on",
        "rules",
        "note",
        "document_link",
        "recorded_by",
        "recorded_at",
    ]
    readonly_fields = ["document_link", "rules"]

    @admin.display(description="rules it covers")
    def rules(self, obj: Clearance) -> str:
        return _rules(obj.codes)

    @admin.display(description="document")
    def document_link(self, obj: Clearance) -> str:
        if not obj.document:
            return "—"
        url = reverse("screening:clearance_document", args=[obj.pk])
        return format_html('<a href="{}">Download the letter</a>', url)


class RuleFilter(admin.SimpleListFilter):
    """Terms by the rule they mean, named by its title."""

    title = "rule"
    parameter_name = "rule_code"

    def lookups(self, request, model_admin):
        codes = VocabularyTerm.objects.values_list("rule_code", flat=True).distinct()
        return sorted(((code, rule_title(code)) for code in codes), key=lambda c: c[1])

    def queryset(self, request, queryset):
        return queryset.filter(rule_code=self.value()) if self.value() else queryset


@admin.register(VocabularyTerm)
class VocabularyTermAdmin(RoleAccessHistoryAdmin):
    """The clinic's own vocabulary: clinical leads add, activate and retire terms here.

    Each save is kept in the change history; saving an active term (or retiring one)
    re-screens scheduled visits (screening.hooks).
    """

    list_display = ["phrase", "rule", "status", "proposed_by", "created_at"]
    list_filter = ["status", RuleFilter]
    search_fields = ["phrase", "rule_code"]
    fields = ["phrase", "rule_code", "status", "note", "proposed_by", "created_at"]
    readonly_fields = ["proposed_by", "created_at"]

    @admin.display(description="rule", ordering="rule_code")
    def rule(self, obj: VocabularyTerm) -> str:
        return rule_title(obj.rule_code)

    def has_module_permission(self, request) -> bool:
        return is_clinical_lead(request.user) or is_therapist(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_clinical_lead(request.user) or is_therapist(request.user)

    def has_add_permission(self, request) -> bool:
        return is_clinical_lead(request.user) and request.user.has_perm(
            "screening.add_vocabularyterm"
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return is_clinical_lead(request.user) and request.user.has_perm(
            "screening.change_vocabularyterm"
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # retire a term instead: its history stays readable

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        rules = current_catalogue().rules
        form.base_fields["rule_code"] = forms.ChoiceField(
            label="Rule",
            choices=[(r.code, f"{r.title}") for r in sorted(rules, key=lambda r: r.title)],
        )
        if not request.user.has_perm("screening.activate_vocabularyterm"):
            form.base_fields["status"].choices = [
                c for c in form.base_fields["status"].choices if c[0] != "active"
            ]
        return form

    def save_model(self, request, obj, form, change) -> None:
        obj.phrase = " ".join(obj.phrase.split()).lower()
        if not change and obj.proposed_by_id is None:
            obj.proposed_by = request.user
        super().save_model(request, obj, form, change)
