"""Forms for visits: booking, completing, deferring or cancelling, recording a consent."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from intake.client_forms import CONSENT_SOURCES
from intake.forms import CatalogueChoiceField, DateTimeInput, RegionsField, plain_text
from intake.services import (
    completion_time_problem,
    scheduling_problem,
)
from staff.forms import SingleValueMixin
from staff.roles import THERAPIST_GROUPS


def therapist_queryset():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=THERAPIST_GROUPS)
        .order_by("first_name", "last_name", "username")
        .distinct()
    )


class TherapistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


def scheduling_errors(form: forms.BaseForm, *, visit=None) -> None:
    """Add the scheduling rules' error (past day, double booking) to `scheduled_at`.

    Shared by the therapist's visit form and the admin's, so both refuse the same times.
    Inside a transaction (the admin saves in the one it validates in) the therapist is
    locked until the visit is saved; the services check again with the lock either way.
    """
    scheduled_at = form.cleaned_data.get("scheduled_at")
    therapist = form.cleaned_data.get("therapist")
    if scheduled_at is None or therapist is None:
        return
    problem = scheduling_problem(
        therapist=therapist,
        scheduled_at=scheduled_at,
        visit=visit,
        lock=transaction.get_connection().in_atomic_block,
    )
    if problem:
        form.add_error("scheduled_at", problem)


class VisitForm(SingleValueMixin, forms.Form):
    scheduled_at = forms.DateTimeField(widget=DateTimeInput(), label="Date and time")
    therapist = TherapistChoiceField(queryset=None)
    planned_modality = CatalogueChoiceField()
    focus_regions = RegionsField()

    def __init__(self, *args, visit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit
        self.fields["therapist"].queryset = therapist_queryset()

    def clean(self):
        cleaned = super().clean()
        scheduling_errors(self, visit=self.visit)
        return cleaned


class VisitCompleteForm(SingleValueMixin, forms.Form):
    performed_modality = CatalogueChoiceField(label="Modality performed")
    completed_at = forms.DateTimeField(
        required=False,
        widget=DateTimeInput(),
        label="Finished at",
        help_text="Leave empty for now.",
    )

    def __init__(self, *args, visit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit

    def clean_completed_at(self):
        value = self.cleaned_data.get("completed_at")
        # A minute of slack: the form's time has no seconds and clocks differ a little.
        if value and value > timezone.now() + dt.timedelta(minutes=1):
            raise forms.ValidationError("The visit cannot finish in the future.")
        if value and self.visit is not None:
            problem = completion_time_problem(self.visit, min(value, timezone.now()))
            if problem:
                raise forms.ValidationError(problem)
        return value and min(value, timezone.now())


class ConsentForm(SingleValueMixin, forms.Form):
    """Front desk or a therapist records a consent the client gave, or withdrew, themselves."""

    given = forms.TypedChoiceField(
        label="The client",
        choices=[("yes", "agrees to follow-up messages"), ("no", "withdraws their consent")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    source = forms.ChoiceField(label="How", choices=CONSENT_SOURCES, widget=forms.RadioSelect)
    confirm = forms.BooleanField(
        label="The client told us this themselves (not a relative, not a guess)",
    )


class VisitReasonForm(SingleValueMixin, forms.Form):
    reason = forms.CharField(
        max_length=2_000, widget=forms.Textarea(attrs={"rows": 2}), label="Reason"
    )

    def clean_reason(self):
        return plain_text(self.cleaned_data["reason"], "The reason")
