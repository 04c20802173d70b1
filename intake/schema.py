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
import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

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

# current_pain values that mean "nothing to report" (0 == False, so a lone score of 0 too).
_EMPTY_PAIN_VALUES = (None, [], False)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Looked up once: these run for every intake (see _date and _frozen).
_from_iso = dt.date.fromisoformat
_new_object = object.__new__
_set_attribute = object.__setattr__
_T = TypeVar("_T")


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
    """Validate a decoded intake object and return IntakeData; raise IntakeError if invalid.

    Every intake screened goes through here, so the common valid case takes fast paths:
    exact-type checks, catalogue spellings looked up in precomputed tables, and no regex for
    text that is plainly printable. Anything a fast path does not accept goes the long way,
    which is where every error message is made; the fast paths only ever return what the
    long way would.
    """
    if not isinstance(obj, dict):
        raise IntakeError("intake", "must be a JSON object")
    cat = catalogue or get_catalogue()
    spellings = _spellings(cat)
    today = today or dt.date.today()
    get = obj.get

    visit_date = _date(get("visit_date"), "visit_date")
    date_of_birth = _date(get("date_of_birth"), "date_of_birth")
    if date_of_birth > visit_date:
        raise IntakeError("date_of_birth", "must not be after the visit date")
    if date_of_birth > today:
        raise IntakeError("date_of_birth", "must not be in the future")
    # The whole-year gap bounds the age from above, so the exact age is needed only near it.
    if (
        visit_date.year - date_of_birth.year > MAX_AGE_YEARS
        and _years_between(date_of_birth, visit_date) > MAX_AGE_YEARS
    ):
        raise IntakeError("date_of_birth", f"more than {MAX_AGE_YEARS} years before the visit")

    modality_name = get("planned_modality")
    planned_modality = (
        spellings.modalities.get(modality_name) if type(modality_name) is str else None
    )
    if planned_modality is None:
        planned_modality = _modality(modality_name, cat)

    # Keyword order of IntakeData, which is also the order fields are checked in.
    return _frozen(
        IntakeData,
        {
            "date_of_birth": date_of_birth,
            "visit_date": visit_date,
            "planned_modality": planned_modality,
            "focus_regions": _regions(get("focus_regions"), "focus_regions", cat, spellings),
            "conditions": _conditions(get("conditions")),
            "pregnancy": _pregnancy(get("pregnancy"), visit_date),
            "medications": _string_list(get("medications"), "medications"),
            "recent_illness": _recent_illness(get("recent_illness")),
            "current_pain": _current_pain(get("current_pain"), cat, spellings),
            "red_flags": _red_flags(get("red_flags"), cat, spellings),
            "allergies": _string_list(get("allergies"), "allergies"),
            "free_text": _text(get("free_text"), "free_text", MAX_FREE_TEXT_CHARS),
        },
    )


def _frozen(cls: type[_T], fields: dict[str, Any]) -> _T:
    """Return an instance of the frozen dataclass `cls` holding `fields` (every field, in order).

    The same object as cls(**fields) (these dataclasses have no __post_init__), but the
    generated __init__ of a frozen dataclass pays one object.__setattr__ per field, which made
    building them one of the largest costs of parsing.
    """
    instance = _new_object(cls)
    _set_attribute(instance, "__dict__", fields)
    return instance


class _Spellings(NamedTuple):
    """Catalogue names exactly as clients send them, mapped to their codes."""

    modalities: dict[str, str]
    regions: dict[str, str]
    red_flags: dict[str, str]


# Keyed by catalogue identity; a few entries cover the app's catalogue and tests' own ones.
@functools.lru_cache(maxsize=8)
def _spellings(cat: Catalogue) -> _Spellings:
    """Return the exact-spelling tables for a catalogue (built once per catalogue)."""
    return _Spellings(
        modalities=_exact_spellings(
            cat.normalise_modality, (n for m in cat.modalities for n in (m.code, *m.also_called))
        ),
        regions=_exact_spellings(
            cat.normalise_region, (n for r in cat.intake_regions for n in (r.code, *r.also_called))
        ),
        red_flags=_exact_spellings(
            cat.normalise_red_flag,
            (n for f in cat.intake_red_flags for n in (f.code, *f.also_called)),
        ),
    )


def _exact_spellings(
    normalise: Callable[[str], str | None], names: Iterable[str]
) -> dict[str, str]:
    """Map each name and its code form to the code the long way would give it.

    Only spellings that _string returns unchanged (non-empty, stripped, printable, short) are
    kept, so a hit in the table is exactly what _string plus `normalise` would return.
    """
    table = {}
    for name in names:
        for spelling in (name, normalise_code(name)):
            code = normalise(spelling)
            if (
                code is not None
                and spelling
                and spelling == spelling.strip()
                and spelling.isprintable()
                and len(spelling) <= MAX_ITEM_CHARS
            ):
                table[spelling] = code
    return table


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _years_between(start: dt.date, end: dt.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _date(value: Any, path: str) -> dt.date:
    # Fast path: with '-' at 4 and 7 and ten characters, fromisoformat accepts only ASCII
    # YYYY-MM-DD (it counts UTF-8 bytes, so any non-ASCII character fails), which is
    # exactly what the regex below allows. Any failure is checked again below for its reason.
    if type(value) is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return _from_iso(value)
        except ValueError:
            pass
    if value is None:
        raise IntakeError(path, "is required")
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise IntakeError(path, "must be a date in YYYY-MM-DD format")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise IntakeError(path, f"{value!r} is not a valid date") from None


def _optional_date(value: Any, path: str) -> dt.date | None:
    return None if value is None else _date(value, path)


def _bool(value: Any, path: str) -> bool:
    """Return a true/false field, false when absent."""
    if value is True or value is False:
        return value
    if value is None:
        return False
    raise IntakeError(path, "must be true or false")


def _string(value: Any, path: str, limit: int = MAX_ITEM_CHARS, *, blank: bool = False) -> str:
    # Fast path: printable text cannot hold a control character (it cannot hold a tab or
    # newline either, so those take the regex below), and isprintable() is a quick C loop.
    if type(value) is str and len(value) <= limit and value.isprintable():
        stripped = value.strip()
        if stripped or blank:
            return stripped
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
    if type(value) is list and len(value) <= MAX_LIST_ITEMS:
        return value
    if value is None:
        return []
    if not isinstance(value, list):
        raise IntakeError(path, "must be a list")
    if len(value) > MAX_LIST_ITEMS:
        raise IntakeError(path, f"too many items ({len(value)}, at most {MAX_LIST_ITEMS})")
    return value


def _string_list(value: Any, path: str) -> tuple[str, ...]:
    if value is None or value == []:
        return ()
    items = _list(value, path)
    strings = _plain_strings(items)
    if strings is not None:
        return strings
    return tuple(_string(item, f"{path}[{i}]") for i, item in enumerate(items))


def _plain_strings(items: list[Any]) -> tuple[str, ...] | None:
    """Return the items stripped if _string would pass each of them unchanged, else None.

    Checks the whole list at once in C: joining them proves they are all strings, and if
    the joined text is printable and no longer than one item may be, so is each item.
    """
    try:
        joined = "".join(items)
    except TypeError:
        return None
    if len(joined) > MAX_ITEM_CHARS or not joined.isprintable():
        return None
    strings = tuple(map(str.strip, items))
    return strings if all(strings) else None


def _catalogue_codes(items: list[Any], table: dict[str, str]) -> tuple[str, ...] | None:
    """Return the codes if every item is an exact spelling in `table` (deduplicated), else None."""
    try:
        codes = tuple(map(table.get, items))
    except TypeError:  # an unhashable item, such as a list: the full checks report it
        return None
    if None in codes:
        return None
    return codes if len(codes) < 2 else _dedupe(codes)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _modality(name: Any, cat: Catalogue) -> str:
    """Return the code for a planned_modality the spelling table did not know, or raise."""
    if name is None:
        raise IntakeError("planned_modality", "is required")
    name = _string(name, "planned_modality")
    code = cat.normalise_modality(name)
    if code is None:
        known = ", ".join(cat.modality_codes)
        raise IntakeError("planned_modality", f"unknown modality {name!r} (known: {known})")
    return code


def _regions(value: Any, path: str, cat: Catalogue, spellings: _Spellings) -> tuple[str, ...]:
    known = ", ".join(r.code for r in cat.intake_regions)
    return _vocabulary_codes(
        value,
        path,
        spellings.regions,
        cat.normalise_region,
        f"unknown region {{!r}} (known: {known})",
    )


def _red_flags(value: Any, cat: Catalogue, spellings: _Spellings) -> tuple[str, ...]:
    # Rejected rather than dropped: a red flag we cannot read must not vanish.
    known = ", ".join(f.code for f in cat.intake_red_flags)
    return _vocabulary_codes(
        value,
        "red_flags",
        spellings.red_flags,
        cat.normalise_red_flag,
        f"unknown red flag {{!r}} (known: {known})",
    )


def _vocabulary_codes(value: Any, path: str, spellings, normalise, unknown: str) -> tuple[str, ...]:
    """Return the codes of a list of vocabulary names; `unknown` words the error for one."""
    if value is None or value == []:
        return ()
    items = _list(value, path)
    known_codes = _catalogue_codes(items, spellings)
    if known_codes is not None:
        return known_codes
    codes = []
    for i, item in enumerate(items):
        name = _string(item, f"{path}[{i}]")
        code = normalise(name)
        if code is None:
            raise IntakeError(f"{path}[{i}]", unknown.format(name))
        codes.append(code)
    return _dedupe(codes)


def _conditions(value: Any) -> tuple[Condition, ...]:
    if value is None or value == []:
        return ()
    return tuple(
        [
            _condition_fast(item, i) if type(item) is dict else _condition(item, f"conditions[{i}]")
            for i, item in enumerate(_list(value, "conditions"))
        ]
    )


def _condition_fast(item: dict[str, Any], index: int) -> Condition:
    code, acute, notes = item.get("code"), item.get("acute"), item.get("notes")
    # Fast path: a code already in code form (lower-case ASCII letters, digits and '_', so
    # _string and normalise_code both return it unchanged), a boolean and printable notes.
    if (
        type(code) is str
        and len(code) <= MAX_ITEM_CHARS
        and code.isascii()
        and code.isidentifier()
        and code.islower()
        and (acute is True or acute is False or acute is None)
        and (
            notes is None
            or (type(notes) is str and len(notes) <= MAX_NOTES_CHARS and notes.isprintable())
        )
    ):
        return _frozen(
            Condition,
            {"code": code, "acute": acute is True, "notes": notes.strip() if notes else ""},
        )
    return _condition(item, f"conditions[{index}]")


def _condition(item: Any, path: str) -> Condition:
    if isinstance(item, str):
        item = {"code": item}
    if not isinstance(item, dict):
        raise IntakeError(path, "must be an object with a code")
    code = item.get("code")
    if code is None:
        raise IntakeError(f"{path}.code", "is required")
    code = normalise_code(_string(code, f"{path}.code"))
    return _frozen(
        Condition,
        {
            "code": code,
            "acute": _bool(item.get("acute"), f"{path}.acute"),
            "notes": _text(item.get("notes"), f"{path}.notes", MAX_NOTES_CHARS),
        },
    )


def _int(value: Any, path: str, low: int, high: int, what: str = "an integer") -> int:
    if type(value) is int and low <= value <= high:
        return value
    # bool is an int subclass in Python, but true is not a pain score.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise IntakeError(path, f"must be {what} from {low} to {high}")
    return value


def _pregnancy(value: Any, visit_date: dt.date) -> Pregnancy | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise IntakeError("pregnancy", "must be an object or null")
    pregnant, due_date, weeks = value.get("pregnant"), value.get("due_date"), value.get("weeks")
    if pregnant is None and due_date is None and weeks is None:
        return None
    if pregnant is None:
        raise IntakeError("pregnancy.pregnant", "is required")
    if pregnant is not True and pregnant is not False:
        raise IntakeError("pregnancy.pregnant", "must be true or false")
    if due_date is not None:
        due_date = _date(due_date, "pregnancy.due_date")
    if weeks is not None:
        weeks = _int(weeks, "pregnancy.weeks", 0, MAX_PREGNANCY_WEEKS, "a whole number of weeks")
    if due_date is not None and (due_date - visit_date).days > MAX_DAYS_TO_DUE_DATE:
        raise IntakeError("pregnancy.due_date", "more than 40 weeks after the visit date")
    return _frozen(Pregnancy, {"pregnant": pregnant, "due_date": due_date, "weeks": weeks})


def _recent_illness(value: Any) -> RecentIllness | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise IntakeError("recent_illness", "must be an object or null")
    name, recovered_on = value.get("name"), value.get("recovered_on")
    # {"name": null, "recovered_on": null} is how some forms say "no recent illness".
    if name in (None, "") and recovered_on in (None, ""):
        return None
    return _frozen(
        RecentIllness,
        {
            "name": _text(name, "recent_illness.name", MAX_ITEM_CHARS),
            "recovered_on": _optional_date(recovered_on, "recent_illness.recovered_on"),
        },
    )


def _current_pain(value: Any, cat: Catalogue, spellings: _Spellings) -> CurrentPain | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise IntakeError("current_pain", "must be an object or null")
    get = value.get
    score, regions, character, radiating = (
        get("score"),
        get("regions"),
        get("character"),
        get("radiating"),
    )
    if (
        score in _EMPTY_PAIN_VALUES
        and regions in _EMPTY_PAIN_VALUES
        and character in _EMPTY_PAIN_VALUES
        and radiating in _EMPTY_PAIN_VALUES
    ):
        return None
    if score is None:
        raise IntakeError("current_pain.score", "is required")
    if not (type(score) is int and 0 <= score <= 10):
        score = _int(score, "current_pain.score", 0, 10)
    if character is None:
        character = "none"
    elif type(character) is str and character in PAIN_CHARACTERS:
        pass
    elif isinstance(character, str) and character.strip().lower() in PAIN_CHARACTERS:
        character = character.strip().lower()
    else:
        raise IntakeError("current_pain.character", f"must be one of {'|'.join(PAIN_CHARACTERS)}")
    return _frozen(
        CurrentPain,
        {
            "score": score,
            "regions": _regions(regions, "current_pain.regions", cat, spellings),
            "character": character,
            "radiating": radiating
            if radiating is True or radiating is False
            else _bool(radiating, "current_pain.radiating"),
        },
    )
