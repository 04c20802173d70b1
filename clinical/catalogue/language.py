"""The words people use: load language.yaml, expand its terms, and hold what reading needs.

language.yaml is editorial data (lay terms, abbreviations, misspellings, scopes, context cues
and a small health lexicon). `expand()` turns a term with alternatives into plain phrases;
`Language` is the compiled result the engine reads with (built by compile_catalogue).
The drug dictionary and the fuzzy matcher are loaded lazily, the first time an entry or a
text needs them, so screening structured intakes never pays for them. Pure Python.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinical.catalogue.context import ContextRules
from clinical.catalogue.matcher import Target, canonical_phrase

LANGUAGE_PATH = Path(__file__).with_name("language.yaml")

_GROUP = re.compile(r"\(([^()]*)\)")
_WORD = re.compile(r"[^\W\d_][\w'’\-]*")
RULE_KEYS = frozenset(
    {"terms", "medication", "allergy", "not_with", "not_in", "current_only", "when_past"}
    | {"red_flag", "red_flags"}
)
# A typo is guessed only for words this long, at this edit distance, sharing the first two
# letters with the term: conservative on purpose (a guess may raise a flag, never lower one).
FUZZY_MIN_CHARS = 8
FUZZY_LONG_CHARS = 11
FUZZY_ENTRY_SCORE = 88
SUGGESTION_SCORE = 70


def expand(term: str) -> list[str]:
    """Return the plain phrases of a term: '(a|b) c' gives ['a c', 'b c'] ('*' is kept)."""
    parts = _GROUP.split(term)
    # split() with one group alternates text, alternatives, text...
    choices = [[part] if i % 2 == 0 else part.split("|") for i, part in enumerate(parts)]
    return [" ".join("".join(combo).split()) for combo in itertools.product(*choices)]


def split_stem(phrase: str) -> tuple[str, bool]:
    """Return (phrase without '*', whether it is a whole word or phrase)."""
    phrase = phrase.strip()
    if phrase.endswith("*"):
        return phrase[:-1].strip(), False
    return phrase, True


def validate_language(raw: Any, rule_codes: Iterable[str]) -> list[str]:
    """Return every problem in language.yaml; each message names the rule or block."""
    if not isinstance(raw, dict):
        return ["language: must be a mapping"]
    errors: list[str] = []
    if not raw.get("version"):
        errors.append("language: missing version")
    known = set(rule_codes)
    rules = raw.get("rules")
    if not isinstance(rules, dict):
        return [*errors, "language: rules must be a mapping of rule codes"]
    for code, entry in rules.items():
        label = f"language rule {code!r}"
        if code not in known:
            errors.append(f"{label}: no such rule in either tier")
            continue
        if not isinstance(entry, dict):
            errors.append(f"{label}: must be a mapping")
            continue
        for key in sorted(set(entry) - RULE_KEYS):
            errors.append(f"{label}: unknown key {key!r}")
        for key in ("terms", "medication", "allergy", "not_with", "not_in"):
            value = entry.get(key)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) and v for v in value)
            ):
                errors.append(f"{label}: {key} must be a list of non-empty strings")
        if entry.get("when_past") is not None and entry["when_past"] not in known:
            errors.append(f"{label}: when_past names an unknown rule {entry['when_past']!r}")
        red_flags = entry.get("red_flags")
        if red_flags is not None and not isinstance(red_flags, dict):
            errors.append(f"{label}: red_flags must map red-flag codes to terms")
    context = raw.get("context")
    needed = [
        "negation_cues",
        "negation_fillers",
        "negation_after",
        "family",
        "family_after",
        "self_words",
        "history",
        "still_current",
        "hypothetical",
        "vaccine",
        "terminators",
    ]
    if not isinstance(context, dict):
        errors.append("language: context must be a mapping")
    else:
        for key in needed:
            if not isinstance(context.get(key), list) or not context[key]:
                errors.append(f"language: context.{key} must be a non-empty list")
        if not any(e.startswith("language: context") for e in errors):
            try:
                ContextRules(context)
            except re.error as exc:
                errors.append(f"language: a context cue is not a valid pattern ({exc})")
    lexicon = raw.get("lexicon")
    if not isinstance(lexicon, dict):
        errors.append("language: lexicon must be a mapping")
    else:
        for index, item in enumerate(lexicon.get("conditions") or []):
            if not isinstance(item, dict) or not item.get("terms"):
                errors.append(f"language: lexicon.conditions[{index}] needs terms")
                continue
            for code in item.get("suggest") or ():
                if code not in known:
                    errors.append(f"language: lexicon.conditions[{index}] suggests {code!r}")
    return errors


@dataclass(eq=False)
class Language:
    """What reading text needs, compiled once with the catalogue."""

    version: str
    context: ContextRules
    # Per rule index: qualifier words that move a match elsewhere, phrases that unmake it.
    not_with: Mapping[int, frozenset[str]]
    not_in: Mapping[int, re.Pattern[str]]
    suffix: re.Pattern[str]
    not_medical: frozenset[str]
    health_cues: re.Pattern[str]
    # The suffixes as a tuple (str.endswith), and the words every health cue starts with.
    suffix_endings: tuple[str, ...]
    health_cue_words: frozenset[str]
    # Fuzzy look-up: first two letters -> [(word, targets)]; whole entries -> targets.
    fuzzy_words: Mapping[str, tuple[tuple[str, tuple[Target, ...]], ...]]
    fuzzy_entries: Mapping[str, tuple[Target, ...]]
    known_words: frozenset[str]
    fuzzy_stopwords: frozenset[str]
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    # Lower-case words already found to have no guess (bounded; read with set difference).
    no_guess: set[str] = field(default_factory=set, repr=False)
    # Short texts the word-level reading found nothing in (the engine fills it, bounded).
    quiet: set[str] = field(default_factory=set, repr=False)

    def guess_word(self, word: str) -> tuple[str, tuple[Target, ...]] | None:
        """Return (term, targets) for a likely misspelling of a catalogue word, or None."""
        lowered = word.lower()
        if (
            len(lowered) < FUZZY_MIN_CHARS
            or lowered in self.known_words
            or lowered in self.fuzzy_stopwords
            or lowered in self.no_guess
        ):
            return None
        memo = self._memo
        key = "w:" + lowered
        if key in memo:
            return memo[key]
        distance = _levenshtein()
        limit = 2 if len(lowered) >= FUZZY_LONG_CHARS else 1
        best = None
        for term, targets in self.fuzzy_words.get(lowered[:2], ()):
            if abs(len(term) - len(lowered)) > limit:
                continue
            d = distance(lowered, term, score_cutoff=limit)
            if d <= limit and (best is None or d < best[0]):
                best = (d, term, targets)
        result = None if best is None else (best[1], best[2])
        if len(memo) < 20_000:
            memo[key] = result
            if result is None:
                self.no_guess.add(lowered)
        return result

    def guess_entry(self, text: str) -> tuple[str, tuple[Target, ...]] | None:
        """Return (term, targets) for a structured entry that is a misspelt term, or None."""
        phrase = canonical_phrase(text)
        key = "e:" + phrase
        if key in self._memo:
            return self._memo[key]
        process, fuzz = _rapidfuzz()
        found = process.extractOne(
            phrase, self._entry_choices, scorer=fuzz.ratio, score_cutoff=FUZZY_ENTRY_SCORE
        )
        result = None if found is None else (found[0], self.fuzzy_entries[found[0]])
        if len(self._memo) < 20_000:
            self._memo[key] = result
        return result

    def suggestions(self, text: str, limit: int = 3) -> list[tuple[str, tuple[Target, ...]]]:
        """Return the terms most like `text` (for a review item's suggestions), remembered."""
        phrase = canonical_phrase(text)
        key = "s:" + phrase
        if key not in self._memo:
            process, fuzz = _rapidfuzz()
            found = process.extract(
                phrase,
                self._entry_choices,
                scorer=fuzz.token_set_ratio,
                score_cutoff=SUGGESTION_SCORE,
                limit=limit * 3,
            )
            result = [(term, self.fuzzy_entries[term]) for term, _score, _i in found]
            if len(self._memo) < 20_000:
                self._memo[key] = result
            return result
        return self._memo[key]

    @functools.cached_property
    def _entry_choices(self) -> tuple[str, ...]:
        return tuple(self.fuzzy_entries)


@functools.cache
def _rapidfuzz():
    # Imported on first use: only entries the catalogue does not know need it.
    from rapidfuzz import fuzz, process

    return process, fuzz


@functools.cache
def _levenshtein():
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance


def words_of(text: str) -> list[re.Match[str]]:
    """Return the words of a text as regex matches (letters first; hyphens and ' inside)."""
    return list(_WORD.finditer(text))


@functools.cache
def _drug_dictionary() -> tuple[Any, Mapping[str, list[str]]]:
    """Return (find_drugs or None, variant -> generic names) of drug-named-entity-recognition.

    Loaded on first use, when a medicine or a text is not explained by the catalogue's own
    words. Only the package's name table is needed (exact look-ups; its fuzzy mode resolves
    typos to unrelated drugs), so its data file is read directly: about 0.4 s, where
    importing the package also builds a fuzzy n-gram index and takes 3 to 6 s (measured in
    docs/screening-language.md). The package version is pinned; tests check the resolution.
    """
    import bz2
    import importlib.util
    import pickle

    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is not None and spec.origin:
        data = Path(spec.origin).with_name("drug_ner_dictionary.pkl.bz2")
        if data.exists():
            # The installed, hash-pinned package's own data file (not user input).
            with bz2.open(data, "rb") as f:
                table = pickle.load(f)["drug_variant_to_canonical"]  # noqa: S301
            return None, table
    from drug_named_entity_recognition import drugs_finder

    return drugs_finder.find_drugs, drugs_finder.drug_variant_to_canonical


_LOWER_WORD = re.compile(r"[a-z][a-z'’\-]*")


@functools.cache
def _first_words() -> frozenset[str]:
    """Return the first words of the dictionary's two-word names ('vitamin' of 'vitamin d')."""
    _find, variants = _drug_dictionary()
    firsts = (v.split(" ", 1)[0] for v in variants if v.count(" ") == 1)
    return frozenset(w for w in firsts if len(w) >= 4)


@functools.lru_cache(maxsize=2_000)
def _pair_pattern(first: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z'’\-])" + re.escape(first) + r" ([a-z][a-z'’\-]*)")


def lower_words(lowered: str) -> set[str]:
    """Return the set of words of a lower-cased text (one C-level pass)."""
    return set(_LOWER_WORD.findall(lowered))


def medicines_in_text(lowered: str, words: set[str] | None = None) -> list[tuple[int, int, str]]:
    """Return (start, end, generic name) for each medicine named in a lower-cased text.

    Look-ups of the text's words find the few candidates first, so a paragraph with no
    medicine costs a few microseconds; only candidates are located and resolved.
    """
    _find, variants = _drug_dictionary()
    if words is None:
        words = lower_words(lowered)
    firsts_known = _first_words()
    singles = {w for w in words if w in variants and len(w) >= 3}
    firsts = {w for w in words if w in firsts_known}
    if not singles and not firsts:
        return []
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for first in firsts:
        for m in _pair_pattern(first).finditer(lowered):
            for generic in variants.get(f"{first} {m.group(1)}", ()):
                found.append((m.start(), m.end(), generic))
                taken.append((m.start(), m.end()))
    for word in singles:
        for m in _word_pattern(word).finditer(lowered):
            if any(s <= m.start() < e for s, e in taken):
                continue
            for generic in variants.get(word, ()):
                found.append((m.start(), m.end(), generic))
    return found


@functools.lru_cache(maxsize=2_000)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z'’\-])" + re.escape(word) + r"(?![a-z'’\-])")


def generic_names(words: list[str]) -> list[tuple[int, int, str]]:
    """Return (first word, end word, generic name) for each medicine named in `words`.

    Brand names resolve to generics (Clexane -> enoxaparin). Exact look-ups only: the
    dictionary's own fuzzy mode resolves typos to unrelated drugs.
    """
    _find, variants = _drug_dictionary()
    found: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    lowered = [w.lower() for w in words]
    for i in range(len(lowered) - 1):
        for generic in variants.get(lowered[i] + " " + lowered[i + 1], ()):
            found.append((i, i + 2, generic))
            taken.update((i, i + 1))
    for i, word in enumerate(lowered):
        if i in taken or len(word) < 3:
            continue
        for generic in variants.get(word, ()):
            found.append((i, i + 1, generic))
    return found
