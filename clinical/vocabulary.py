"""The product's one vocabulary: every code it stores, matches or shows, with its plain words.

Severities and their order, decision wording and colours, pain characters, red flags, body
regions, modalities, condition categories and the escalation policy's levels and rules are
defined once, in vocabulary.yaml, and read from here by the models, forms, the screening
engine, the escalation policy and the templates. A second definition would drift (a badge
once said "Clear" beside a restriction). Pure Python: no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")

_CODE_SPLIT = re.compile(r"[\s\-]+")


class VocabularyError(Exception):
    """Raise when vocabulary.yaml is missing something the product relies on."""


@dataclass(frozen=True)
class Term:
    """One code with the words people use for it."""

    code: str
    label: str
    also_called: tuple[str, ...] = ()


@dataclass(frozen=True)
class Severity:
    """A decision level: its words, its colours and its place in the order (0 = most severe)."""

    code: str
    rank: int
    badge: str
    heading: str
    meaning: str
    background: str
    text: str


@dataclass(frozen=True)
class RedFlag:
    """A warning sign: `level` is the escalation it triggers after a visit, if any."""

    code: str
    label: str
    also_called: tuple[str, ...] = ()
    level: str | None = None
    emergency: bool = False


@dataclass(frozen=True)
class Modality:
    code: str
    label: str
    also_called: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    note: str = ""


@dataclass(frozen=True)
class EscalationRule:
    code: str
    level: str
    label: str


def normalise_code(name: str) -> str:
    """Return a name in code form: lower case, spaces and hyphens as underscores."""
    return _CODE_SPLIT.sub("_", name.strip().lower())


def _load(path: Path = VOCABULARY_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    if not isinstance(data, dict):
        raise VocabularyError(f"{path.name}: must be a mapping")
    return data


def _terms(items: list[dict[str, Any]]) -> tuple[Term, ...]:
    return tuple(
        Term(item["code"], item.get("label") or item["code"], tuple(item.get("also_called") or ()))
        for item in items
    )


_DATA = _load()

SEVERITIES: tuple[Severity, ...] = tuple(
    Severity(
        code=item["code"],
        rank=rank,
        badge=item["badge"],
        heading=item["heading"],
        meaning=item["meaning"],
        background=item["background"],
        text=item["text"],
    )
    for rank, item in enumerate(_DATA["severities"])
)
# Most severe first: contraindicated > clearance > review > local > modify > clear.
SEVERITY_ORDER: tuple[str, ...] = tuple(s.code for s in SEVERITIES)
CONTRAINDICATED, CLEARANCE, REVIEW, LOCAL, MODIFY, CLEAR = SEVERITY_ORDER
# Severities a rule or a flag can have ("clear" is the absence of flags).
FLAG_SEVERITIES: tuple[str, ...] = SEVERITY_ORDER[:-1]
NOT_SCREENED = Severity(
    code="",
    rank=len(SEVERITIES),
    badge=_DATA["not_screened"]["badge"],
    heading=_DATA["not_screened"]["badge"],
    meaning="",
    background=_DATA["not_screened"]["background"],
    text=_DATA["not_screened"]["text"],
)
_SEVERITY_BY_CODE = {s.code: s for s in SEVERITIES}

PAIN_CHARACTERS: tuple[Term, ...] = _terms(_DATA["pain_characters"])
PAIN_CHARACTER_CODES: tuple[str, ...] = tuple(t.code for t in PAIN_CHARACTERS)

INTAKE_RED_FLAGS: tuple[Term, ...] = _terms(_DATA["intake_red_flags"])
FOLLOWUP_RED_FLAGS: tuple[RedFlag, ...] = tuple(
    RedFlag(
        code=item["code"],
        label=item["label"],
        also_called=tuple(item.get("also_called") or ()),
        level=item["level"],
        emergency=bool(item.get("emergency")),
    )
    for item in _DATA["followup_red_flags"]
)

REGIONS: tuple[Term, ...] = _terms(_DATA["regions"])
# Regions a rule may ask to avoid (a subset of REGIONS).
AVOIDANCE_REGIONS: tuple[str, ...] = tuple(_DATA["avoidance_regions"])

ALL_MODALITIES = "all"  # in a rule's avoid_modalities: every modality is blocked
MODALITIES: tuple[Modality, ...] = tuple(
    Modality(
        code=item["code"],
        label=item["label"],
        also_called=tuple(item.get("also_called") or ()),
        sources=tuple((s["doc"], s["quote"]) for s in item.get("sources") or ()),
        note=item.get("note") or "",
    )
    for item in _DATA["modalities"]
    if item["code"] != ALL_MODALITIES
)
MODALITY_CODES: tuple[str, ...] = tuple(m.code for m in MODALITIES)

CONDITION_CATEGORIES: tuple[Term, ...] = _terms(_DATA["condition_categories"])

URGENT, REVIEW_LEVEL = "urgent", "review"
ESCALATION_LEVELS: tuple[Term, ...] = _terms(_DATA["escalation_levels"])
ESCALATION_LEVEL_COLOURS: dict[str, tuple[str, str]] = {
    item["code"]: (item["background"], item["text"]) for item in _DATA["escalation_levels"]
}
ESCALATION_RULES: tuple[EscalationRule, ...] = tuple(
    EscalationRule(item["code"], item["level"], item["label"]) for item in _DATA["escalation_rules"]
)

_LABELS: dict[str, dict[str, str]] = {
    "modality": {m.code: m.label for m in MODALITIES} | {ALL_MODALITIES: "Every technique"},
    "region": {r.code: r.label for r in REGIONS},
    "pain_character": {t.code: t.label for t in PAIN_CHARACTERS},
    "intake_red_flag": {t.code: t.label for t in INTAKE_RED_FLAGS},
    "followup_red_flag": {f.code: f.label for f in FOLLOWUP_RED_FLAGS},
    "condition_category": {t.code: t.label for t in CONDITION_CATEGORIES},
    "severity": {s.code: s.badge for s in SEVERITIES},
    "escalation_level": {t.code: t.label for t in ESCALATION_LEVELS},
    "escalation_rule": {r.code: r.label for r in ESCALATION_RULES},
}
KINDS = tuple(_LABELS)


def label(kind: str, code: str) -> str:
    """Return the plain words for a code of `kind` (e.g. label("modality", "deep_tissue")).

    An unknown code (an old record, a code a newer catalogue dropped) is shown in words made
    from the code itself rather than failing the page.
    """
    return _LABELS[kind].get(code) or code.replace("_", " ").capitalize()


def severity(code: str | None) -> Severity:
    """Return the Severity for a decision code; NOT_SCREENED for None or ''."""
    if not code:
        return NOT_SCREENED
    return _SEVERITY_BY_CODE[code]


def most_severe(codes: Any) -> str:
    """Return the most severe of some severity codes; CLEAR when there are none."""
    ranks = [_SEVERITY_BY_CODE[code].rank for code in codes]
    return SEVERITY_ORDER[min(ranks)] if ranks else CLEAR


def aliases(terms: Any) -> dict[str, str]:
    """Map each term's code and `also_called` names, in code form, to the term's code."""
    table: dict[str, str] = {}
    for term in terms:
        table[normalise_code(term.code)] = term.code
        for name in term.also_called:
            table.setdefault(normalise_code(name), term.code)
    return table


_MODALITY_ALIASES = aliases(MODALITIES)
_REGION_ALIASES = aliases(REGIONS)
_INTAKE_RED_FLAG_ALIASES = aliases(INTAKE_RED_FLAGS)
_FOLLOWUP_RED_FLAG_ALIASES = aliases(FOLLOWUP_RED_FLAGS)


def normalise_modality(name: str) -> str | None:
    """Return the modality code for a code or `also_called` name, or None."""
    return _MODALITY_ALIASES.get(normalise_code(name))


def normalise_region(name: str) -> str | None:
    """Return the region code for a code or `also_called` name, or None."""
    return _REGION_ALIASES.get(normalise_code(name))


def normalise_intake_red_flag(name: str) -> str | None:
    """Return the intake red-flag code for a code or `also_called` name, or None."""
    return _INTAKE_RED_FLAG_ALIASES.get(normalise_code(name))


def normalise_followup_red_flag(name: str) -> str | None:
    """Return the follow-up red-flag code for a code or `also_called` name, or None."""
    return _FOLLOWUP_RED_FLAG_ALIASES.get(normalise_code(name))


def stylesheet() -> str:
    """Return the CSS of the decision and escalation colours (static/css/vocabulary.css).

    The file is generated from this vocabulary (`make css`) and a test keeps it in step, so
    a colour is defined once, here.
    """
    lines = ["/* Generated from clinical/vocabulary.yaml by `make css`; do not edit. */"]
    for item in (*SEVERITIES, NOT_SCREENED):
        name = item.code or "none"
        lines.append(
            f".decision-{name} {{ background-color: {item.background} !important;"
            f" color: {item.text} !important; }}"
        )
        lines.append(f".severity-edge.severity-{name} {{ border-left-color: {item.background}; }}")
    for code, (background, text) in ESCALATION_LEVEL_COLOURS.items():
        lines.append(
            f".escalation-{code} {{ background-color: {background} !important;"
            f" color: {text} !important; }}"
        )
    return "\n".join(lines) + "\n"


def _check() -> None:
    region_codes = {r.code for r in REGIONS}
    missing = [code for code in AVOIDANCE_REGIONS if code not in region_codes]
    if missing:
        raise VocabularyError(f"avoidance_regions not among regions: {', '.join(missing)}")
    if SEVERITY_ORDER[-1] != "clear" or len(SEVERITY_ORDER) != 6:
        raise VocabularyError("severities: six levels ending with 'clear' are expected")
    for kind, terms in (
        ("regions", REGIONS),
        ("modalities", MODALITIES),
        ("intake_red_flags", INTAKE_RED_FLAGS),
        ("followup_red_flags", FOLLOWUP_RED_FLAGS),
    ):
        owner: dict[str, str] = {}
        for term in terms:
            for name in (term.code, *term.also_called):
                key = normalise_code(name)
                if owner.setdefault(key, term.code) != term.code:
                    raise VocabularyError(
                        f"{kind}: {name!r} names {owner[key]!r} and {term.code!r}"
                    )


_check()
