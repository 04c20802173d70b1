"""Forms for client records: search, details and follow-up consent."""

from __future__ import annotations

from django import forms
from django.urls import reverse

from intake.duplicates import DuplicateWarningMixin
from intake.forms import DateInput, plain_text
from intake.models import Client, ConsentSource
from intake.phones import RegionalPhoneMixin
from staff.forms import SingleValueMixin


class ClientSearchForm(forms.Form):
    q = forms.CharField(label="Search", max_length=100, required=False)


CONSENT_SOURCES = [(c.value, c.label) for c in ConsentSource if c != ConsentSource.UNRECORDED]


class ConsentSourceMixin:
    """A follow-up consent ticked on a form must say how the client gave it."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("followup_consent") and not cleaned.get("followup_consent_source"):
            self.add_error(
                "followup_consent_source",
                "Say how the client gave their consent (in person, on paper or by phone).",
            )
        return cleaned


class ClientForm(
    DuplicateWarningMixin,
    RegionalPhoneMixin,
    ConsentSourceMixin,
    SingleValueMixin,
    forms.ModelForm,
):
    followup_consent_source = forms.ChoiceField(
        label="Consent given",
        choices=[("", "—"), *CONSENT_SOURCES],
        required=False,
    )

    class Meta:
        model = Client
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_channel",
            "followup_consent",
            "followup_consent_source",
        ]
        widgets = {"date_of_birth": DateInput()}

    def duplicate_url(self, client: Client) -> str:
        return reverse("intake:client_detail", args=[client.pk])

    def clean_first_name(self):
        return plain_text(self.cleaned_data["first_name"], "A name")

    def clean_last_name(self):
        return plain_text(self.cleaned_data["last_name"], "A name")
