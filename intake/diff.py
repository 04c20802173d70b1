"""Compare two intakes: what changed since the client's previous health history.

Pure Python on intake JSON dicts (the shape of `Intake.to_payload()`), so it is easy to test
and does not touch the database. Codes are shown in the vocabulary's words ("Lower back",
"Deep tissue"); a condition, which has no vocabulary label, in its name's words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from clinical import vocabulary

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"

# The order sections are shown in: what matters most for safety first.
SECTIONS = (
    "Red flags",
    "Conditions",
    "Pregnancy",
    "Medications",
    "Recent illness",
    "Current pain",
    "Allergies",
    "Plan",
    "Free text",
)


@dataclass(frozen=True)
class Change:
    section: str
    kind: str  # ADDED, REMOVED or CHANGED
    text: str


@dataclass(frozen=True)
class IntakeDiff:
    changes: tuple[Change, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def by_section(self) -> list[tuple[str, list[Change]]]:
        """Return the changes grouped by section, in SECTIONS order, empty sections left out."""
        grouped = {section: [] for section in SECTIONS}
        for change in self.changes:
            grouped[change.section].append(change)
        return [(section, items) for section, items in grouped.items() if items]


def diff_intakes(old: dict[str, Any] | None, new: dict[str, Any]) -> IntakeDiff:
    """Return what changed from `old` to `new`; with no `old` everything recorded is added."""
    old = old or {}
    changes: list[Change] = []
    changes += _list_changes(
        "Red flags", old.get("red_flags"), new.get("red_flags"), words=_words("intake_red_flag")
    )
    changes += _condition_changes(old.get("conditions") or [], new.get("conditions") or [])
    changes += _pregnancy_changes(old.get("pregnancy"), new.get("pregnancy"))
    changes += _list_changes(
        "Medications", old.get("medications"), new.get("medications"), "new", "stopped"
    )
    changes += _illness_changes(old.get("recent_illness"), new.get("recent_illness"))
    changes += _pain_changes(old.get("current_pain"), new.get("current_pain"))
    changes += _list_changes("Allergies", old.get("allergies"), new.get("allergies"))
    changes += _plan_changes(old, new)
    if (old.get("free_text") or "").strip() != (new.get("free_text") or "").strip():
        changes.append(Change("Free text", CHANGED, "The client's own words changed"))
    return IntakeDiff(tuple(changes))


def _words(kind: str) -> Callable[[str], str]:
    return partial(vocabulary.label, kind)


def condition_words(code: str) -> str:
    """Return a condition code in words: "brittle_bones" -> "Brittle bones"."""
    return code.replace("_", " ").strip().capitalize()


def _key(item: str) -> str:
    # "Warfarin  5 mg" and "warfarin 5 mg" are the same medication, not a stop and a start.
    return " ".join(item.split()).casefold()


def _list_changes(
    section: str,
    old: list[str] | None,
    new: list[str] | None,
    added_word: str = "new",
    removed_word: str = "no longer",
    *,
    words: Callable[[str], str] = str,
) -> list[Change]:
    old_keys = {_key(item): item for item in old or []}
    new_keys = {_key(item): item for item in new or []}
    changes = [
        Change(section, ADDED, f"{added_word}: {words(item)}")
        for key, item in new_keys.items()
        if key not in old_keys
    ]
    changes += [
        Change(section, REMOVED, f"{removed_word}: {words(item)}")
        for key, item in old_keys.items()
        if key not in new_keys
    ]
    return changes


def _condition_changes(old: list[dict], new: list[dict]) -> list[Change]:
    before = {c["code"]: c for c in old}
    after = {c["code"]: c for c in new}
    changes = []
    for code, condition in after.items():
        name = condition_words(code)
        acute = " (acute now)" if condition.get("acute") else ""
        if code not in before:
            changes.append(Change("Conditions", ADDED, f"new: {name}{acute}"))
            continue
        was = before[code]
        if condition.get("acute") and not was.get("acute"):
            changes.append(Change("Conditions", CHANGED, f"{name}: now acute"))
        elif was.get("acute") and not condition.get("acute"):
            changes.append(Change("Conditions", CHANGED, f"{name}: no longer acute"))
        if (was.get("notes") or "").strip() != (condition.get("notes") or "").strip():
            changes.append(Change("Conditions", CHANGED, f"{name}: notes changed"))
    changes += [
        Change("Conditions", REMOVED, f"no longer listed: {condition_words(code)}")
        for code in before
        if code not in after
    ]
    return changes


def _is_pregnant(pregnancy: dict | None) -> bool:
    return bool(pregnancy and pregnancy.get("pregnant"))


def _pregnancy_text(pregnancy: dict) -> str:
    details = []
    if pregnancy.get("weeks") is not None:
        details.append(f"{pregnancy['weeks']} weeks")
    if pregnancy.get("due_date"):
        details.append(f"due {pregnancy['due_date']}")
    return f" ({', '.join(details)})" if details else ""


def _pregnancy_changes(old: dict | None, new: dict | None) -> list[Change]:
    if _is_pregnant(new) and not _is_pregnant(old):
        return [Change("Pregnancy", ADDED, f"now pregnant{_pregnancy_text(new)}")]
    if _is_pregnant(old) and not _is_pregnant(new):
        return [Change("Pregnancy", REMOVED, "no longer pregnant")]
    if not _is_pregnant(new):
        return []
    changes = []
    if old.get("weeks") != new.get("weeks"):
        changes.append(
            Change(
                "Pregnancy", CHANGED, f"weeks: {_show(old.get('weeks'))} → {_show(new['weeks'])}"
            )
        )
    if old.get("due_date") != new.get("due_date"):
        changes.append(
            Change(
                "Pregnancy",
                CHANGED,
                f"due date: {_show(old.get('due_date'))} → {_show(new.get('due_date'))}",
            )
        )
    return changes


def _show(value: Any) -> str:
    return "not given" if value in (None, "", []) else str(value)


def _illness_changes(old: dict | None, new: dict | None) -> list[Change]:
    old = old or {}
    new = new or {}
    if not new.get("name") and not new.get("recovered_on"):
        if old.get("name") or old.get("recovered_on"):
            return [
                Change(
                    "Recent illness", REMOVED, f"no recent illness (was {_show(old.get('name'))})"
                )
            ]
        return []
    if not old.get("name") and not old.get("recovered_on"):
        recovered = new.get("recovered_on")
        status = f"recovered {recovered}" if recovered else "not recovered yet"
        return [Change("Recent illness", ADDED, f"{_show(new.get('name'))}, {status}")]
    changes = []
    if _key(old.get("name") or "") != _key(new.get("name") or ""):
        changes.append(
            Change(
                "Recent illness",
                CHANGED,
                f"illness: {_show(old.get('name'))} → {_show(new.get('name'))}",
            )
        )
    if old.get("recovered_on") != new.get("recovered_on"):
        changes.append(
            Change(
                "Recent illness",
                CHANGED,
                f"recovered on: {_show(old.get('recovered_on'))} → "
                f"{_show(new.get('recovered_on'))}",
            )
        )
    return changes


def _pain_changes(old: dict | None, new: dict | None) -> list[Change]:
    if new is None and old is None:
        return []
    if new is None:
        return [Change("Current pain", REMOVED, f"no current pain (was {old['score']}/10)")]
    if old is None:
        return [
            Change(
                "Current pain",
                ADDED,
                f"pain now {new['score']}/10 ({_character(new)})",
            )
        ]
    changes = []
    if old["score"] != new["score"]:
        delta = new["score"] - old["score"]
        trend = f"worse by {delta}" if delta > 0 else f"better by {-delta}"
        changes.append(
            Change("Current pain", CHANGED, f"score: {old['score']} → {new['score']} ({trend})")
        )
    if (old.get("character") or "none") != (new.get("character") or "none"):
        changes.append(
            Change(
                "Current pain",
                CHANGED,
                f"character: {_character(old)} → {_character(new)}",
            )
        )
    if bool(new.get("radiating")) != bool(old.get("radiating")):
        text = "now radiating" if new.get("radiating") else "no longer radiating"
        changes.append(Change("Current pain", CHANGED, text))
    changes += _list_changes(
        "Current pain",
        old.get("regions"),
        new.get("regions"),
        "new region",
        "region gone",
        words=_words("region"),
    )
    return changes


def _character(pain: dict) -> str:
    return vocabulary.label("pain_character", pain.get("character") or "none").lower()


def _plan_changes(old: dict, new: dict) -> list[Change]:
    if not old:
        return []
    changes = []
    if old.get("planned_modality") != new.get("planned_modality"):
        changes.append(
            Change(
                "Plan",
                CHANGED,
                f"modality: {_modality(old)} → {_modality(new)}",
            )
        )
    changes += _list_changes(
        "Plan",
        old.get("focus_regions"),
        new.get("focus_regions"),
        "new focus",
        "focus dropped",
        words=_words("region"),
    )
    return changes


def _modality(intake: dict) -> str:
    code = intake.get("planned_modality")
    return vocabulary.label("modality", code) if code else _show(code)
