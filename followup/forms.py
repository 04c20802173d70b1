"""Forms: the client's check-in answer and the staff's escalation notes. Validate only."""

from __future__ import annotations

import functools

from django import forms

from clinical import vocabulary
from staff.forms import FixedChoices, QuickCopiesMetaclass, SingleValueMixin

NOTE_MAX_LENGTH = 1000
PAIN_SCORES = range(0, 11)
YES_NO = FixedChoices([("yes", "Yes"), ("no", "No")])
# Fields the answer page draws as buttons and tick boxes with a plain loop (answer.html).
CHOICE_FIELDS = ("score", "character", "radiating", "red_flags")


def _yes(value: str) -> bool:
    return value == "yes"


class CheckInAnswerForm(SingleValueMixin, forms.Form, metaclass=QuickCopiesMetaclass):
    """How the client feels now: pain 0-10, its character, radiating, red flags, a note."""

    score = forms.TypedChoiceField(
        label="How much pain do you have now? (0 = none, 10 = the worst you can imagine)",
        choices=FixedChoices((str(score), str(score)) for score in PAIN_SCORES),
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    character = forms.ChoiceField(
        label="What does it feel like?",
        choices=FixedChoices((c.code, c.label) for c in vocabulary.PAIN_CHARACTERS),
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    radiating = forms.TypedChoiceField(
        label="Does the pain spread down an arm or a leg?",
        choices=YES_NO,
        coerce=_yes,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    red_flags = forms.MultipleChoiceField(
        label="Do you have any of these? Tick all that apply.",
        choices=FixedChoices((f.code, f.label) for f in vocabulary.FOLLOWUP_RED_FLAGS),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(
        label="Anything else you want to tell us? (optional)",
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )

    @functools.cached_property
    def options(self) -> dict[str, list[dict]]:
        """Return each choice field's options (id, value, label, checked) for answer.html.

        The page draws its 26 inputs with a plain loop: rendering each through Django's
        per-widget templates was half the cost of the page. Ids and checked state are the
        widgets' own (`id_score_0`...; the value sent, or none).
        """
        options = {}
        for name in CHOICE_FIELDS:
            bound = self[name]
            value = bound.value()
            values = value if isinstance(value, list | tuple) else [value]
            chosen = {str(v) for v in values if v is not None}
            options[name] = [
                {
                    "id": f"{bound.auto_id}_{index}",
                    "value": str(code),
                    "label": label,
                    "checked": str(code) in chosen,
                }
                for index, (code, label) in enumerate(bound.field.choices)
            ]
        return options


class EscalationNoteForm(forms.Form):
    """A staff note when acknowledging or resolving an escalation."""

    note = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
