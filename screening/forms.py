"""Forms of the screening report: acknowledgement, dismissal and clearance."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.utils import timezone

from screening.services import MAX_DOCTOR_NAME_CHARS, MAX_NOTE_CHARS

FLAGGED_NOTE = " · flagged at this visit"
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# Extension -> (accepted content types, the file's first bytes). The browser's content type
# is only a claim, so the bytes are checked as well.
DOCUMENT_TYPES = {
    ".pdf": ({"application/pdf"}, (b"%PDF-",)),
    ".png": ({"image/png"}, (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ({"image/jpeg", "image/pjpeg"}, (b"\xff\xd8\xff",)),
    ".jpeg": ({"image/jpeg", "image/pjpeg"}, (b"\xff\xd8\xff",)),
}


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E.g. what you will adapt in the treatment.",
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Reason for dismissing",
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason for dismissing this flag.")
        return reason


class ResolveForm(forms.Form):
    """Resolve one review item: which rule it is, or why it does not matter for massage."""

    resolution = forms.ChoiceField(
        label="This is",
        choices=[("rule", "A catalogue rule"), ("not_relevant", "Not relevant to massage")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say which rule this is, or that it is not relevant."},
    )
    rule_code = forms.ChoiceField(label="Which rule", required=False)
    reason = forms.CharField(
        label="Why it does not matter for massage",
        required=False,
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    propose_term = forms.BooleanField(
        label="Propose these words as a clinic vocabulary term for this rule",
        required=False,
        help_text="A clinical lead reviews proposed terms before they are used.",
    )

    def __init__(self, *args, rules: list[tuple[str, str]], suggested: list[str] = (), **kwargs):
        """Offer `rules` ((code, title)); the screener's suggestions first."""
        super().__init__(*args, **kwargs)
        titles = dict(rules)
        first = [code for code in suggested if code in titles]
        rest = sorted((code for code in titles if code not in first), key=titles.get)
        self.fields["rule_code"].choices = [
            ("", "— choose a rule —"),
            *((code, f"{titles[code]} (suggested)") for code in first),
            *((code, titles[code]) for code in rest),
        ]

    def clean(self):
        cleaned = super().clean()
        resolution = cleaned.get("resolution")
        if resolution == "rule" and not cleaned.get("rule_code"):
            self.add_error("rule_code", "Choose the rule this item is.")
        if resolution == "not_relevant":
            cleaned["reason"] = (cleaned.get("reason") or "").strip()
            if not cleaned["reason"]:
                self.add_error("reason", "Give the reason it does not matter for massage.")
            if cleaned.get("propose_term"):
                self.add_error("propose_term", "Only a rule can have a vocabulary term.")
        return cleaned


class ClearanceForm(forms.Form):
    doctor_name = forms.CharField(label="Doctor", max_length=MAX_DOCTOR_NAME_CHARS)
    issued_on = forms.DateField(label="Date of issue", widget=DATE_INPUT)
    expires_on = forms.DateField(label="Expires on", widget=DATE_INPUT)
    codes = forms.MultipleChoiceField(
        label="Rules it covers",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one rule the clearance covers."},
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    document = forms.FileField(
        label="Letter (optional)",
        required=False,
        help_text="PDF, PNG or JPEG, at most 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    def __init__(self, *args, codes: dict[str, str], flagged: list[str] = (), **kwargs):
        """Offer `codes` ({code: title}) as checkboxes, the ones flagged at this visit first.

        None is ticked in advance: the therapist ticks exactly what the doctor's letter says.
        """
        super().__init__(*args, **kwargs)
        flagged = [code for code in flagged if code in codes]
        ordered = flagged + [code for code in codes if code not in flagged]
        self.fields["codes"].choices = [
            (code, codes[code] + (FLAGGED_NOTE if code in flagged else "")) for code in ordered
        ]

    def clean_doctor_name(self) -> str:
        name = self.cleaned_data["doctor_name"].strip()
        if not name:
            raise forms.ValidationError("Give the doctor's name.")
        return name

    def clean_issued_on(self):
        issued_on = self.cleaned_data["issued_on"]
        if issued_on > timezone.localdate():
            raise forms.ValidationError("The date of issue cannot be in the future.")
        return issued_on

    def clean_document(self):
        document = self.cleaned_data.get("document")
        if not document:
            return None
        extension = Path(document.name).suffix.lower()
        if extension not in DOCUMENT_TYPES:
            raise forms.ValidationError("Upload a PDF, PNG or JPEG file.")
        if document.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        content_types, signatures = DOCUMENT_TYPES[extension]
        if getattr(document, "content_type", None) not in content_types:
            raise forms.ValidationError("The file's type does not match its extension.")
        document.seek(0)
        head = document.read(16)
        document.seek(0)
        if not head.startswith(signatures):
            raise forms.ValidationError("The file's content is not a PDF, PNG or JPEG.")
        return document

    def clean(self):
        cleaned = super().clean()
        issued_on, expires_on = cleaned.get("issued_on"), cleaned.get("expires_on")
        if issued_on and expires_on and expires_on < issued_on:
            self.add_error("expires_on", "The expiry date cannot be before the date of issue.")
        return cleaned
