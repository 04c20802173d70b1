"""Screen one intake against the rule catalogue: intake in, result out (no Django, no DB).

The decision policy is the catalogue's `decision_policy` (from screening-knowledge.yaml):
the decision is the most severe flagged severity, `all` blocks every modality, avoid_regions
always include the universal precautions' regions, gestational age and days since recovery
are derived from the visit date. Each flag lists what matched so the therapist sees why.

Reading what people write (language.yaml and clinical.catalogue.context): lay terms,
abbreviations and misspellings point at rules; medicine brand names resolve to generics; red
flags are recognised in words; a mention that is denied, someone else's, only past (for rules
that mean a current condition), hypothetical or about a vaccine does not flag but is listed in
`mentions_not_counted`. Red flags are discounted only by an explicit denial. Anything the
screener cannot interpret (an entry, or a health word in text that maps to no rule) becomes a
`review` flag with code `unrecognised`, so `clear` means everything was understood. A spelling
guess may raise a flag, never lower one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Collection, Iterable
from typing import Any, NamedTuple, Protocol

from clinical import vocabulary
from clinical.catalogue import Catalogue, KeywordMatcher, Source, Target, get_catalogue
from clinical.catalogue.context import NO_CONTEXT, Context
from clinical.catalogue.language import (
    FUZZY_MIN_CHARS,
    generic_names,
    lower_words,
    medicines_in_text,
    words_of,
)
from clinical.catalogue.model import SEED
from clinical.intake import IntakeData

THIRD_TRIMESTER_DAYS = 28 * 7  # 28+0 weeks (editorial reading of "third trimester")
FULL_TERM_DAYS = 280
RECOVERY_DAYS = 7  # "at least a week after recovery" (004): 6 days postpones, 7 allows
SNIPPET_CONTEXT = 30

_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(vocabulary.SEVERITY_ORDER)}
_SENTENCE_BREAK = re.compile(r"[.!?;\n]")
UNRECOGNISED = "unrecognised"
UNRECOGNISED_TITLE = "Not understood by the screener"
UNRECOGNISED_ACTION = (
    "Say which rule this is, or record why it does not matter for massage, before completing."
)
# Why a mention was not counted (stored codes; the report shows the words).
REASONS = {
    "negated": "denied",
    "family": "about someone else",
    "history": "in the past",
    "hypothetical": "a possibility, not a fact",
    "vaccine": "a vaccine, not the illness",
}
_DRUG_MEMO_LIMIT = 10_000
# Short texts (notes, entries) repeat; the word-level reading of one that found nothing is
# remembered so it is not done again (bench row 1a).
_QUIET_TEXT_CHARS = 200


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
    # "seed" or "supplementary" (public guidance outside the clinic's source articles).
    tier: str = SEED
    # True when only a spelling guess matched ("osteoperosis" read as osteoporosis).
    fuzzy_only: bool = False
    # For `unrecognised` flags: the item ("conditions[1]: pacemaker") and suggested rules.
    item: str = ""
    suggestions: tuple[str, ...] = ()

    @property
    def dismissible(self) -> bool:
        """Return whether a therapist may dismiss this flag with a reason."""
        return (self.free_text_only or self.fuzzy_only) and self.code != UNRECOGNISED

    def to_dict(self) -> dict[str, Any]:
        """Return the flag in the SPEC section 5 shape."""
        data = {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "matched": list(self.matched),
            "actions": list(self.actions),
            "avoid_modalities": list(self.avoid_modalities),
            "avoid_regions": list(self.avoid_regions),
            "sources": [{"doc": s.doc, "quote": s.quote} for s in self.sources],
            "tier": self.tier,
        }
        if self.code == UNRECOGNISED:
            data["suggestions"] = list(self.suggestions)
        return data

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
            data.get("tier", SEED),
            suggestions=tuple(data.get("suggestions", ())),
        )


class Mention(NamedTuple):
    """A mention that did not count: the rule it names, the words, the field and why."""

    code: str
    text: str
    field: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text, "field": self.field, "reason": self.reason}


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
    set_aside: Collection[Any] = (),
    catalogue: Catalogue | None = None,
) -> Restrictions:
    """Return the decision, blocked modalities and regions to avoid of the flags that count.

    The one restriction policy: the engine, the screening report, every decision badge and
    the completion check all call it. Flags in `set_aside` (dismissed by the therapist, or
    review items resolved; given as flags or as codes) no longer count. The decision is the
    most severe remaining severity (`clear` if none); blocked modalities are the union of
    the remaining flags' (`all` blocks every modality); regions to avoid always include the
    universal precautions' regions.
    """
    cat = catalogue or get_catalogue()
    counted = tuple(flag for flag in flags if flag not in set_aside and flag.code not in set_aside)
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
    # Intake condition codes no rule knows (each is also an `unrecognised` review flag).
    unmatched_conditions: tuple[str, ...] = ()
    # Mentions that did not count: denied, someone else's, past, hypothetical, a vaccine.
    mentions_not_counted: tuple[Mention, ...] = ()
    gestational_days: int | None = None
    days_since_recovery: int | None = None
    supplementary_version: str = ""
    vocabulary_version: str = ""

    @property
    def dismissible_flags(self) -> tuple[Flag, ...]:
        """Return flags found only in free text (a therapist may dismiss them with a reason)."""
        return tuple(flag for flag in self.flags if flag.free_text_only)

    def to_dict(self) -> dict[str, Any]:
        """Return the result in the SPEC section 5 shape (what `manage.py screen` prints)."""
        return {
            "decision": self.decision,
            "flags": [flag.to_dict() for flag in self.flags],
            "blocked_modalities": list(self.blocked_modalities),
            "avoid_regions": list(self.avoid_regions),
            "universal_precautions": list(self.universal_precautions),
            "catalogue_version": self.catalogue_version,
            "unmatched_conditions": list(self.unmatched_conditions),
            "mentions_not_counted": [m.to_dict() for m in self.mentions_not_counted],
        }


class _Hits:
    """Collect, per rule index, why it matched; and the review items and uncounted mentions."""

    __slots__ = ("reasons", "structured", "exact", "review", "mentions")

    def __init__(self) -> None:
        self.reasons: dict[int, dict[str, None]] = {}
        # Rules with a reason that is not free text; rules with a reason that is no guess.
        self.structured: set[int] = set()
        self.exact: set[int] = set()
        # item -> suggestions; (code, text, field) -> reason.
        self.review: dict[str, dict[str, None]] = {}
        self.mentions: dict[tuple[str, str, str], str] = {}

    def add(self, rule: int, reason: str, *, free_text: bool = False, fuzzy: bool = False) -> None:
        self.reasons.setdefault(rule, {})[reason] = None
        if not free_text:
            self.structured.add(rule)
        if not fuzzy:
            self.exact.add(rule)

    def add_review(self, item: str, suggestions: Iterable[str] = ()) -> None:
        bucket = self.review.setdefault(item, {})
        for code in suggestions:
            bucket[code] = None

    def add_mention(self, code: str, text: str, field: str, reason: str) -> None:
        if len(text) > 1 and text[0] == text[-1] == "'":
            text = text[1:-1]  # the words themselves (SPEC section 5), not a quoted snippet
        self.mentions.setdefault((code, text, field), reason)


class _Reading:
    """What one read of a text found: the spans it understood, and whether any."""

    __slots__ = ("spans", "rule_spans", "understood")

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []
        self.rule_spans: list[tuple[int, int, set[int]]] = []
        self.understood = False

    def covers(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.spans)

    def rules_covering(self, start: int, end: int) -> set[int]:
        """Return the rules of earlier mentions that contain [start, end)."""
        rules: set[int] = set()
        for s, e, found in self.rule_spans:
            if s <= start and end <= e:
                rules |= found
        return rules


def screen(intake: IntakeData, catalogue: Catalogue | None = None) -> ScreeningResult:
    """Screen a parsed intake and return the decision, flags and restrictions."""
    cat = catalogue or get_catalogue()
    hits = _Hits()
    year = intake.visit_date.year
    unmatched = _match_conditions(intake, cat, hits, year)
    if intake.free_text:
        _read(intake.free_text, "free_text", cat, hits, year=year, free_text=True, extras=True)
    for i, item in enumerate(intake.medications):
        _read_item(
            item, f"medications[{i}]", "medication", cat.medication_keywords, cat, hits, year
        )
    for i, item in enumerate(intake.allergies):
        _read_item(item, f"allergies[{i}]", "allergy", cat.allergy_keywords, cat, hits, year)
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


def _match_conditions(intake: IntakeData, cat: Catalogue, hits: _Hits, year: int) -> list[str]:
    unmatched: list[str] = []
    acute_rules = cat.special_rules.get("any_condition_acute_true", ())
    for i, condition in enumerate(intake.conditions):
        code, acute, notes = condition.code, condition.acute, condition.notes
        field = f"conditions[{i}]"
        words = code.replace("_", " ")
        exact = cat.condition_targets.get(code) or _plural_targets(cat, code)
        understood = bool(exact)
        for target in exact:
            if target.rule < 0:
                hits.add_review(f"{field}: {words}", target.suggest)
            elif _acute_ok(target, acute):
                hits.add(target.rule, f"condition: {code}" + _wording_note(target))
        unit = f"{code} {notes}"
        reading = _read(
            words,
            field,
            cat,
            hits,
            year=year,
            acute=acute,
            unit=unit,
            label="condition",
            extras=not exact,
            entry=code,
        )
        understood = understood or reading.understood
        reviewed = any(item.startswith(field + ":") for item in hits.review)
        if notes:
            _read(
                notes,
                f"{field}.notes",
                cat,
                hits,
                year=year,
                acute=acute,
                unit=unit,
                label=f"condition notes ({code})",
                extras=True,
            )
        if acute:
            for rule in acute_rules:
                hits.add(rule, f"condition (acute): {code}")
        if not understood and not _guess_entry(words, field, "condition", cat, hits, acute):
            hits.add_review(f"{field}: {words}", _suggest(cat, words))
        reviewed = reviewed or any(item.startswith(field + ":") for item in hits.review)
        if reviewed and code not in unmatched:
            unmatched.append(code)
        if reviewed and notes:
            # The entry is reviewed as a whole (its notes are shown with it): no second item
            # for a word in its notes ('epilepsy' with 'last seizure 2019').
            entry = next(item for item in hits.review if item.startswith(field + ":"))
            for item in [i for i in hits.review if i.startswith(f"{field}.notes:")]:
                hits.review[entry].update(hits.review.pop(item))
    return unmatched


def _plural_targets(cat: Catalogue, code: str) -> tuple[Target, ...]:
    # "skin_diseases" is "skin_disease": a plural entry names the same condition.
    for cut in ("es", "s"):
        if code.endswith(cut) and len(code) > len(cut) + 2:
            found = cat.condition_targets.get(code[: -len(cut)])
            if found:
                return found
    return ()


def _wording_note(target: Target) -> str:
    if target.kind == "extension":
        return " (wording from public guidance outside the clinic's source articles)"
    return ""


def _label(field: str, label: str | None) -> str:
    return label or ("free text" if field == "free_text" else field)


def _read(
    text: str,
    field: str,
    cat: Catalogue,
    hits: _Hits,
    *,
    year: int,
    acute: bool | None = None,
    unit: str | None = None,
    label: str | None = None,
    free_text: bool = False,
    extras: bool = False,
    entry: str | None = None,
) -> _Reading:
    """Read one text (free text, notes or a condition entry) and record what it says.

    `entry` is set when the text is a whole condition entry: its reasons then name the entry
    ("condition: slipped_disc") and a review item is the entry itself.
    """
    reading = _Reading()
    language = cat.language
    found = cat.condition_keywords.finditer_cached(text) if len(text) <= 100 else None
    if found is None:
        found = cat.condition_keywords.finditer(text)
    if not found and not extras:
        return reading
    lowered = text.lower()
    denied_end = -1
    prefix = _label(field, label)
    for start, end, targets in found:
        kept: list[Target] = []
        review: dict[str, None] = {}
        understood = False
        for target in targets:
            if target.kind == "understood":
                understood = True
            elif target.rule < 0:
                review.update(dict.fromkeys(target.suggest))
                review.setdefault("", None)
            elif not _acute_ok(target, acute):
                understood = True
            elif target.context is not None and not target.context.search(
                unit if unit is not None else _sentence(text, start, end)
            ):
                continue
            elif _scoped_out(language, target.rule, lowered, start, end):
                review[cat.rules[target.rule].code] = None
                review.setdefault("", None)
            else:
                kept.append(target)
        if not kept and not review:
            if understood:
                reading.understood = True
                reading.spans.append((start, end))
            continue
        if kept:
            # A shorter match inside a longer one for the same rule is the same mention
            # ("bowel problems" in "no bladder or bowel problems").
            inside = reading.rules_covering(start, end)
            kept = [t for t in kept if t.rule not in inside]
            if not kept and not review:
                continue
        if not kept and reading.covers(start, end):
            continue
        context = _context(language, lowered, start, end, year, denied_end)
        if context.negated:
            denied_end = end
        if free_text:
            snippet = _snippet(text, start, end)
        elif entry is not None or len(text) <= 60:
            snippet = f"'{text}'"
        else:
            snippet = f"'{text[start:end]}'"
        reading.spans.append((start, end))
        reading.rule_spans.append((start, end, {t.rule for t in kept}))
        reading.understood = True
        for target in kept:
            rule = cat.rules[target.rule]
            why = _discount(rule, target, context)
            if why:
                hits.add_mention(rule.code, snippet, field, why)
                past = rule.when_past and why == "history"
                index = _rule_index(cat, rule.when_past) if past else None
                if index is not None:
                    hits.add(index, f"{prefix}: {snippet} (in the past)", free_text=free_text)
                continue
            if entry is not None:
                reason = f"condition: {entry}"
            elif label and label.startswith("condition notes"):
                reason = f"{prefix}: '{text[start:end]}'"
            else:
                reason = f"{prefix}: {snippet}"
            if target.red_flag and target.red_flag != "radiating":
                words = vocabulary.label("intake_red_flag", target.red_flag)
                reason = f"red flag in words ({words}): {snippet}"
            hits.add(target.rule, reason + _wording_note(target), free_text=free_text)
        discounted = context.negated or context.family or context.vaccine or context.hypothetical
        if not kept and review and not discounted:
            suggestions = [code for code in review if code]
            item = text if entry is not None else text[start:end]
            hits.add_review(f"{field}: {item}", suggestions)
    if extras and language is not None and text not in language.quiet:
        before = (len(reading.spans), len(hits.reasons), len(hits.review), len(hits.mentions))
        _read_words(text, lowered, field, prefix, cat, hits, reading, year, free_text, acute)
        after = (len(reading.spans), len(hits.reasons), len(hits.review), len(hits.mentions))
        if before == after and len(text) <= _QUIET_TEXT_CHARS and len(language.quiet) < 20_000:
            # Nothing in it for the word-level reading, whatever the intake: skip it next time.
            language.quiet.add(text)
    return reading


def _read_words(
    text: str,
    lowered: str,
    field: str,
    prefix: str,
    cat: Catalogue,
    hits: _Hits,
    reading: _Reading,
    year: int,
    free_text: bool,
    acute: bool | None,
) -> None:
    """Find medicines, likely misspellings and unknown medical words the terms missed."""
    language = cat.language
    lowered_words = lower_words(lowered)
    for start, end, generic in medicines_in_text(lowered, lowered_words):
        if reading.covers(start, end):
            continue
        reading.spans.append((start, end))
        reading.understood = True
        for _s, _e, targets in cat.medication_keywords.finditer_cached(generic):
            for target in targets:
                if target.rule < 0:
                    continue
                rule = cat.rules[target.rule]
                context = _context(language, lowered, start, end, year, -1)
                snippet = _snippet(text, start, end)
                why = _discount(rule, target, context)
                if why:
                    hits.add_mention(rule.code, snippet, field, why)
                else:
                    hits.add(target.rule, f"{prefix}: {snippet} ({generic})", free_text=free_text)
    # Only long words are guessed at (FUZZY_MIN_CHARS), and only those not already known to
    # be catalogue words or to have no guess: one or two a text.
    known, no_guess = language.known_words, language.no_guess
    candidates = [
        w
        for w in lowered_words
        if len(w) >= FUZZY_MIN_CHARS and w not in known and w not in no_guess
    ]
    for lowered_word in candidates:
        if language.guess_word(lowered_word) is None:
            continue
        for m in _word_at(lowered_word).finditer(lowered):
            if reading.covers(m.start(), m.end()):
                continue
            term, targets = language.guess_word(lowered_word)
            word = text[m.start() : m.end()]
            reading.spans.append((m.start(), m.end()))
            reading.understood = True
            context = _context(language, lowered, m.start(), m.end(), year, -1)
            _guessed(word, term, targets, field, prefix, cat, hits, free_text, acute, context)
    whole_entry = field.startswith("conditions") and "." not in field
    # Medical-looking words ('labyrinthitis'): their endings are checked on the word set, and
    # only such a word is located in the text.
    endings = language.suffix_endings
    for lowered_word in lowered_words:
        if (
            len(lowered_word) < 6
            or not lowered_word.endswith(endings)
            or lowered_word in language.not_medical
            or lowered_word in language.known_words
        ):
            continue
        for m in _word_at(lowered_word).finditer(lowered):
            if reading.covers(m.start(), m.end()):
                continue
            context = _context(language, lowered, m.start(), m.end(), year, -1)
            if not (context.negated or context.family or context.hypothetical):
                reading.spans.append((m.start(), m.end()))
                reading.understood = True
                word = text[m.start() : m.end()]
                hits.add_review(f"{field}: {text if whole_entry else word}")
    if lowered_words.isdisjoint(language.health_cue_words):
        return
    for m in language.health_cues.finditer(text):
        start, end = m.start(1), m.end(1)
        if any(s < end and start < e for s, e in reading.spans):
            continue
        phrase = re.split(r"\b(?:and|but|which|so|because)\b", m.group(1))[0].strip()
        if phrase:
            reading.spans.append((start, start + len(phrase)))
            reading.understood = True
            hits.add_review(f"{field}: {phrase}", _suggest(cat, phrase))


@functools.lru_cache(maxsize=4_000)
def _word_at(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'’-])" + re.escape(word) + r"(?![\w'’-])")


def _guessed(word, term, targets, field, prefix, cat, hits, free_text, acute, context) -> None:
    """Record a spelling guess: it may raise a flag (or a review), never lower one."""
    rules = [t for t in targets if t.rule >= 0 and _acute_ok(t, acute)]
    for target in rules:
        rule = cat.rules[target.rule]
        why = _discount(rule, target, context)
        shown = f"{word} ≈ {term} (spelling guess)"
        if why:
            hits.add_mention(rule.code, shown, field, why)
        else:
            hits.add(target.rule, f"{prefix}: {shown}", free_text=free_text, fuzzy=True)
    if not rules and not (context.negated or context.family or context.hypothetical):
        suggestions = [code for t in targets for code in t.suggest]
        hits.add_review(f"{field}: {word} ≈ {term}", suggestions)


def _guess_entry(words, field, label, cat, hits, acute) -> bool:
    language = cat.language
    if language is None:
        return False
    guess = language.guess_entry(words)
    if guess is None:
        return False
    term, targets = guess
    _guessed(words, term, targets, field, label, cat, hits, False, acute, NO_CONTEXT)
    return True


def _read_item(
    item: str,
    field: str,
    label: str,
    matcher: KeywordMatcher,
    cat: Catalogue,
    hits: _Hits,
    year: int,
) -> None:
    """Read one medication or allergy entry: a rule, understood, or a review item."""
    language = cat.language
    found = matcher.finditer_cached(item)
    lowered = item.lower()
    understood = False
    for start, end, targets in found:
        for target in targets:
            if target.kind == "understood":
                understood = True
                continue
            if target.rule < 0:
                hits.add_review(f"{field}: {item}", target.suggest)
                understood = True
                continue
            understood = True
            rule = cat.rules[target.rule]
            context = _context(language, lowered, start, end, year, -1) if language else NO_CONTEXT
            why = _discount(rule, target, context)
            if why:
                hits.add_mention(rule.code, f"'{item}'", field, why)
            else:
                hits.add(target.rule, f"{label}: {item}")
    if understood or language is None:
        return
    generics = _item_generics(item)
    for _first, _last, generic in generics:
        understood = True
        for _s, _e, targets in matcher.finditer_cached(generic):
            for target in targets:
                if target.rule < 0:
                    continue
                rule = cat.rules[target.rule]
                context = _context(language, lowered, 0, len(item), year, -1)
                why = _discount(rule, target, context)
                if why:
                    hits.add_mention(rule.code, f"'{item}' ({generic})", field, why)
                else:
                    hits.add(target.rule, f"{label}: {item} ({generic})")
    if understood:
        return
    for word in (m.group(0) for m in words_of(item)):
        guess = language.guess_word(word)
        if guess is not None:
            term, targets = guess
            _guessed(word, term, targets, field, label, cat, hits, False, None, NO_CONTEXT)
            return
    hits.add_review(f"{field}: {item}", _suggest(cat, item))


_generic_memo: dict[str, list[tuple[int, int, str]]] = {}


def _item_generics(item: str) -> list[tuple[int, int, str]]:
    """Return the medicines named in an entry (drug dictionary, loaded on first use)."""
    found = _generic_memo.get(item)
    if found is None:
        found = generic_names([m.group(0) for m in words_of(item)])
        if len(_generic_memo) < _DRUG_MEMO_LIMIT:
            _generic_memo[item] = found
    return found


def _suggest(cat: Catalogue, text: str) -> list[str]:
    language = cat.language
    if language is None:
        return []
    codes: dict[str, None] = {}
    for _term, targets in language.suggestions(text):
        for target in targets:
            if target.rule >= 0:
                codes[cat.rules[target.rule].code] = None
            codes.update(dict.fromkeys(target.suggest))
    return list(codes)[:3]


def _rule_index(cat: Catalogue, code: str) -> int | None:
    for rule in cat.rules:
        if rule.code == code:
            return rule.order
    return None


def _scoped_out(language, rule: int, lowered: str, start: int, end: int) -> bool:
    """Return whether a match means another thing ('aortic stenosis', 'burning pain')."""
    if language is None:
        return False
    qualifiers = language.not_with.get(rule)
    if qualifiers:
        before = lowered[max(0, start - 40) : start].split()[-3:]
        if any(word.strip(",;:()") in qualifiers for word in before):
            return True
    phrases = language.not_in.get(rule)
    if phrases is not None:
        for m in phrases.finditer(lowered, max(0, start - 30), min(len(lowered), end + 30)):
            if m.start() <= start and end <= m.end() + 1 or (m.start() < end and start < m.end()):
                return True
    return False


def _context(language, lowered: str, start: int, end: int, year: int, denied_end: int) -> Context:
    if language is None:
        return NO_CONTEXT
    context = language.context.assess(lowered, start, end, year=year)
    if (
        not context.negated
        and denied_end >= 0
        and language.context.continues_denial(lowered, denied_end, start)
    ):
        return dataclasses.replace(context, negated=True)
    return context


def _discount(rule, target: Target, context: Context) -> str | None:
    """Return why a mention does not count, or None when it counts.

    Red flags (and radiating pain) are discounted only by an explicit denial; history only
    discounts rules that mean a current condition.
    """
    if context is NO_CONTEXT:
        return None
    if target.red_flag or rule.red_flag:
        return "negated" if context.negated else None
    if context.negated:
        return "negated"
    if context.vaccine:
        return "vaccine"
    if context.family:
        return "family"
    if context.hypothetical:
        return "hypothetical"
    if context.history and rule.current_only:
        return "history"
    return None


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
    structured, exact = hits.structured, hits.exact
    review_rank = _SEVERITY_RANK[vocabulary.REVIEW]
    ordered = sorted(hits.reasons, key=sort_keys.__getitem__)
    rule_flags = [
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
            rules[i].tier,
            i not in exact,
        )
        for i in ordered
    ]
    review_flags = [
        Flag(
            UNRECOGNISED,
            vocabulary.REVIEW,
            UNRECOGNISED_TITLE,
            "other",
            (item,),
            (UNRECOGNISED_ACTION,),
            (),
            (),
            (),
            item.startswith("free_text"),
            SEED,
            False,
            item,
            tuple(suggestions),
        )
        for item, suggestions in hits.review.items()
    ]
    # Review items sit between the rules more severe than `review` and the milder ones.
    cut = next(
        (n for n, flag in enumerate(rule_flags) if _SEVERITY_RANK[flag.severity] > review_rank),
        len(rule_flags),
    )
    flags = (*rule_flags[:cut], *review_flags, *rule_flags[cut:])
    policy = restrictions(flags, catalogue=cat)
    mentions = tuple(
        Mention(code, text, field, reason) for (code, text, field), reason in hits.mentions.items()
    )
    return ScreeningResult(
        policy.decision,
        flags,
        policy.blocked_modalities,
        policy.avoid_regions,
        titles,
        cat.version,
        tuple(unmatched),
        mentions,
        gestational_days,
        days_since_recovery,
        cat.supplementary_version,
        cat.vocabulary_version,
    )
