"""Screen one intake against the rule catalogue: intake in, result out (no Django, no DB).

The decision policy is the catalogue's `decision_policy` (from screening-knowledge.yaml):
the decision is the most severe flagged severity, `all` blocks every modality, avoid_regions
always include the universal precautions' regions, gestational age and days since recovery
are derived from the visit date. Each flag lists what matched so the therapist sees why.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable
from typing import Any, NamedTuple, Protocol

from clinical import vocabulary
from clinical.catalogue import Catalogue, KeywordMatcher, Source, Target, get_catalogue
from clinical.intake import IntakeData

THIRD_TRIMESTER_DAYS = 28 * 7  # 28+0 weeks (editorial reading of "third trimester")
FULL_TERM_DAYS = 280
RECOVERY_DAYS = 7  # "at least a week after recovery" (004): 6 days postpones, 7 allows
SNIPPET_CONTEXT = 30

_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(vocabulary.SEVERITY_ORDER)}
_SENTENCE_BREAK = re.compile(r"[.!?;\n]")
# A mention directly negated ("no history of thrombosis", "never had a fracture", "not large")
# does not flag. Deliberately narrow: the cue must end right before the keyword, with only
# articles or "history of"-style fillers between, so "not sure whether it is cancer",
# "no idea if this is a hernia" or "no, I had a fracture" still flag.
_NEGATION_CUES = frozenset({"no", "never", "denies", "denied", "without", "not"})
_NEGATION_PAIRS = frozenset({("negative", "for"), ("free", "of"), ("ruled", "out")})
_NEGATION_FILLERS = frozenset(
    {"a", "an", "the", "any", "known", "prior", "previous", "past", "recent", "had", "with"}
)
_NEGATION_FILLER_OF = frozenset({"history", "hx", "sign", "signs", "evidence"})
_NEGATION_FILLER_WITH = frozenset({"diagnosed", "been"})
_NEGATION_WINDOW = 60


class Flag(NamedTuple):
    """One flagged rule and what matched it (immutable; a NamedTuple because the engine
    builds many per second and a frozen dataclass costs ~3 us per instance)."""

    code: str
    severity: str
    title: str
    category: str
    matched: tuple[str, ...]
    actions: tuple[str, ...]
    avoid_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]
    sources: tuple[Source, ...]
    # True when only free text matched: the therapist may dismiss it with a reason.
    free_text_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the flag in the SPEC section 5 shape."""
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "matched": list(self.matched),
            "actions": list(self.actions),
            "avoid_modalities": list(self.avoid_modalities),
            "avoid_regions": list(self.avoid_regions),
            "sources": [{"doc": s.doc, "quote": s.quote} for s in self.sources],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, free_text_only: bool = False) -> Flag:
        """Return a flag from its SPEC section 5 dict (a stored screening's result)."""
        return cls(
            data["code"],
            data["severity"],
            data.get("title", ""),
            data.get("category", ""),
            tuple(data.get("matched", ())),
            tuple(data.get("actions", ())),
            tuple(data.get("avoid_modalities", ())),
            tuple(data.get("avoid_regions", ())),
            tuple(Source(s["doc"], s["quote"]) for s in data.get("sources", ())),
            free_text_only,
        )


class Restrictable(Protocol):
    """What the restriction policy needs of a flag (an engine Flag or a stored one)."""

    code: str
    severity: str
    avoid_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]


class Restrictions(NamedTuple):
    """What a set of flags means for the visit: the one policy for decision and restrictions."""

    decision: str
    flags: tuple
    blocked_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]


def restrictions(
    flags: Iterable[Restrictable],
    *,
    set_aside: Collection[str] = (),
    catalogue: Catalogue | None = None,
) -> Restrictions:
    """Return the decision, blocked modalities and regions to avoid of the flags that count.

    The one restriction policy: the engine, the screening report, every decision badge and
    the completion check all call it. Flags whose code is in `set_aside` (dismissed by the
    therapist, or resolved) no longer count. The decision is the most severe remaining
    severity (`clear` if none); blocked modalities are the union of the remaining flags'
    (`all` blocks every modality); regions to avoid always include the universal
    precautions' regions.
    """
    cat = catalogue or get_catalogue()
    counted = tuple(flag for flag in flags if flag.code not in set_aside)
    blocked: set[str] = set()
    avoid = set(_static(cat)[1])
    for flag in counted:
        blocked.update(flag.avoid_modalities)
        avoid.update(flag.avoid_regions)
    if vocabulary.ALL_MODALITIES in blocked:
        blocked_modalities = vocabulary.MODALITY_CODES
    else:
        blocked_modalities = tuple(m for m in vocabulary.MODALITY_CODES if m in blocked)
    return Restrictions(
        vocabulary.most_severe(flag.severity for flag in counted),
        counted,
        blocked_modalities,
        tuple(r for r in vocabulary.AVOIDANCE_REGIONS if r in avoid),
    )


class ScreeningResult(NamedTuple):
    """The outcome of screening one intake (immutable)."""

    decision: str
    flags: tuple[Flag, ...]
    blocked_modalities: tuple[str, ...]
    avoid_regions: tuple[str, ...]
    universal_precautions: tuple[str, ...]
    catalogue_version: str
    # Intake condition codes no rule knows: shown as "not in the catalogue, review".
    unmatched_conditions: tuple[str, ...] = ()
    # Free-text or notes mentions that matched a keyword but were negated ("no DVT").
    negated_mentions: tuple[str, ...] = ()
    gestational_days: int | None = None
    days_since_recovery: int | None = None

    @property
    def dismissible_flags(self) -> tuple[Flag, ...]:
        """Return flags found only in free text (a therapist may dismiss them with a reason)."""
        return tuple(flag for flag in self.flags if flag.free_text_only)

    def to_dict(self) -> dict[str, Any]:
        """Return the result in the SPEC section 5 shape plus `unmatched_conditions`."""
        return {
            "decision": self.decision,
            "flags": [flag.to_dict() for flag in self.flags],
            "blocked_modalities": list(self.blocked_modalities),
            "avoid_regions": list(self.avoid_regions),
            "universal_precautions": list(self.universal_precautions),
            "catalogue_version": self.catalogue_version,
            "unmatched_conditions": list(self.unmatched_conditions),
        }


class _Hits:
    """Collect, per rule index, the reasons it matched and whether any was not free text."""

    __slots__ = ("reasons", "structured", "negated")

    def __init__(self) -> None:
        self.reasons: dict[int, dict[str, None]] = {}
        self.structured: set[int] = set()
        self.negated: dict[str, None] = {}

    def add(self, rule: int, reason: str, *, free_text: bool = False) -> None:
        self.reasons.setdefault(rule, {})[reason] = None
        if not free_text:
            self.structured.add(rule)


def screen(intake: IntakeData, catalogue: Catalogue | None = None) -> ScreeningResult:
    """Screen a parsed intake and return the decision, flags and restrictions."""
    cat = catalogue or get_catalogue()
    hits = _Hits()
    unmatched = _match_conditions(intake, cat, hits)
    if intake.free_text:
        _match_free_text(intake.free_text, cat, hits)
    _match_items(intake.medications, "medication", cat.medication_keywords, hits)
    _match_items(intake.allergies, "allergy", cat.allergy_keywords, hits)
    gestational_days = _match_pregnancy(intake, cat, hits)
    days_since_recovery = _match_recent_illness(intake, cat, hits)
    _match_pain_and_red_flags(intake, cat, hits)
    return _result(cat, hits, unmatched, gestational_days, days_since_recovery)


def _acute_ok(target: Target, acute: bool | None) -> bool:
    # acute=None is free text: it can satisfy "either" or "not acute", never "acute".
    if target.requires_acute is None:
        return True
    if acute is None:
        return target.requires_acute is False
    return target.requires_acute is acute


def _match_conditions(intake: IntakeData, cat: Catalogue, hits: _Hits) -> list[str]:
    unmatched: list[str] = []
    acute_rules = cat.special_rules.get("any_condition_acute_true", ())
    matcher = cat.condition_keywords
    add = hits.add
    for condition in intake.conditions:
        code, acute, notes = condition.code, condition.acute, condition.notes
        reason = f"condition: {code}"
        exact = cat.condition_targets.get(code, ())
        known = bool(exact)
        for target in exact:
            if _acute_ok(target, acute):
                add(target.rule, reason)
        unit = f"{code} {notes}"
        for _start, _end, targets in matcher.finditer_cached(code):
            for target in targets:
                if target.context is None or target.context.search(unit):
                    known = True
                    if _acute_ok(target, acute):
                        add(target.rule, reason)
        if notes:
            for start, end, targets in matcher.finditer(notes):
                if _negated(notes, start):
                    hits.negated[f"condition notes ({code}): {_snippet(notes, start, end)}"] = None
                    continue
                note_reason = f"condition notes ({code}): '{notes[start:end]}'"
                for target in targets:
                    if target.context is None or target.context.search(unit):
                        known = True
                        if _acute_ok(target, acute):
                            add(target.rule, note_reason)
        if acute:
            for rule in acute_rules:
                add(rule, f"condition (acute): {code}")
        if not known and code not in unmatched:
            unmatched.append(code)
    return unmatched


def _match_free_text(text: str, cat: Catalogue, hits: _Hits) -> None:
    for start, end, targets in cat.condition_keywords.finditer(text):
        snippet = _snippet(text, start, end)
        if _negated(text, start):
            hits.negated[f"free text: {snippet}"] = None
            continue
        sentence = None
        for target in targets:
            if not _acute_ok(target, None):
                continue
            if target.context is not None:
                sentence = sentence or _sentence(text, start, end)
                if not target.context.search(sentence):
                    continue
            hits.add(target.rule, f"free text: {snippet}", free_text=True)


def _match_items(
    items: tuple[str, ...], label: str, matcher: KeywordMatcher | None, hits: _Hits
) -> None:
    if matcher is None:
        return
    for item in items:
        for _start, _end, targets in matcher.finditer_cached(item):
            for target in targets:
                hits.add(target.rule, f"{label}: {item}")


def _match_pregnancy(intake: IntakeData, cat: Catalogue, hits: _Hits) -> int | None:
    pregnancy = intake.pregnancy
    if pregnancy is None or not pregnancy.pregnant:
        return None
    third = cat.special_rules.get("pregnancy_weeks_ge_28", ())
    earlier = cat.special_rules.get("pregnancy_weeks_lt_28", ())
    from_weeks = None if pregnancy.weeks is None else pregnancy.weeks * 7
    from_due = None
    if pregnancy.due_date is not None:
        from_due = FULL_TERM_DAYS - (pregnancy.due_date - intake.visit_date).days
    if from_weeks is None and from_due is None:
        # Policy: "ask; do not book until known". Unknown stage may be the third trimester,
        # so it is flagged like one until the therapist has the weeks or the due date.
        for rule in third:
            hits.add(
                rule,
                "pregnancy: weeks unknown (no weeks or due date); ask, do not book until known",
            )
        return None
    if from_weeks is None or (from_due is not None and from_due > from_weeks):
        days, source = from_due, "from due date"
    else:
        days, source = from_weeks, "from weeks"
    if from_weeks is not None and from_due is not None and from_weeks != from_due:
        source += (
            f"; weeks and due date disagree ({_weeks(from_weeks)} vs {_weeks(from_due)}),"
            " the larger is used"
        )
    assert days is not None
    reason = f"pregnancy: {_weeks(days)} weeks ({source})"
    for rule in third if days >= THIRD_TRIMESTER_DAYS else earlier:
        hits.add(rule, reason)
    return days


def _weeks(days: int) -> str:
    return f"{days // 7}+{days % 7}"


def _match_recent_illness(intake: IntakeData, cat: Catalogue, hits: _Hits) -> int | None:
    illness = intake.recent_illness
    if illness is None:
        return None
    rules = cat.special_rules.get("recent_illness_days_lt_7", ())
    if illness.recovered_on is None:
        reason = "recent illness: not recovered yet (no recovery date)"
        days = None
    else:
        days = (intake.visit_date - illness.recovered_on).days
        if days < 0:
            reason = "recent illness: recovery date is after the visit (still ill)"
        elif days < RECOVERY_DAYS:
            unit = "day" if days == 1 else "days"
            reason = f"recent illness: recovered {days} {unit} before the visit"
        else:
            return days
    for rule in rules:
        hits.add(rule, reason)
    return days


def _match_pain_and_red_flags(intake: IntakeData, cat: Catalogue, hits: _Hits) -> None:
    pain = intake.current_pain
    if pain is not None:
        if pain.character == "sharp":
            for index in cat.special_rules.get("current_pain_sharp_in_back", ()):
                back = [r for r in pain.regions if r in cat.rules[index].back_regions]
                if back:
                    hits.add(index, f"current pain: sharp in {', '.join(back)}")
        if pain.radiating:
            for index in cat.special_rules.get("current_pain_radiating", ()):
                hits.add(index, "current pain: radiating")
    for index in cat.special_rules.get("intake_red_flags", ()):
        for red_flag in intake.red_flags:
            if red_flag in cat.rules[index].red_flags:
                hits.add(index, f"red flag: {red_flag}")


def _negated(text: str, start: int) -> bool:
    words = text[max(0, start - _NEGATION_WINDOW) : start].lower().split()
    if start > 0 and not text[start - 1].isspace():
        return False
    while words:
        last = words[-1]
        if last in _NEGATION_CUES or last.endswith(("n't", "n’t")):
            return True
        if len(words) > 1 and (words[-2], last) in _NEGATION_PAIRS:
            return True
        if last == "of" and len(words) > 1 and words[-2] in _NEGATION_FILLER_OF:
            words = words[:-2]
        elif last in _NEGATION_FILLERS or last in _NEGATION_FILLER_WITH:
            words.pop()
        else:
            return False
    return False


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(c, 0, start) for c in ".!?;\n") + 1
    m = _SENTENCE_BREAK.search(text, end)
    return text[left : m.start() if m else len(text)]


def _snippet(text: str, start: int, end: int) -> str:
    left = max(0, start - SNIPPET_CONTEXT)
    right = min(len(text), end + SNIPPET_CONTEXT)
    # Cut at spaces so the snippet does not begin or end mid-word.
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    body = " ".join(text[left:right].split())
    return "'" + ("…" if left > 0 else "") + body + ("…" if right < len(text) else "") + "'"


@functools.cache
def _static(cat: Catalogue) -> tuple[tuple[str, ...], frozenset[str], dict[int, int]]:
    """Return the precaution titles and regions and each rule's sort key, once per catalogue."""
    titles = tuple(p.title for p in cat.universal_precautions)
    regions = frozenset(r for p in cat.universal_precautions for r in p.avoid_regions)
    # Flags are ordered by severity, then catalogue order.
    sort_keys = {
        i: _SEVERITY_RANK[rule.severity] * len(cat.rules) + i for i, rule in enumerate(cat.rules)
    }
    return titles, regions, sort_keys


def _result(
    cat: Catalogue,
    hits: _Hits,
    unmatched: list[str],
    gestational_days: int | None,
    days_since_recovery: int | None,
) -> ScreeningResult:
    titles, _regions, sort_keys = _static(cat)
    rules = cat.rules
    structured = hits.structured
    flags = tuple(
        Flag(
            rules[i].code,
            rules[i].severity,
            rules[i].title,
            rules[i].category,
            tuple(hits.reasons[i]),
            rules[i].actions,
            rules[i].avoid_modalities,
            rules[i].avoid_regions,
            rules[i].sources,
            i not in structured,
        )
        for i in sorted(hits.reasons, key=sort_keys.__getitem__)
    )
    policy = restrictions(flags, catalogue=cat)
    return ScreeningResult(
        policy.decision,
        flags,
        policy.blocked_modalities,
        policy.avoid_regions,
        titles,
        cat.version,
        tuple(unmatched),
        tuple(hits.negated),
        gestational_days,
        days_since_recovery,
    )
