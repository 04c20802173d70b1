"""The one map between the intake JSON contract, the Intake model and the intake forms.

Each stored field of an Intake is listed once below with its place in the contract (a path
such as `pregnancy.weeks`), its section of the health form, its kind, and how a form asks
for it. `Intake.from_data`, `Intake.to_payload`, the staff intake form (initial values,
the payload it screens, where an error is shown), the client's own form and the admin all
read this table.

Adding a field to the intake is therefore three small edits, each in its obvious place:
the contract (`clinical/intake.py`: the dataclass attribute and its check), one `Field`
line here, and the model field with its migration. Everything else follows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from clinical.intake import IntakeData

# Kinds of value, and how each is held in JSON, in the model and in a form field.
DATE = "date"  # JSON "YYYY-MM-DD"; model DateField; form DateField
TEXT = "text"  # JSON string; model CharField/TextField; form CharField
LINES = "lines"  # JSON list of strings; model JSONField; form Textarea, one per line
CODES = "codes"  # JSON list of vocabulary codes; model JSONField; form multiple choice
CODE = "code"  # JSON vocabulary code or absent; model CharField ("" when absent)
BOOL = "bool"
INT = "int"
CONDITIONS = "conditions"  # JSON list of {code, acute, notes}; the form has its own grid

# Sections of the health form, in the order a client meets them (the client's own form
# shows one a step).
SECTIONS = (
    ("plan", "Your visit"),
    ("conditions", "Conditions"),
    ("pregnancy", "Pregnancy"),
    ("medications", "Medicines"),
    ("recent_illness", "Recent illness"),
    ("pain", "Pain now"),
    ("warning_signs", "Warning signs"),
    ("allergies", "Allergies"),
    ("anything_else", "Anything else"),
)


@dataclass(frozen=True)
class Field:
    """One stored field of an intake: model/form name, contract path, section, kind."""

    name: str
    path: str
    section: str
    kind: str
    label: str
    vocabulary: str | None = None  # clinical.vocabulary kind for CODE/CODES
    on_form: bool = True  # date_of_birth comes from the client record, not the form

    @property
    def group(self) -> str | None:
        """Return the contract object this field sits in (`pregnancy`), or None."""
        return self.path.split(".")[0] if "." in self.path else None

    def to_json(self, value: Any) -> Any:
        """Return a model value as the contract holds it."""
        if self.kind == DATE:
            return value.isoformat() if value else None
        if self.kind in (LINES, CODES):
            return list(value or [])
        if self.kind == CONDITIONS:
            return [dict(item) for item in value or []]
        if self.kind == CODE:
            return value or None
        return value

    def from_json(self, value: Any) -> Any:
        """Return a contract value (canonical, already checked) as the model holds it."""
        if self.kind == DATE:
            return dt.date.fromisoformat(value) if value else None
        if self.kind in (LINES, CODES, CONDITIONS):
            return list(value or [])
        if self.kind in (TEXT, CODE):
            return value or ""
        if self.kind == BOOL:
            return bool(value)
        return value

    def to_form(self, value: Any) -> Any:
        """Return a model value as the form field shows it."""
        if self.kind == LINES:
            return "\n".join(value or [])
        if self.kind == CODES:
            return list(value or [])
        return value

    def from_form(self, value: Any) -> Any:
        """Return a cleaned form value as the contract takes it."""
        if self.kind == DATE:
            return value.isoformat() if value else None
        if self.kind == LINES:
            return [line.strip() for line in (value or "").splitlines() if line.strip()]
        if self.kind == CODES:
            return list(value or [])
        if self.kind == CODE:
            return value or None
        if self.kind == BOOL:
            return bool(value)
        if self.kind == TEXT:
            return value or ""
        return value


FIELDS: tuple[Field, ...] = (
    Field("date_of_birth", "date_of_birth", "plan", DATE, "Date of birth", on_form=False),
    Field("visit_date", "visit_date", "plan", DATE, "Visit date"),
    Field("planned_modality", "planned_modality", "plan", CODE, "Planned massage", "modality"),
    Field("focus_regions", "focus_regions", "plan", CODES, "Areas to work on", "region"),
    Field("conditions", "conditions", "conditions", CONDITIONS, "Conditions"),
    Field("pregnant", "pregnancy.pregnant", "pregnancy", BOOL, "Pregnant"),
    Field("pregnancy_weeks", "pregnancy.weeks", "pregnancy", INT, "Weeks of pregnancy"),
    Field("pregnancy_due_date", "pregnancy.due_date", "pregnancy", DATE, "Due date"),
    Field("medications", "medications", "medications", LINES, "Medicines"),
    Field("recent_illness_name", "recent_illness.name", "recent_illness", TEXT, "Recent illness"),
    Field(
        "recent_illness_recovered_on",
        "recent_illness.recovered_on",
        "recent_illness",
        DATE,
        "Recovered on",
    ),
    Field("pain_score", "current_pain.score", "pain", INT, "Pain now (0-10)"),
    Field("pain_regions", "current_pain.regions", "pain", CODES, "Where it hurts", "region"),
    Field(
        "pain_character", "current_pain.character", "pain", CODE, "Kind of pain", "pain_character"
    ),
    Field("pain_radiating", "current_pain.radiating", "pain", BOOL, "The pain spreads"),
    Field("red_flags", "red_flags", "warning_signs", CODES, "Warning signs", "intake_red_flag"),
    Field("allergies", "allergies", "allergies", LINES, "Allergies"),
    Field("free_text", "free_text", "anything_else", TEXT, "Anything else"),
)
BY_NAME = {field.name: field for field in FIELDS}
BY_PATH = {field.path: field for field in FIELDS}
# A contract object is present when this field of it says so; otherwise it is null.
GROUP_PRESENT = {
    "pregnancy": "pregnant",
    "recent_illness": ("recent_illness_name", "recent_illness_recovered_on"),
    "current_pain": "pain_score",
}
# Where an error about a whole object (`pregnancy: must be ...`) is shown on a form.
GROUP_FIELDS = {"pregnancy": "pregnant", "recent_illness": "recent_illness_name"}
GROUP_FIELDS["current_pain"] = "pain_score"


def form_fields() -> tuple[Field, ...]:
    """Return the fields a health form asks for (all but those from the client record)."""
    return tuple(field for field in FIELDS if field.on_form)


def section_fields(section: str) -> tuple[Field, ...]:
    """Return the fields of one section of the health form, in order."""
    return tuple(field for field in FIELDS if field.section == section)


def model_values(data: IntakeData) -> dict[str, Any]:
    """Return the Intake model's field values for a parsed intake."""
    payload = data.to_dict()
    return {field.name: field.from_json(_get(payload, field.path)) for field in FIELDS}


def payload_from_model(intake: Any) -> dict[str, Any]:
    """Return a stored intake (anything with the model's attributes) as contract JSON."""
    return _payload((field, field.to_json(getattr(intake, field.name))) for field in FIELDS)


def payload_from_form(cleaned: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Return the contract JSON for a health form's cleaned values (plus `extra` keys)."""
    values = (
        (field, field.from_form(cleaned.get(field.name)))
        for field in form_fields()
        if field.kind != CONDITIONS
    )
    return {**_payload(values, drop_empty_groups=False), **extra}


def form_initial(intake: Any) -> dict[str, Any]:
    """Return a health form's initial values from a stored intake (conditions excepted)."""
    return {
        field.name: field.to_form(getattr(intake, field.name))
        for field in form_fields()
        if field.kind != CONDITIONS
    }


def field_for_path(path: str) -> str | None:
    """Return the form field that shows an error at a contract path (`pregnancy.weeks`)."""
    field = BY_PATH.get(path)
    if field is not None:
        return field.name if field.on_form else None
    return GROUP_FIELDS.get(path)


def _payload(values: Iterable[tuple[Field, Any]], *, drop_empty_groups: bool = True) -> dict:
    payload: dict[str, Any] = {}
    for field, value in values:
        group = field.group
        if group is None:
            payload[field.path] = value
        else:
            payload.setdefault(group, {})[field.path.split(".", 1)[1]] = value
    if drop_empty_groups:
        for group, present in GROUP_PRESENT.items():
            if group in payload and not _present(payload[group], present):
                payload[group] = None
    return payload


def _present(values: dict[str, Any], present: str | tuple[str, ...]) -> bool:
    names = (present,) if isinstance(present, str) else present
    keys = (BY_NAME[name].path.split(".", 1)[1] for name in names)
    # Identity, not equality: a pain score of 0 is present (0 == False in Python).
    return any(
        not (values.get(key) is None or values.get(key) is False or values.get(key) == "")
        for key in keys
    )


def _get(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
