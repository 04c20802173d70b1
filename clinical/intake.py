"""The intake JSON contract (SPEC section 4): parse and validate it into frozen dataclasses.

Pure Python (no Django), shared by `manage.py screen`, imports, the staff intake form and the
client's own form; the screening engine reads the IntakeData it returns.

Contract notes:
- Required: date_of_birth, visit_date, planned_modality. `pregnancy`, `recent_illness` and
  `current_pain` may be null or omitted; every list may be empty or omitted; free_text is
  optional.
- Unknown top-level keys are ignored on purpose: scenario and import files carry ids and
  comments. Unknown keys inside the nested objects are ignored as well.
- Modality, region and red-flag names are normalised to vocabulary codes (case-insensitive;
  spaces and hyphens count as underscores; `also_called` aliases accepted). Unknown names
  are rejected, listing the known codes.
- Condition codes are kept even when the catalogue does not know them (the engine reports
  them for review); they are normalised like the other codes. A condition may also be given
  as a bare string, shorthand for {"code": ...}.
- A condition's `acute` defaults to false; current_pain.character defaults to "none",
  current_pain.radiating to false; recent_illness.recovered_on may be null (still ill).
- Strings may not contain NUL or other control characters (tab and newlines are fine);
  markup is plain text here and is escaped wherever it is shown.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinical import vocabulary
from clinical.vocabulary import normalise_code

MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 500
MAX_NOTES_CHARS = 2_000
MAX_FREE_TEXT_CHARS = 20_000
MAX_AGE_YEARS = 120
MAX_PREGNANCY_WEEKS = 45
# A due date further away than a full term (280 days) cannot belong to a current pregnancy.
MAX_DAYS_TO_DUE_DATE = 280
PAIN_CHARACTERS = vocabulary.PAIN_CHARACTER_CODES

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The codes an error about an unknown name lists, built once (every intake parses two
# region lists).
_KNOWN_REGIONS = ", ".join(r.code for r in vocabulary.REGIONS)
_KNOWN_RED_FLAGS = ", ".join(f.code for f in vocabulary.INTAKE_RED_FLAGS)
# current_pain values that mean "nothing to report" (0 == False, so a lone score of 0 too).
_EMPTY_PAIN_VALUES = (None, [], False)


class IntakeError(ValueError):
    """Raise for invalid intake input; `path` names the field, `reason` says what is wrong.

    `reason` is English and part of the public contract (`manage.py screen` prints it).
    `code` names the problem and `params` holds the values its reason was built from, so
    that a page can say the same in the reader's language; a page shows an error without a
    code by its English reason.
    """

    def __init__(
        self, path: str, reason: str, *, code: str = "", params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.code = code
        self.params = params or {}


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
        pregnancy, illness, pain = self.pregnancy, self.recent_illness, self.current_pain
        return {
            "date_of_birth": self.date_of_birth.isoformat(),
            "visit_date": self.visit_date.isoformat(),
            "planned_modality": self.planned_modality,
            "focus_regions": list(self.focus_regions),
            "conditions": [
                {"code": c.code, "acute": c.acute, "notes": c.notes} for c in self.conditions
            ],
            "pregnancy": None
            if pregnancy is None
            else {
                "pregnant": pregnancy.pregnant,
                "due_date": _iso(pregnancy.due_date),
                "weeks": pregnancy.weeks,
            },
            "medications": list(self.medications),
            "recent_illness": None
            if illness is None
            else {"name": illness.name, "recovered_on": _iso(illness.recovered_on)},
            "current_pain": None
            if pain is None
            else {
                "score": pain.score,
                "regions": list(pain.regions),
                "character": pain.character,
                "radiating": pain.radiating,
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
        raise IntakeError(
            "intake", f"invalid JSON ({reason})", code="invalid_json", params={"detail": reason}
        ) from None
    return parse_intake(obj, today=today)


def parse_intake(obj: Any, *, today: dt.date | None = None) -> IntakeData:
    """Validate a decoded intake object and return IntakeData; raise IntakeError if invalid.

    Fields are checked in the order of IntakeData, so the first error reported is the first
    bad field.
    """
    if not isinstance(obj, dict):
        raise IntakeError("intake", "must be a JSON object", code="not_an_object")
    today = today or dt.date.today()
    visit_date = _date(obj.get("visit_date"), "visit_date")
    date_of_birth = _date(obj.get("date_of_birth"), "date_of_birth")
    if date_of_birth > visit_date:
        raise IntakeError(
            "date_of_birth", "must not be after the visit date", code="born_after_visit"
        )
    if date_of_birth > today:
        raise IntakeError("date_of_birth", "must not be in the future", code="in_the_future")
    if _years_between(date_of_birth, visit_date) > MAX_AGE_YEARS:
        raise IntakeError(
            "date_of_birth",
            f"more than {MAX_AGE_YEARS} years before the visit",
            code="too_old",
            params={"years": MAX_AGE_YEARS},
        )
    return IntakeData(
        date_of_birth=date_of_birth,
        visit_date=visit_date,
        planned_modality=_modality(obj.get("planned_modality")),
        focus_regions=_regions(obj.get("focus_regions"), "focus_regions"),
        conditions=tuple(
            _condition(item, f"conditions[{i}]")
            for i, item in enumerate(_list(obj.get("conditions"), "conditions"))
        ),
        pregnancy=_pregnancy(obj.get("pregnancy"), visit_date),
        medications=_string_list(obj.get("medications"), "medications"),
        recent_illness=_recent_illness(obj.get("recent_illness")),
        current_pain=_current_pain(obj.get("current_pain")),
        red_flags=_red_flags(obj.get("red_flags")),
        allergies=_string_list(obj.get("allergies"), "allergies"),
        free_text=_text(obj.get("free_text"), "free_text", MAX_FREE_TEXT_CHARS),
    )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _years_between(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _date(value: Any, path: str) -> dt.date:
    if value is None:
        raise IntakeError(path, "is required", code="required")
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise IntakeError(path, "must be a date in YYYY-MM-DD format", code="date_format")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise IntakeError(
            path, f"{value!r} is not a valid date", code="invalid_date", params={"value": value}
        ) from None


def _optional_date(value: Any, path: str) -> dt.date | None:
    return None if value is None else _date(value, path)


def _bool(value: Any, path: str) -> bool:
    """Return a true/false field, false when absent."""
    if value is True or value is False:
        return value
    if value is None:
        return False
    raise IntakeError(path, "must be true or false", code="not_true_or_false")


def _string(value: Any, path: str, limit: int = MAX_ITEM_CHARS, *, blank: bool = False) -> str:
    if not isinstance(value, str):
        raise IntakeError(path, "must be a string", code="not_a_string")
    if len(value) > limit:
        raise IntakeError(
            path,
            f"too long ({len(value)} characters, at most {limit})",
            code="too_long",
            params={"length": len(value), "limit": limit},
        )
    if _CONTROL_CHARS.search(value):
        raise IntakeError(
            path, "must not contain NUL or other control characters", code="control_characters"
        )
    value = value.strip()
    if not value and not blank:
        raise IntakeError(path, "must not be empty", code="empty")
    return value


def _text(value: Any, path: str, limit: int) -> str:
    return "" if value is None else _string(value, path, limit, blank=True)


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise IntakeError(path, "must be a list", code="not_a_list")
    if len(value) > MAX_LIST_ITEMS:
        raise IntakeError(
            path,
            f"too many items ({len(value)}, at most {MAX_LIST_ITEMS})",
            code="too_many_items",
            params={"count": len(value), "limit": MAX_LIST_ITEMS},
        )
    return value


def _string_list(value: Any, path: str) -> tuple[str, ...]:
    return tuple(_string(item, f"{path}[{i}]") for i, item in enumerate(_list(value, path)))


def _modality(name: Any) -> str:
    if name is None:
        raise IntakeError("planned_modality", "is required", code="required")
    name = _string(name, "planned_modality")
    code = vocabulary.normalise_modality(name)
    if code is None:
        known = ", ".join(vocabulary.MODALITY_CODES)
        raise IntakeError(
            "planned_modality",
            f"unknown modality {name!r} (known: {known})",
            code="unknown_modality",
            params={"value": name, "known": known},
        )
    return code


def _regions(value: Any, path: str) -> tuple[str, ...]:
    return _vocabulary_codes(
        value,
        path,
        vocabulary.normalise_region,
        what="region",
        code="unknown_region",
        known=_KNOWN_REGIONS,
    )


def _red_flags(value: Any) -> tuple[str, ...]:
    # Rejected rather than dropped: a red flag we cannot read must not vanish.
    return _vocabulary_codes(
        value,
        "red_flags",
        vocabulary.normalise_intake_red_flag,
        what="red flag",
        code="unknown_red_flag",
        known=_KNOWN_RED_FLAGS,
    )


def _vocabulary_codes(
    value: Any,
    path: str,
    normalise: Callable[[str], str | None],
    *,
    what: str,
    code: str,
    known: str,
) -> tuple[str, ...]:
    """Return the codes of a list of vocabulary names, each once.

    An unknown name is an error `code` saying `what` it should be and the `known` codes.
    """
    codes: dict[str, None] = {}
    for i, item in enumerate(_list(value, path)):
        name = _string(item, f"{path}[{i}]")
        found = normalise(name)
        if found is None:
            raise IntakeError(
                f"{path}[{i}]",
                f"unknown {what} {name!r} (known: {known})",
                code=code,
                params={"value": name, "known": known},
            )
        codes[found] = None
    return tuple(codes)


def _condition(item: Any, path: str) -> Condition:
    if isinstance(item, str):
        item = {"code": item}
    if not isinstance(item, dict):
        raise IntakeError(path, "must be an object with a code", code="not_a_condition")
    code = item.get("code")
    if code is None:
        raise IntakeError(f"{path}.code", "is required", code="required")
    return Condition(
        code=normalise_code(_string(code, f"{path}.code")),
        acute=_bool(item.get("acute"), f"{path}.acute"),
        notes=_text(item.get("notes"), f"{path}.notes", MAX_NOTES_CHARS),
    )


def _int(value: Any, path: str, low: int, high: int, *, what: str, code: str) -> int:
    """Return a whole number from low to high; `what` and `code` word the error otherwise."""
    # bool is an int subclass in Python, but true is not a pain score.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise IntakeError(
            path,
            f"must be {what} from {low} to {high}",
            code=code,
            params={"low": low, "high": high},
        )
    return value


def _pregnancy(value: Any, visit_date: dt.date) -> Pregnancy | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise IntakeError("pregnancy", "must be an object or null", code="not_an_object_or_null")
    pregnant, due_date, weeks = value.get("pregnant"), value.get("due_date"), value.get("weeks")
    if pregnant is None and due_date is None and weeks is None:
        return None
    if pregnant is None:
        raise IntakeError("pregnancy.pregnant", "is required", code="required")
    if pregnant is not True and pregnant is not False:
        raise IntakeError("pregnancy.pregnant", "must be true or false", code="not_true_or_false")
    if due_date is not None:
        due_date = _date(due_date, "pregnancy.due_date")
    if weeks is not None:
        weeks = _int(
            weeks,
            "pregnancy.weeks",
            0,
            MAX_PREGNANCY_WEEKS,
            what="a whole number of weeks",
            code="weeks_out_of_range",
        )
    if due_date is not None and (due_date - visit_date).days > MAX_DAYS_TO_DUE_DATE:
        raise IntakeError(
            "pregnancy.due_date",
            "more than 40 weeks after the visit date",
            code="due_date_too_far",
        )
    return Pregnancy(pregnant=pregnant, due_date=due_date, weeks=weeks)


def _recent_illness(value: Any) -> RecentIllness | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise IntakeError(
            "recent_illness", "must be an object or null", code="not_an_object_or_null"
        )
    name, recovered_on = value.get("name"), value.get("recovered_on")
    # {"name": null, "recovered_on": null} is how some forms say "no recent illness".
    if name in (None, "") and recovered_on in (None, ""):
        return None
    return RecentIllness(
        name=_text(name, "recent_illness.name", MAX_ITEM_CHARS),
        recovered_on=_optional_date(recovered_on, "recent_illness.recovered_on"),
    )


def _current_pain(value: Any) -> CurrentPain | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise IntakeError("current_pain", "must be an object or null", code="not_an_object_or_null")
    score, regions = value.get("score"), value.get("regions")
    character, radiating = value.get("character"), value.get("radiating")
    # A character of "none" with nothing else is how forms say "no pain" too.
    if all(v in _EMPTY_PAIN_VALUES for v in (score, regions, radiating)) and character in (
        *_EMPTY_PAIN_VALUES,
        "none",
    ):
        return None
    if score is None:
        raise IntakeError("current_pain.score", "is required", code="required")
    score = _int(score, "current_pain.score", 0, 10, what="an integer", code="out_of_range")
    if character is None:
        character = "none"
    elif isinstance(character, str) and character.strip().lower() in PAIN_CHARACTERS:
        character = character.strip().lower()
    else:
        choices = "|".join(PAIN_CHARACTERS)
        raise IntakeError(
            "current_pain.character",
            f"must be one of {choices}",
            code="not_one_of",
            params={"choices": choices},
        )
    return CurrentPain(
        score=score,
        regions=_regions(regions, "current_pain.regions"),
        character=character,
        radiating=_bool(radiating, "current_pain.radiating"),
    )
