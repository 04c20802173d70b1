"""Parse and validate the intake JSON contract (SPEC section 4) into frozen dataclasses.

Pure Python (no Django), shared by `manage.py screen`, imports and the web intake form.

Contract notes:
- Required: date_of_birth, visit_date, planned_modality. `pregnancy`, `recent_illness` and
  `current_pain` may be null or omitted; every list may be empty or omitted; free_text is
  optional.
- Unknown top-level keys are ignored on purpose: scenario and import files carry ids and
  comments. Unknown keys inside the nested objects are ignored as well.
- Modality, region and red-flag names are normalised to catalogue codes (case-insensitive;
  spaces and hyphens count as underscores; `also_called` aliases accepted). Unknown names
  are rejected, listing the known codes.
- Condition codes are kept even when the catalogue does not know them (the engine reports
  them as "not in the catalogue, review"); they are normalised like the other codes.
  A condition may also be given as a bare string, shorthand for {"code": ...}.
- A condition's `acute` defaults to false; current_pain.character defaults to "none",
  current_pain.radiating to false; recent_illness.recovered_on may be null (still ill).
- Strings may not contain NUL or other control characters (tab and newlines are fine);
  markup is plain text here and is escaped wherever it is shown.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from screening.catalogue import Catalogue, get_catalogue, normalise_code

MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 500
MAX_NOTES_CHARS = 2_000
MAX_FREE_TEXT_CHARS = 20_000
MAX_AGE_YEARS = 120
MAX_PREGNANCY_WEEKS = 45
# A due date further away than a full term (280 days) cannot belong to a current pregnancy.
MAX_DAYS_TO_DUE_DATE = 280
PAIN_CHARACTERS = ("dull", "sharp", "throbbing", "stiffness", "none")

_PAIN_KEYS = ("score", "regions", "character", "radiating")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class IntakeError(ValueError):
    """Raise for invalid intake input; `path` names the field, `reason` says what is wrong."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Condition:
    code: str
    acute: bool = False
    notes: str = ""


@dataclass(frozen=True)
class Pregnancy:
    pregnant: bool
    due_date: dt.date | None = None
    weeks: int | None = None


@dataclass(frozen=True)
class RecentIllness:
    name: str = ""
    recovered_on: dt.date | None = None


@dataclass(frozen=True)
class CurrentPain:
    score: int
    regions: tuple[str, ...] = ()
    character: str = "none"
    radiating: bool = False


@dataclass(frozen=True)
class IntakeData:
    date_of_birth: dt.date
    visit_date: dt.date
    planned_modality: str
    focus_regions: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    pregnancy: Pregnancy | None = None
    medications: tuple[str, ...] = ()
    recent_illness: RecentIllness | None = None
    current_pain: CurrentPain | None = None
    red_flags: tuple[str, ...] = ()
    allergies: tuple[str, ...] = ()
    free_text: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the canonical intake JSON (every key present, codes normalised)."""
        return {
            "date_of_birth": self.date_of_birth.isoformat(),
            "visit_date": self.visit_date.isoformat(),
            "planned_modality": self.planned_modality,
            "focus_regions": list(self.focus_regions),
            "conditions": [
                {"code": c.code, "acute": c.acute, "notes": c.notes} for c in self.conditions
            ],
            "pregnancy": None
            if self.pregnancy is None
            else {
                "pregnant": self.pregnancy.pregnant,
                "due_date": _iso(self.pregnancy.due_date),
                "weeks": self.pregnancy.weeks,
            },
            "medications": list(self.medications),
            "recent_illness": None
            if self.recent_illness is None
            else {
                "name": self.recent_illness.name,
                "recovered_on": _iso(self.recent_illness.recovered_on),
            },
            "current_pain": None
            if self.current_pain is None
            else {
                "score": self.current_pain.score,
                "regions": list(self.current_pain.regions),
                "character": self.current_pain.character,
                "radiating": self.current_pain.radiating,
            },
            "red_flags": list(self.red_flags),
            "allergies": list(self.allergies),
            "free_text": self.free_text,
        }


def parse_intake_json(text: str | bytes, *, today: dt.date | None = None) -> IntakeData:
    """Parse intake JSON text; invalid JSON raises IntakeError like any other bad input."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise IntakeError("intake", f"invalid JSON ({reason})") from None
    return parse_intake(obj, today=today)


def parse_intake(
    obj: Any, *, today: dt.date | None = None, catalogue: Catalogue | None = None
) -> IntakeData:
    """Validate a decoded intake object and return IntakeData; raise IntakeError if invalid."""
    if not isinstance(obj, dict):
        raise IntakeError("intake", "must be a JSON object")
    cat = catalogue or get_catalogue()
    today = today or dt.date.today()

    visit_date = _date(_required(obj, "visit_date"), "visit_date")
    date_of_birth = _date(_required(obj, "date_of_birth"), "date_of_birth")
    if date_of_birth > visit_date:
        raise IntakeError("date_of_birth", "must not be after the visit date")
    if date_of_birth > today:
        raise IntakeError("date_of_birth", "must not be in the future")
    if _years_between(date_of_birth, visit_date) > MAX_AGE_YEARS:
        raise IntakeError("date_of_birth", f"more than {MAX_AGE_YEARS} years before the visit")

    modality_name = _string(_required(obj, "planned_modality"), "planned_modality")
    planned_modality = cat.normalise_modality(modality_name)
    if planned_modality is None:
        known = ", ".join(cat.modality_codes)
        raise IntakeError(
            "planned_modality", f"unknown modality {modality_name!r} (known: {known})"
        )

    return IntakeData(
        date_of_birth=date_of_birth,
        visit_date=visit_date,
        planned_modality=planned_modality,
        focus_regions=_regions(obj.get("focus_regions"), "focus_regions", cat),
        conditions=_conditions(obj.get("conditions")),
        pregnancy=_pregnancy(obj.get("pregnancy"), visit_date),
        medications=_string_list(obj.get("medications"), "medications"),
        recent_illness=_recent_illness(obj.get("recent_illness")),
        current_pain=_current_pain(obj.get("current_pain"), cat),
        red_flags=_red_flags(obj.get("red_flags"), cat),
        allergies=_string_list(obj.get("allergies"), "allergies"),
        free_text=_text(obj.get("free_text"), "free_text", MAX_FREE_TEXT_CHARS),
    )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _required(obj: dict[str, Any], key: str) -> Any:
    if obj.get(key) is None:
        raise IntakeError(key, "is required")
    return obj[key]


def _years_between(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _date(value: Any, path: str) -> dt.date:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise IntakeError(path, "must be a date in YYYY-MM-DD format")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise IntakeError(path, f"{value!r} is not a valid date") from None


def _optional_date(value: Any, path: str) -> dt.date | None:
    return None if value is None else _date(value, path)


def _bool(value: Any, path: str, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise IntakeError(path, "must be true or false")
    return value


def _string(value: Any, path: str, limit: int = MAX_ITEM_CHARS, *, blank: bool = False) -> str:
    if not isinstance(value, str):
        raise IntakeError(path, "must be a string")
    if len(value) > limit:
        raise IntakeError(path, f"too long ({len(value)} characters, at most {limit})")
    if _CONTROL_CHARS.search(value):
        raise IntakeError(path, "must not contain NUL or other control characters")
    value = value.strip()
    if not value and not blank:
        raise IntakeError(path, "must not be empty")
    return value


def _text(value: Any, path: str, limit: int) -> str:
    return "" if value is None else _string(value, path, limit, blank=True)


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise IntakeError(path, "must be a list")
    if len(value) > MAX_LIST_ITEMS:
        raise IntakeError(path, f"too many items ({len(value)}, at most {MAX_LIST_ITEMS})")
    return value


def _object(value: Any, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise IntakeError(path, "must be an object or null")
    return value


def _string_list(value: Any, path: str) -> tuple[str, ...]:
    return tuple(_string(item, f"{path}[{i}]") for i, item in enumerate(_list(value, path)))


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _regions(value: Any, path: str, cat: Catalogue) -> tuple[str, ...]:
    codes = []
    for i, item in enumerate(_list(value, path)):
        name = _string(item, f"{path}[{i}]")
        code = cat.normalise_region(name)
        if code is None:
            known = ", ".join(r.code for r in cat.intake_regions)
            raise IntakeError(f"{path}[{i}]", f"unknown region {name!r} (known: {known})")
        codes.append(code)
    return _dedupe(codes)


def _red_flags(value: Any, cat: Catalogue) -> tuple[str, ...]:
    codes = []
    for i, item in enumerate(_list(value, "red_flags")):
        name = _string(item, f"red_flags[{i}]")
        code = cat.normalise_red_flag(name)
        if code is None:
            # Rejected rather than dropped: a red flag we cannot read must not vanish.
            known = ", ".join(f.code for f in cat.intake_red_flags)
            raise IntakeError(f"red_flags[{i}]", f"unknown red flag {name!r} (known: {known})")
        codes.append(code)
    return _dedupe(codes)


def _conditions(value: Any) -> tuple[Condition, ...]:
    conditions = []
    for i, item in enumerate(_list(value, "conditions")):
        path = f"conditions[{i}]"
        if isinstance(item, str):
            item = {"code": item}
        if not isinstance(item, dict):
            raise IntakeError(path, "must be an object with a code")
        code = _string(_required_in(item, "code", path), f"{path}.code")
        conditions.append(
            Condition(
                code=normalise_code(code),
                acute=_bool(item.get("acute"), f"{path}.acute"),
                notes=_text(item.get("notes"), f"{path}.notes", MAX_NOTES_CHARS),
            )
        )
    return tuple(conditions)


def _required_in(obj: dict[str, Any], key: str, path: str) -> Any:
    if obj.get(key) is None:
        raise IntakeError(f"{path}.{key}", "is required")
    return obj[key]


def _int(value: Any, path: str, low: int, high: int, what: str = "an integer") -> int:
    # bool is an int subclass in Python, but true is not a pain score.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise IntakeError(path, f"must be {what} from {low} to {high}")
    return value


def _pregnancy(value: Any, visit_date: dt.date) -> Pregnancy | None:
    obj = _object(value, "pregnancy")
    if obj is None or all(obj.get(k) is None for k in ("pregnant", "due_date", "weeks")):
        return None
    pregnant = _bool(_required_in(obj, "pregnant", "pregnancy"), "pregnancy.pregnant")
    due_date = _optional_date(obj.get("due_date"), "pregnancy.due_date")
    weeks = obj.get("weeks")
    if weeks is not None:
        weeks = _int(weeks, "pregnancy.weeks", 0, MAX_PREGNANCY_WEEKS, "a whole number of weeks")
    if due_date is not None and (due_date - visit_date).days > MAX_DAYS_TO_DUE_DATE:
        raise IntakeError("pregnancy.due_date", "more than 40 weeks after the visit date")
    return Pregnancy(pregnant=pregnant, due_date=due_date, weeks=weeks)


def _recent_illness(value: Any) -> RecentIllness | None:
    obj = _object(value, "recent_illness")
    # {"name": null, "recovered_on": null} is how some forms say "no recent illness".
    if obj is None or all(obj.get(k) in (None, "") for k in ("name", "recovered_on")):
        return None
    return RecentIllness(
        name=_text(obj.get("name"), "recent_illness.name", MAX_ITEM_CHARS),
        recovered_on=_optional_date(obj.get("recovered_on"), "recent_illness.recovered_on"),
    )


def _current_pain(value: Any, cat: Catalogue) -> CurrentPain | None:
    obj = _object(value, "current_pain")
    if obj is None or all(obj.get(k) in (None, [], False) for k in _PAIN_KEYS):
        return None
    score = _int(_required_in(obj, "score", "current_pain"), "current_pain.score", 0, 10)
    character = obj.get("character")
    if character is None:
        character = "none"
    elif not isinstance(character, str) or character.strip().lower() not in PAIN_CHARACTERS:
        raise IntakeError("current_pain.character", f"must be one of {'|'.join(PAIN_CHARACTERS)}")
    return CurrentPain(
        score=score,
        regions=_regions(obj.get("regions"), "current_pain.regions", cat),
        character=character.strip().lower(),
        radiating=_bool(obj.get("radiating"), "current_pain.radiating"),
    )
