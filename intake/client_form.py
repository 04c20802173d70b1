"""The health form a client fills in on their phone, one topic a step.

It is the therapist's health form (intake.forms.IntakeForm: one set of fields, one
validation, the intake contract's codec) in the client's words and cut into steps. Each step
validates the whole form with what the client has given so far, and shows the errors of its
own fields; the answers of finished steps wait in the link's draft, as the raw values a form
would post. The visit's date, modality and body areas come from the visit, never from the
client.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from clinical import vocabulary
from intake import i18n
from intake.forms import IntakeForm
from intake.linkmodels import ConsentText
from intake.models import Visit

# The largest draft a client may build (characters of JSON): every field's own limit,
# with room to spare; anything bigger is not a health form.
MAX_DRAFT_CHARS = 200_000


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    fields: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    def owns(self, name: str) -> bool:
        return name in self.fields or (bool(self.prefixes) and name.startswith(self.prefixes))


STEPS: tuple[Step, ...] = (
    Step("about", _("About you")),
    Step("conditions", _("Health conditions"), prefixes=("cond_", "other_")),
    Step("pregnancy", _("Pregnancy"), ("pregnant", "pregnancy_weeks", "pregnancy_due_date")),
    Step("medicines", _("Medicines"), ("medications",)),
    Step("illness", _("Recent illness"), ("recent_illness_name", "recent_illness_recovered_on")),
    Step("pain", _("Pain"), ("pain_score", "pain_character", "pain_radiating", "pain_regions")),
    Step("warning", _("Warning signs"), ("red_flags",)),
    Step("allergies", _("Allergies"), ("allergies",)),
    Step("notes", _("Anything else"), ("free_text",)),
    Step("consent", _("Check and sign"), ("consent", "signature_name")),
)
BY_SLUG = {step.slug: step for step in STEPS}
SLUGS = tuple(step.slug for step in STEPS)
VISIT_FIELDS = ("visit_date", "planned_modality", "focus_regions")
PAIN_CHARACTER_CHOICES = i18n.choices(vocabulary.PAIN_CHARACTERS, blank=_("Choose one"))


def step_of(name: str) -> Step | None:
    """Return the step that shows the form field `name`."""
    for step in STEPS:
        if step.owns(name):
            return step
    return None


class ClientIntakeForm(IntakeForm):
    """The health form in the client's words (every label marked for translation)."""

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, client=client, **kwargs)
        self.consent_version, self.consent_text = ConsentText.current()
        labels = {
            "pregnant": _("I am pregnant"),
            "pregnancy_weeks": _("How many weeks"),
            "pregnancy_due_date": _("Due date"),
            "medications": _("Medicines you take"),
            "recent_illness_name": _(
                "An illness or a stay in hospital in the last few weeks (a cold, for example)"
            ),
            "recent_illness_recovered_on": _("Better since"),
            "pain_score": _("Your pain now, from 0 (none) to 10 (the worst)"),
            "pain_character": _("What the pain feels like"),
            "pain_radiating": _("The pain spreads to other places"),
            "pain_regions": _("Where it hurts"),
            "red_flags": _("Right now I have"),
            "allergies": _("Allergies (oils, lotions, latex, nuts...)"),
            "free_text": _("Anything else your therapist should know, in your own words"),
            "consent": _("I have read the text above and agree"),
            "signature_name": _("Type your full name to sign"),
        }
        helps = {
            "medications": _("One per line, with the dose if you know it."),
            "recent_illness_recovered_on": _("Leave empty if you are not better yet."),
            "allergies": _("One per line."),
            "pain_score": _("Leave empty if you have no pain."),
        }
        for name, label in labels.items():
            self.fields[name].label = label
        for name, text in helps.items():
            self.fields[name].help_text = text
        self.fields["pain_character"].choices = PAIN_CHARACTER_CHOICES

    def condition_fields(self, rule, name: str) -> dict[str, forms.Field]:
        fields = super().condition_fields(rule, name)
        fields[f"{name}_acute"].label = _("bad right now")
        fields[f"{name}_notes"].label = _("more about %(condition)s") % {
            "condition": i18n.rule_title(rule)
        }
        return fields

    def clean_signature_name(self):
        try:
            return super().clean_signature_name()
        except forms.ValidationError:
            raise forms.ValidationError(
                _("Please type your full name as we have it: %(name)s.")
                % {"name": self.client.full_name}
            ) from None


def visit_values(visit: Visit) -> dict[str, list[str]]:
    """Return the visit's plan as form values (what the client cannot change)."""
    return {
        "visit_date": [timezone.localtime(visit.scheduled_at).date().isoformat()],
        "planned_modality": [visit.planned_modality],
        "focus_regions": list(visit.focus_regions),
    }


def draft_from_intake(intake) -> dict[str, list[str]]:
    """Return a previous intake's answers as raw form values, for the client to review."""
    draft: dict[str, list[str]] = {}
    for name, value in IntakeForm.initial_from(intake).items():
        if name.startswith("_") or name in VISIT_FIELDS or value in (None, "", [], False):
            continue
        if value is True:
            draft[name] = ["on"]
        elif isinstance(value, list | tuple):
            draft[name] = [str(v) for v in value]
        else:
            draft[name] = [value.isoformat() if hasattr(value, "isoformat") else str(value)]
    return draft


def bound_form(*, visit: Visit, draft: dict, posted=None, step: Step | None = None):
    """Return the form bound to the draft, the step's posted values and the visit's plan.

    Only the step's own fields are read from `posted` (a tampered post cannot change
    another step). Until the last step the consent is filled in for the client, so that
    the whole form's checks run and each step sees its own fields' errors.
    """
    values = {k: list(v) for k, v in draft.items() if step is None or not step.owns(k)}
    if posted is not None and step is not None:
        for name in posted:
            if step.owns(name):
                values[name] = posted.getlist(name)
    if step is None or step.slug != "consent":
        values["consent"] = ["on"]
        values["signature_name"] = [visit.client.full_name]
    values.update(visit_values(visit))
    return ClientIntakeForm(MultiValueDict(values), client=visit.client)


def step_values(form, step: Step) -> dict[str, list[str]]:
    """Return the step's values of a bound form, to keep in the draft."""
    return {
        name: [str(v) for v in form.data.getlist(name)]
        for name in form.data
        if step.owns(name) and step.slug != "consent" and any(form.data.getlist(name))
    }


def step_errors(form, step: Step) -> bool:
    """Return whether the form has errors in the step's fields (the form is validated)."""
    form.is_valid()
    return any(step.owns(name) for name in form.errors)


def first_step_with_errors(form) -> Step | None:
    form.is_valid()
    for step in STEPS:
        if any(step.owns(name) for name in form.errors):
            return step
    return None


def summary(form) -> list[tuple[Step, list[tuple[str, str]]]]:
    """Return each answered topic's answers in words, for the client to check before signing.

    `form` is validated; a topic with nothing given says so.
    """
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    rows: list[tuple[Step, list[tuple[str, str]]]] = []
    for step in STEPS[1:-1]:
        answers: list[tuple[str, str]] = []
        if step.slug == "conditions":
            for _category, rule, name in form.condition_rules:
                if cleaned.get(name):
                    words = [str(_("bad right now"))] if cleaned.get(f"{name}_acute") else []
                    if cleaned.get(f"{name}_notes"):
                        words.append(cleaned[f"{name}_notes"])
                    answers.append((str(i18n.rule_title(rule)), ", ".join(words) or str(_("yes"))))
            for i in range(form.other_rows):
                code = (cleaned.get(f"other_{i}_code") or "").strip()
                if code:
                    answers.append((code, cleaned.get(f"other_{i}_notes") or str(_("yes"))))
        else:
            for name in step.fields:
                value = cleaned.get(name)
                if value in (None, "", [], False):
                    continue
                field = form.fields[name]
                if value is True:
                    text = str(_("yes"))
                elif hasattr(field, "choices"):
                    names = dict((str(k), str(v)) for k, v in field.choices)
                    values = value if isinstance(value, list) else [value]
                    text = ", ".join(names.get(str(v), str(v)) for v in values)
                elif hasattr(value, "isoformat"):
                    text = value.isoformat()
                else:
                    text = str(value)
                answers.append((str(field.label), text))
        rows.append((step, answers))
    return rows


def display_form(*, visit: Visit, draft: dict) -> ClientIntakeForm:
    """Return an unbound form showing the draft's answers (a step shown, nothing checked)."""
    form = ClientIntakeForm(client=visit.client)
    initial = {}
    for name, values in draft.items():
        field = form.fields.get(name)
        if field is None:
            continue
        multiple = getattr(field.widget, "allow_multiple_selected", False)
        initial[name] = list(values) if multiple else (values[0] if values else "")
    others = {name.split("_")[1] for name in draft if name.startswith("other_")}
    initial["_others"] = len(others)
    return ClientIntakeForm(initial=initial, client=visit.client)
