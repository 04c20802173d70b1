"""Read what people write: entries, notes, free text, medicines and allergies.

Lay terms, abbreviations and misspellings point at rules (language.yaml); medicine brand
names resolve to generics; a mention that is denied, someone else's, only past, hypothetical
or about a vaccine is listed as not counted rather than flagged; anything health-like that
maps to no rule becomes a review item.

About 470 lines on purpose: this is one reading pass (find a term, read its context, count
it or say why not, guess a misspelling) whose steps share the same state; split further, a
reader would chase one algorithm across files.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from clinical import vocabulary
from clinical.catalogue import Catalogue, KeywordMatcher, Target
from clinical.catalogue.context import NO_CONTEXT, Context
from clinical.catalogue.language import (
    FUZZY_MIN_CHARS,
    generic_names,
    lower_words,
    medicines_in_text,
    words_of,
)
from screening.engine.results import Hits

SNIPPET_CONTEXT = 30
_SENTENCE_BREAK = re.compile(r"[.!?;\n]")
_DRUG_MEMO_LIMIT = 10_000
# Short texts (notes, entries) repeat; the word-level reading of one that found nothing is
# remembered so it is not done again (bench row 1a).
_QUIET_TEXT_CHARS = 200


class Reading:
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


def acute_ok(target: Target, acute: bool | None) -> bool:
    # acute=None is free text: it can satisfy "either" or "not acute", never "acute".
    if target.requires_acute is None:
        return True
    if acute is None:
        return target.requires_acute is False
    return target.requires_acute is acute


def plural_targets(cat: Catalogue, code: str) -> tuple[Target, ...]:
    # "skin_diseases" is "skin_disease": a plural entry names the same condition.
    for cut in ("es", "s"):
        if code.endswith(cut) and len(code) > len(cut) + 2:
            found = cat.condition_targets.get(code[: -len(cut)])
            if found:
                return found
    return ()


def wording_note(target: Target) -> str:
    if target.kind == "extension":
        return " (wording from public guidance outside the clinic's source articles)"
    return ""


def _label(field: str, label: str | None) -> str:
    return label or ("free text" if field == "free_text" else field)


def read(
    text: str,
    field: str,
    cat: Catalogue,
    hits: Hits,
    *,
    year: int,
    acute: bool | None = None,
    unit: str | None = None,
    label: str | None = None,
    free_text: bool = False,
    extras: bool = False,
    entry: str | None = None,
) -> Reading:
    """Read one text (free text, notes or a condition entry) and record what it says.

    `entry` is set when the text is a whole condition entry: its reasons then name the entry
    ("condition: slipped_disc") and a review item is the entry itself.
    """
    reading = Reading()
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
            elif not acute_ok(target, acute):
                understood = True
            elif target.context is not None and not target.context.search(
                unit if unit is not None else sentence(text, start, end)
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
            snippet = quoted(text, start, end)
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
            hits.add(target.rule, reason + wording_note(target), free_text=free_text)
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
    hits: Hits,
    reading: Reading,
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
                snippet = quoted(text, start, end)
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
            hits.add_review(f"{field}: {phrase}", suggest(cat, phrase))


@functools.lru_cache(maxsize=4_000)
def _word_at(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'’-])" + re.escape(word) + r"(?![\w'’-])")


def _guessed(word, term, targets, field, prefix, cat, hits, free_text, acute, context) -> None:
    """Record a spelling guess: it may raise a flag (or a review), never lower one."""
    rules = [t for t in targets if t.rule >= 0 and acute_ok(t, acute)]
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


def guess_entry(words, field, label, cat, hits, acute) -> bool:
    language = cat.language
    if language is None:
        return False
    guess = language.guess_entry(words)
    if guess is None:
        return False
    term, targets = guess
    _guessed(words, term, targets, field, label, cat, hits, False, acute, NO_CONTEXT)
    return True


def read_item(
    item: str,
    field: str,
    label: str,
    matcher: KeywordMatcher,
    cat: Catalogue,
    hits: Hits,
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
    hits.add_review(f"{field}: {item}", suggest(cat, item))


_generic_memo: dict[str, list[tuple[int, int, str]]] = {}


def _item_generics(item: str) -> list[tuple[int, int, str]]:
    """Return the medicines named in an entry (drug dictionary, loaded on first use)."""
    found = _generic_memo.get(item)
    if found is None:
        found = generic_names([m.group(0) for m in words_of(item)])
        if len(_generic_memo) < _DRUG_MEMO_LIMIT:
            _generic_memo[item] = found
    return found


def suggest(cat: Catalogue, text: str) -> list[str]:
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


def sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(c, 0, start) for c in ".!?;\n") + 1
    m = _SENTENCE_BREAK.search(text, end)
    return text[left : m.start() if m else len(text)]


def quoted(text: str, start: int, end: int) -> str:
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
