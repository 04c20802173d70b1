"""The health-history form, and the fields and widgets every intake form shares.

The client and visit forms are in client_forms.py and visit_forms.py. Forms validate and
normalise, nothing more.
"""

from __future__ import annotations

import functools
import re

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinical import vocabulary
from clinical.catalogue import Catalogue, get_catalogue
from clinical.intake import MAX_FREE_TEXT_CHARS, MAX_ITEM_CHARS, IntakeError, parse_intake
from intake import codec, i18n
from intake.models import CONSENT_TEXT, Client
from intake.services import (
    check_intake_for_record,
    signature_matches,
)
from staff.forms import QuickCopiesMetaclass, SingleValueMixin

OTHER_CONDITION_ROWS = 3
MAX_LINES_CHARS = 20_000
MAX_NAME_CHARS = 100
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INDEX = re.compile(r"\[(\d+)\]")
_OTHER_ROW = re.compile(r"other_(\d+)_")
_OTHER_FIELD = re.compile(r"other_(\d+)_(?:code|acute|notes)")
MAX_OTHER_ROWS = 50


MODALITY_CHOICES = i18n.choices(vocabulary.MODALITIES)
REGION_CHOICES = i18n.choices(vocabulary.REGIONS)


def condition_code(rule) -> str:
    """Return the condition code the form stores for a catalogue rule."""
    return rule.code if rule.code in rule.condition_codes else rule.condition_codes[0]


@functools.lru_cache(maxsize=8)  # as many as get_catalogue keeps
def _condition_rows(cat: Catalogue) -> tuple[tuple, dict[str, str]]:
    """Return the catalogue's (category, rule, field name) rows, and the row's field name for
    each of its three form keys (the box, "acute now" and the notes)."""
    rows, keys = [], {}
    for category, rules in cat.condition_choices():
        for rule in rules:
            name = f"cond_{rule.code}"
            rows.append((category, rule, name))
            for key in (name, f"{name}_acute", f"{name}_notes"):
                keys[key] = name
    return tuple(rows), keys


def _condition_fields(rule, name: str) -> dict[str, forms.Field]:
    """Return the intake-form fields of one catalogue condition."""
    return {
        name: forms.BooleanField(required=False, label=i18n.rule_title(rule)),
        f"{name}_acute": forms.BooleanField(required=False, label=_("acute now")),
        f"{name}_notes": forms.CharField(required=False, max_length=2_000, label=_("notes")),
    }


def _other_fields(i: int) -> dict[str, forms.Field]:
    """Return the fields of the i-th "other condition" row."""
    name = f"other_{i}"
    return {
        f"{name}_code": forms.CharField(
            required=False, max_length=MAX_ITEM_CHARS, label=_("Other condition")
        ),
        f"{name}_acute": forms.BooleanField(required=False, label=_("acute now")),
        f"{name}_notes": forms.CharField(required=False, max_length=2_000, label=_("notes")),
    }


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class CatalogueChoiceField(forms.ChoiceField):
    """A modality chosen from the catalogue; its `also_called` names are accepted."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"invalid_choice": _("Unknown modality %(value)s.")})
        super().__init__(choices=MODALITY_CHOICES, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return value
        return vocabulary.normalise_modality(value) or value


class RegionsField(forms.MultipleChoiceField):
    """Body regions from the catalogue, aliases normalised; shown as a body map."""

    widget = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("error_messages", {"invalid_choice": _("Unknown region %(value)s.")})
        super().__init__(choices=REGION_CHOICES, **kwargs)

    def to_python(self, value):
        codes = [vocabulary.normalise_region(v) or v for v in super().to_python(value)]
        return list(dict.fromkeys(codes))


def plain_text(value: str, what: str = _("This field")) -> str:
    """Return a typed text stripped, refusing control characters; `what` names the field."""
    if _CONTROL_CHARS.search(value or ""):
        raise forms.ValidationError(
            gettext("%(what)s must not contain control characters.") % {"what": what}
        )
    return (value or "").strip()


def lines_of(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class IntakeForm(SingleValueMixin, forms.Form, metaclass=QuickCopiesMetaclass):
    """A client's health history; `cleaned_data["intake"]` holds the parsed IntakeData."""

    consent_text = CONSENT_TEXT

    visit_date = forms.DateField(
        widget=DateInput(), initial=timezone.localdate, label=_("Visit date")
    )
    planned_modality = CatalogueChoiceField(label=_("Planned modality"))
    focus_regions = RegionsField(label=_("Focus regions"))

    pregnant = forms.BooleanField(required=False, label=_("Pregnant"))
    pregnancy_weeks = forms.IntegerField(
        required=False, min_value=0, max_value=45, label=_("Weeks of pregnancy")
    )
    pregnancy_due_date = forms.DateField(required=False, widget=DateInput(), label=_("Due date"))

    medications = forms.CharField(
        required=False,
        max_length=MAX_LINES_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Medications"),
        help_text=_("One per line, with the dose if known."),
    )
    recent_illness_name = forms.CharField(
        required=False, max_length=MAX_ITEM_CHARS, label=_("Recent illness")
    )
    recent_illness_recovered_on = forms.DateField(
        required=False,
        widget=DateInput(),
        label=_("Recovered on"),
        help_text=_("Leave empty if not recovered yet."),
    )

    pain_score = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=10,
        label=_("Pain now (0-10)"),
        error_messages={"invalid": _("Enter a whole number from 0 to 10.")},
    )
    pain_character = forms.ChoiceField(
        required=False,
        choices=i18n.choices(vocabulary.PAIN_CHARACTERS, blank="—"),
        label=_("Kind of pain"),
    )
    pain_radiating = forms.BooleanField(required=False, label=_("The pain spreads (radiates)"))
    pain_regions = RegionsField(label=_("Where it hurts"))

    red_flags = forms.MultipleChoiceField(
        required=False,
        choices=i18n.choices(vocabulary.INTAKE_RED_FLAGS),
        widget=forms.CheckboxSelectMultiple,
        label=_("Right now the client has"),
        error_messages={"invalid_choice": _("Unknown red flag %(value)s.")},
    )
    allergies = forms.CharField(
        required=False,
        max_length=MAX_LINES_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Allergies"),
        help_text=_("One per line (oils, lotions, latex...)."),
    )
    free_text = forms.CharField(
        required=False,
        max_length=MAX_FREE_TEXT_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Anything else the client tells you"),
        error_messages={
            "max_length": _(
                "Too long: at most %(limit_value)d characters (this has %(show_value)d)."
            )
        },
    )

    consent = forms.BooleanField(
        label=_("The client has read and agrees to the consent text above")
    )
    signature_name = forms.CharField(
        max_length=200, label=_("Signature (the client types their full name)")
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        # The conditions offered follow the clinic's tiers (SCREENING_SUPPLEMENTARY).
        cat = get_catalogue(supplementary=settings.SCREENING_SUPPLEMENTARY)
        # (category, rule, condition field name) for grouping in the template.
        self.condition_rules, self._condition_keys = _condition_rows(cat)
        self._add_condition_fields(self._condition_names_to_bind())
        sent = self._other_rows_sent()
        self.other_rows = max(OTHER_CONDITION_ROWS, self._other_rows_needed(sent))
        for i in self._other_rows_to_bind(sent):
            self.fields.update(_other_fields(i))

    @classmethod
    def initial_from(cls, intake) -> dict:
        """Return initial form values from a previous intake, for the client to review."""
        initial = codec.form_initial(intake)
        initial.pop("visit_date", None)  # a new intake is for the coming visit
        rules_by_code = {}
        catalogue = get_catalogue(supplementary=settings.SCREENING_SUPPLEMENTARY)
        for _category, rules in catalogue.condition_choices():
            for rule in rules:
                for code in rule.condition_codes:
                    rules_by_code.setdefault(code, rule)
        others = []
        for condition in intake.conditions:
            rule = rules_by_code.get(condition["code"])
            if rule is None:
                others.append(condition)
                continue
            name = f"cond_{rule.code}"
            initial[name] = True
            initial[f"{name}_acute"] = bool(condition.get("acute"))
            initial[f"{name}_notes"] = condition.get("notes") or ""
        for i, condition in enumerate(others):
            initial[f"other_{i}_code"] = condition["code"]
            initial[f"other_{i}_acute"] = bool(condition.get("acute"))
            initial[f"other_{i}_notes"] = condition.get("notes") or ""
        initial["_others"] = len(others)
        return initial

    def _other_rows_sent(self) -> set[int]:
        """Return the "other condition" rows a bound form was sent a field of."""
        if not self.is_bound:
            return set()
        return {int(m.group(1)) for key in self.data if (m := _OTHER_ROW.match(key))}

    def _other_rows_needed(self, sent: set[int]) -> int:
        # Keep every "other" row that was sent, even beyond the default number.
        needed = max(self.initial.get("_others", 0) + 1, *(i + 1 for i in sent), 0)
        return min(needed, MAX_OTHER_ROWS)

    def _other_rows_to_bind(self, sent: set[int]) -> list[int]:
        """Return the "other condition" rows whose fields to bind: those sent, for a bound form.

        A row none of whose fields was sent cleans to no condition, as its empty fields
        would (clean() puts those values in cleaned_data). Reading one of its fields
        (rendering) adds the row.
        """
        if not self.is_bound:
            return list(range(self.other_rows))
        return sorted(i for i in sent if i < self.other_rows)

    def _condition_names_to_bind(self) -> set[str] | None:
        """Return the conditions whose fields a bound form was sent (None: every condition).

        A condition none of whose three fields was sent cleans to unticked, not acute, no
        notes, exactly as its fields would (clean() puts those values in cleaned_data): only
        the ones sent are bound and cleaned (a form offers about 40 conditions, a client has
        a few). Reading a condition's field (rendering) adds it.
        """
        if not self.is_bound:
            return None
        keys, prefix = self._condition_keys, f"{self.prefix}-" if self.prefix else ""
        return {keys[k] for key in self.data if (k := key.removeprefix(prefix)) in keys}

    def __getitem__(self, name: str):
        if name not in self.fields:
            if name in self._condition_keys:
                self._add_condition_fields({self._condition_keys[name]})
            elif (row := _OTHER_FIELD.fullmatch(name)) and int(row.group(1)) < self.other_rows:
                self.fields.update(_other_fields(int(row.group(1))))
        return super().__getitem__(name)

    def condition_fields(self, rule, name: str) -> dict[str, forms.Field]:
        """Return the fields of one catalogue condition (a subclass may word them its way)."""
        return _condition_fields(rule, name)

    def _add_condition_fields(self, names: set[str] | None) -> None:
        for _category, rule, name in self.condition_rules:
            if (names is None or name in names) and name not in self.fields:
                self.fields.update(self.condition_fields(rule, name))

    def condition_groups(self) -> list[tuple[str, list[dict]]]:
        """Return the catalogue conditions grouped by category, with their bound fields."""
        self._add_condition_fields(None)  # a bound form shown again shows every condition
        groups: dict[str, list[dict]] = {}
        for category, rule, name in self.condition_rules:
            groups.setdefault(gettext(category.label), []).append(
                {
                    "rule": rule,
                    "check": self[name],
                    "acute": self[f"{name}_acute"],
                    "notes": self[f"{name}_notes"],
                }
            )
        return list(groups.items())

    def other_conditions(self) -> list[dict]:
        return [
            {
                "code": self[f"other_{i}_code"],
                "acute": self[f"other_{i}_acute"],
                "notes": self[f"other_{i}_notes"],
            }
            for i in range(self.other_rows)
        ]

    def clean_signature_name(self):
        name = plain_text(self.cleaned_data["signature_name"], _("The signature"))
        if not signature_matches(name, self.client):
            raise forms.ValidationError(
                gettext("The signature must be the client's full name (%(name)s).")
                % {"name": self.client.full_name}
            )
        return name

    def clean(self):
        cleaned = super().clean()
        for _category, _rule, name in self.condition_rules:
            if name not in self.fields:
                # Not sent: what its fields clean to when they are bound to nothing.
                cleaned.update({name: False, f"{name}_acute": False, f"{name}_notes": ""})
        for i in range(self.other_rows):
            if f"other_{i}_code" not in self.fields:
                cleaned.update(
                    {f"other_{i}_code": "", f"other_{i}_acute": False, f"other_{i}_notes": ""}
                )
        self._clean_linked_fields(cleaned)
        if self.errors:
            # Build the intake only from fields that are all valid; the errors are shown first.
            return cleaned
        payload, self._condition_fields = self._payload(cleaned)
        try:
            data = parse_intake(payload, today=timezone.localdate())
            check_intake_for_record(data)
        except IntakeError as exc:
            self.add_error(self._field_for(exc.path), i18n.intake_error_message(exc))
            return cleaned
        cleaned["intake"] = data
        return cleaned

    def _clean_linked_fields(self, cleaned: dict) -> None:
        """Never drop what belongs to a box left unticked (no silent loss).

        "Acute now" or notes for a catalogue condition tick the condition: they say it
        applies. "Acute now" or notes on an "other condition" row without its name are
        refused with a message (weeks or a due date without "Pregnant" are refused by
        check_intake_for_record).
        """
        for _category, _rule, name in self.condition_rules:
            if not cleaned.get(name) and (
                cleaned.get(f"{name}_acute") or (cleaned.get(f"{name}_notes") or "").strip()
            ):
                cleaned[name] = True
        for i in range(self.other_rows):
            code = (cleaned.get(f"other_{i}_code") or "").strip()
            acute = cleaned.get(f"other_{i}_acute")
            notes = (cleaned.get(f"other_{i}_notes") or "").strip()
            if not code and (acute or notes):
                self.add_error(
                    f"other_{i}_code",
                    gettext("Name the condition: “acute now” or notes were given without it."),
                )

    def _payload(self, cleaned: dict) -> tuple[dict, list[str]]:
        """Return the intake JSON of the cleaned form, and the form field of each condition."""
        conditions, fields = [], []
        for _category, rule, name in self.condition_rules:
            if cleaned.get(name):
                conditions.append(
                    {
                        "code": condition_code(rule),
                        "acute": bool(cleaned.get(f"{name}_acute")),
                        "notes": cleaned.get(f"{name}_notes") or "",
                    }
                )
                fields.append(f"{name}_notes")
        for i in range(self.other_rows):
            code = cleaned.get(f"other_{i}_code") or ""
            if code.strip():
                conditions.append(
                    {
                        "code": code,
                        "acute": bool(cleaned.get(f"other_{i}_acute")),
                        "notes": cleaned.get(f"other_{i}_notes") or "",
                    }
                )
                fields.append(f"other_{i}_code")
        payload = codec.payload_from_form(
            cleaned,
            date_of_birth=self.client.date_of_birth.isoformat(),
            conditions=conditions,
        )
        return payload, fields

    def _field_for(self, path: str) -> str | None:
        match = re.match(r"conditions\[(\d+)\]", path)
        if match and int(match.group(1)) < len(self._condition_fields):
            return self._condition_fields[int(match.group(1))]
        return codec.field_for_path(_INDEX.sub("", path))
