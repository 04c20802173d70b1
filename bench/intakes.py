"""Generate a realistic, seeded mix of intakes (intake JSON dicts) at every decision level.

Clinical vocabulary comes from the shipped catalogue (so the mix follows it); everyday words
come from bench/vocab.py. `generate()` aims each intake at one decision level; the engine's
real decision is what the benchmark reports (`decision_mix`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from bench import vocab
from clinical import vocabulary
from clinical.catalogue import get_catalogue

# Share of each decision level the generator aims at (a clinic's day is mostly clear/modify).
LEVEL_WEIGHTS = {
    "clear": 33,
    "modify": 24,
    "local": 10,
    "review": 5,
    "clearance": 14,
    "contraindicated": 14,
}
# What free text the intakes carry: none (structured intakes, rows 1a/1b), everyday sentences
# without health content (the HTTP rows), or realistic text with health mentions (row 1c).
FREE_TEXT_KINDS = ("none", "everyday", "realistic")


def _vocab():
    cat = get_catalogue()
    by_level: dict[str, list[tuple[str, bool]]] = {level: [] for level in LEVEL_WEIGHTS}
    medication_triggers: dict[str, list[str]] = {level: [] for level in LEVEL_WEIGHTS}
    allergy_triggers: dict[str, list[str]] = {level: [] for level in LEVEL_WEIGHTS}
    for rule in cat.rules:
        for code in rule.condition_codes:
            # A rule that needs acute=true is reached through the acute toggle instead.
            if rule.requires_acute is not True:
                by_level[rule.severity].append((code, False))
        for keyword in rule.medication_keywords:
            medication_triggers[rule.severity].append(keyword)
        for keyword in rule.allergy_keywords:
            allergy_triggers[rule.severity].append(keyword)
    return {
        "cat": cat,
        "modalities": [m.code for m in cat.modalities],
        "regions": [r.code for r in cat.intake_regions],
        "soft_regions": [
            r.code for r in cat.intake_regions if r.code in ("neck", "shoulders", "legs", "arms")
        ]
        or [cat.intake_regions[0].code],
        "back_regions": [r.code for r in cat.intake_regions if r.code in ("lumbar", "back")],
        "red_flags": [f.code for f in cat.intake_red_flags],
        "conditions": by_level,
        "medications": medication_triggers,
        "allergies": allergy_triggers,
    }


def _free_text(rng: random.Random, kind: str = "everyday") -> str:
    if kind == "none":
        return ""
    parts = rng.sample(vocab.SENTENCES, rng.randint(0, 4))
    if rng.random() < 0.3:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(vocab.NEGATED_SENTENCES))
    if kind == "realistic":
        for sentence in rng.sample(vocab.HEALTH_SENTENCES, rng.randint(1, 3)):
            parts.insert(rng.randrange(len(parts) + 1), sentence)
    return " ".join(parts)


def _base(rng: random.Random, v: dict, today: dt.date, free_text: str = "everyday") -> dict:
    visit_date = today + dt.timedelta(days=rng.randint(0, 14))
    dob = dt.date(rng.randint(1945, 2005), rng.randint(1, 12), rng.randint(1, 28))
    pain_regions = rng.sample(v["soft_regions"], rng.randint(0, 2))
    return {
        "date_of_birth": dob.isoformat(),
        "visit_date": visit_date.isoformat(),
        "planned_modality": rng.choice(v["modalities"]),
        "focus_regions": rng.sample(v["soft_regions"], rng.randint(1, 2)),
        "conditions": [],
        "pregnancy": {"pregnant": False, "due_date": None, "weeks": None},
        "medications": rng.sample(vocab.BENIGN_MEDICATIONS, rng.randint(0, 3)),
        "recent_illness": None,
        "current_pain": {
            "score": rng.randint(0, 6),
            "regions": pain_regions,
            "character": rng.choice(["dull", "stiffness", "none", "throbbing"]),
            "radiating": False,
        },
        "red_flags": [],
        "allergies": rng.sample(vocab.BENIGN_ALLERGIES, rng.randint(0, 2)),
        "free_text": _free_text(rng, free_text),
    }


def _condition(rng: random.Random, v: dict, level: str, acute: bool = False) -> dict:
    code, _ = rng.choice(v["conditions"][level])
    return {"code": code, "acute": acute, "notes": rng.choice(vocab.CONDITION_NOTES)}


def _aim(rng: random.Random, v: dict, intake: dict, level: str, today: dt.date) -> None:
    """Add what should lift the intake to `level` (several ways per level, chosen at random)."""
    visit = dt.date.fromisoformat(intake["visit_date"])
    if level == "clear":
        return
    if level == "modify":
        choice = rng.randrange(4)
        if choice == 0 and v["back_regions"]:
            intake["current_pain"].update(
                character="sharp", regions=[rng.choice(v["back_regions"])]
            )
        elif choice == 1:
            intake["pregnancy"] = {"pregnant": True, "due_date": None, "weeks": rng.randint(8, 26)}
        elif choice == 2 and v["allergies"]["modify"]:
            intake["allergies"].append(f"{rng.choice(v['allergies']['modify'])} oil")
        else:
            intake["conditions"].append(_condition(rng, v, "modify"))
    elif level == "local":
        intake["conditions"].append(_condition(rng, v, "local"))
    elif level == "review":
        if rng.random() < 0.7:
            code = rng.choice(vocab.UNRECOGNISED_CONDITIONS)
            intake["conditions"].append({"code": code, "acute": False, "notes": ""})
        else:
            intake["medications"].append(rng.choice(vocab.UNRECOGNISED_MEDICATIONS))
    elif level == "clearance":
        choice = rng.randrange(3)
        if choice == 0 and v["medications"]["clearance"]:
            intake["medications"].append(f"{rng.choice(v['medications']['clearance'])} 5 mg")
        elif choice == 1:
            intake["current_pain"]["radiating"] = True
        else:
            intake["conditions"].append(_condition(rng, v, "clearance"))
    elif level == "contraindicated":
        choice = rng.randrange(5)
        if choice == 0:
            intake["conditions"].append(_condition(rng, v, "modify", acute=True))
        elif choice == 1:
            intake["red_flags"].append(rng.choice(v["red_flags"]))
        elif choice == 2:
            due = visit + dt.timedelta(days=rng.randint(7, 80))
            intake["pregnancy"] = {"pregnant": True, "due_date": due.isoformat(), "weeks": None}
        elif choice == 3:
            recovered = visit - dt.timedelta(days=rng.randint(0, 6))
            intake["recent_illness"] = {
                "name": rng.choice(vocab.ILLNESSES),
                "recovered_on": recovered.isoformat(),
            }
        else:
            intake["conditions"].append(_condition(rng, v, "contraindicated"))
    # Half of the flagged intakes carry a second, milder finding, as real ones often do.
    if rng.random() < 0.5 and level not in ("modify", "review"):
        intake["conditions"].append(_condition(rng, v, "modify"))


def generate(
    count: int,
    *,
    seed: int = 20261120,
    today: dt.date | None = None,
    free_text: str = "everyday",
) -> list[dict]:
    """Return `count` intake JSON dicts aimed at the LEVEL_WEIGHTS mix (seeded, repeatable).

    `free_text` is one of FREE_TEXT_KINDS.
    """
    if free_text not in FREE_TEXT_KINDS:
        raise ValueError(f"free_text must be one of {FREE_TEXT_KINDS}")
    rng = random.Random(seed)
    today = today or dt.date.today()
    v = _vocab()
    levels = rng.choices(list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values()), k=count)
    intakes = []
    for level in levels:
        intake = _base(rng, v, today, free_text)
        _aim(rng, v, intake, level, today)
        intakes.append(intake)
    return intakes


def decision_mix(results) -> dict[str, int]:
    """Return how many results fell at each decision level (every level listed)."""
    counts = Counter(r.decision for r in results)
    return {level: counts.get(level, 0) for level in vocabulary.SEVERITY_ORDER}
