"""Read the context of a mention: negated, someone else's, past, hypothetical, a vaccine.

A small ConText-style rule set (the cues are data, in language.yaml's `context` block). It was
chosen over medspaCy's ConText by scoring both on the labelled corpus in tests/screening/;
docs/screening-language.md has the comparison. The differences that matter for safety:

- a denial counts only when the cue ends right before the mention, with nothing but fillers
  between ("no history of any DVT"); a list continues it only through "or"/"nor" ("no fever
  or numbness"), never through a comma. So "can't control my bladder", "no idea if it is a
  hernia" and "no fever, numbness in my foot" are not denials;
- history ("from 2015", "healed", "stopped", "3 years ago") is read in the whole clause, and
  "still", "again", "not healed" keep a mention current;
- whether a context discounts a mention is the engine's decision (a red flag only by denial;
  history only for rules that mean a current condition).

Pure Python, no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Sentence ends: . ! ? ; and new lines (a dot inside a number, '37.8', is not one).
_SENTENCE_BREAK = re.compile(r"[.!?;](?!\d)|\n")
_COMMA = re.compile(r"[,:(]")
_YEAR = re.compile(r"\b(19[4-9]\d|20[0-4]\d)\b")
_TOKEN = re.compile(r"[\w'’]+|,")
_DIGIT = re.compile(r"\d")
_LETTERS = re.compile(r"[a-z]{2,}")


# Words too common to tell whether a cue can match ('in the past' needs 'past').
_COMMON = frozenset(
    [
        "in",
        "the",
        "to",
        "it",
        "of",
        "as",
        "all",
        "had",
        "was",
        "no",
        "up",
        "off",
        "when",
        "at",
        "a",
        "an",
        "i",
        "my",
        "me",
        "is",
        "are",
        "be",
        "and",
        "or",
        "on",
        "for",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "few",
        "many",
        "several",
        "couple",
        "fully",
        "ly",
        "them",
        "you",
        "have",
        "get",
        "gets",
        "feel",
        "ever",
        "about",
        "might",
        "develop",
    ]
)


def _cue_words(cues: Iterable[str]) -> set[str]:
    """Return the distinctive words of the cues: a clause with none of them cannot match.

    For regex cues the literal words of the pattern are taken, common words left out, so a
    cue's regex is run only on a clause that has one of its words.
    """
    words: set[str] = set()
    for cue in cues:
        found = _LETTERS.findall(re.sub(r"\\[a-z]", " ", cue.lower()))
        words.update(w for w in found if w not in _COMMON)
    return words


_WINDOW = 120
_MEMO_LIMIT = 20_000
_MEMO_TEXT_CHARS = 120


@dataclass(frozen=True)
class Context:
    """What surrounds one mention. Each field is one ConText category."""

    negated: bool = False
    family: bool = False
    history: bool = False
    hypothetical: bool = False
    vaccine: bool = False


NO_CONTEXT = Context()


def _words(phrases: Iterable[str]) -> str:
    """Return an alternation of phrases (longest first), spaces matching any whitespace."""
    ordered = sorted({p.strip().lower() for p in phrases if p.strip()}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in ordered)


class ContextRules:
    """The compiled cues; `assess(text, start, end)` reads one mention's context."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self._memo: dict[tuple[str, int, int, int | None], Context] = {}
        # Denials and family are read word by word, walking back from the mention: cheaper
        # than a regex over the window, and exact about what stands between.
        self._negation_cues = frozenset(tuple(c.lower().split()) for c in raw["negation_cues"])
        self._cue_lengths = sorted({len(c) for c in self._negation_cues}, reverse=True)
        self._fillers = frozenset(w.lower() for w in raw["negation_fillers"])
        self._negation_after = re.compile(
            r"^\s*(?:" + "|".join(f"(?:{p})" for p in raw["negation_after"]) + ")"
        )
        self._family_words = frozenset(tuple(w.lower().split()) for w in raw["family"])
        self._family_after = re.compile(
            r"\b(?:" + "|".join(f"(?:{p})" for p in raw["family_after"]) + r")\b"
        )
        self._self_words = frozenset(w.lower() for w in raw["self_words"])
        self._self_after = re.compile("|".join(f"(?:{p})" for p in raw.get("self_after") or ["$^"]))
        self._history = re.compile("|".join(f"(?:{p})" for p in raw["history"]))
        self._still = re.compile("|".join(f"(?:{p})" for p in raw["still_current"]))
        self._hypothetical = re.compile(r"\b(?:" + _words(raw["hypothetical"]) + r")\b")
        self._vaccine = re.compile(r"\b(?:" + _words(raw["vaccine"]) + r")\b")
        self._terminator = re.compile(r"\b(?:" + _words(raw["terminators"]) + r")\b")
        self._list_continuation = re.compile(r"^[\s,]*(?:or|nor)\s+(?:any\s+|a\s+|an\s+)?$")
        # Words one of whose cues needs them: a clause without any is not searched.
        self._family_after_words = frozenset({"family", "side"})
        # (Optional endings in the patterns, 'former(ly)?', 'years?', are added by hand.)
        self._history_words = frozenset(_cue_words(raw["history"])) | {
            "formerly",
            "year",
            "decade",
            "yr",
        }
        self._hypothetical_words = frozenset(_cue_words(raw["hypothetical"])) | {"if"}
        self._vaccine_words = frozenset(w.lower() for w in raw["vaccine"])
        # A clause with none of these words (and no digit) has no context at all.
        cue_tokens = {w for cue in self._negation_cues for w in cue}
        cue_tokens |= {w for phrase in self._family_words for w in phrase}
        self._any_cue_word = frozenset(
            cue_tokens
            | self._family_after_words
            | self._history_words
            | self._hypothetical_words
            | self._vaccine_words
            | {"ruled", "negative", "excluded"}
        )

    def _denied(self, tokens: list[str]) -> bool:
        """Return whether a denial cue ends the tokens, with only fillers after it."""
        i = len(tokens)
        while i > 0:
            for k in self._cue_lengths:
                if k <= i and tuple(tokens[i - k : i]) in self._negation_cues:
                    return True
            if tokens[i - 1] in self._fillers or tokens[i - 1] == ",":
                i -= 1
                continue
            return False
        return False

    def _someone_else(self, tokens: list[str]) -> bool:
        """Return whether a family word comes before the mention with no 'I' after it."""
        for i in range(len(tokens) - 1, -1, -1):
            word = tokens[i]
            if word in self._self_words:
                return False
            if (word,) in self._family_words or tuple(tokens[i - 1 : i + 1]) in self._family_words:
                return True
        return False

    def clause(self, lowered: str, start: int, end: int) -> tuple[int, int]:
        """Return the bounds of the clause holding [start, end): a sentence cut at 'but'."""
        left = max(0, start - _WINDOW)
        cut = left
        for mark in ".!?;\n":
            at = lowered.rfind(mark, left, start)
            # A dot inside a number ('37.8') does not end a sentence.
            while at != -1 and mark == "." and lowered[at + 1 : at + 2].isdigit():
                at = lowered.rfind(mark, left, at)
            if at + 1 > cut:
                cut = at + 1
        for m in self._terminator.finditer(lowered, cut, start):
            cut = m.end()
        right = min(len(lowered), end + _WINDOW)
        stop = right
        m = _SENTENCE_BREAK.search(lowered, end, right)
        if m:
            stop = m.start()
        m = self._terminator.search(lowered, end, stop)
        if m:
            stop = m.start()
        return cut, stop

    def _sentence(self, lowered: str, start: int, end: int) -> str:
        left = max(0, start - _WINDOW)
        for m in _SENTENCE_BREAK.finditer(lowered, left, start):
            left = m.end()
        m = _SENTENCE_BREAK.search(lowered, end, min(len(lowered), end + _WINDOW))
        return lowered[left : m.start() if m else min(len(lowered), end + _WINDOW)]

    def continues_denial(self, lowered: str, previous_end: int, start: int) -> bool:
        """Return whether only 'or'/'nor' stands between a denied mention and this one."""
        return bool(self._list_continuation.match(lowered[previous_end:start]))

    def assess(self, lowered: str, start: int, end: int, *, year: int | None = None) -> Context:
        """Return the context of the mention lowered[start:end] (lowered = text.lower())."""
        if len(lowered) > _MEMO_TEXT_CHARS:
            return self._assess(lowered, start, end, year)
        # Entries repeat (medicines, short notes): remember their contexts, bounded.
        key = (lowered, start, end, year)
        found = self._memo.get(key)
        if found is None:
            found = self._assess(lowered, start, end, year)
            if len(self._memo) < _MEMO_LIMIT:
                self._memo[key] = found
        return found

    def _assess(self, lowered: str, start: int, end: int, year: int | None) -> Context:
        left, right = self.clause(lowered, start, end)
        before = lowered[left:start]
        after = lowered[end:right]
        tokens = _TOKEN.findall(before)
        after_tokens = _TOKEN.findall(after)
        # The regexes below run only when a word they need is there (most clauses have none).
        words = set(tokens).union(after_tokens)
        if words.isdisjoint(self._any_cue_word) and not _DIGIT.search(lowered, left, right):
            return NO_CONTEXT
        negated = self._denied(tokens) or (
            bool(after_tokens) and bool(self._negation_after.match(after))
        )
        family = self._someone_else(tokens)
        if not family and not words.isdisjoint(self._family_after_words):
            family = bool(self._family_after.search(after))
        if family and not words.isdisjoint(self._self_words):
            family = not self._self_after.search(after)
        history = False
        if not words.isdisjoint(self._history_words) or _DIGIT.search(lowered, left, right):
            for m in self._history.finditer(lowered, left, right):
                found = _YEAR.fullmatch(m.group(0))
                if found is None or year is None or int(found.group(0)) < year:
                    history = True
                    break
            # "Still", "again" or "not healed" anywhere in the sentence keeps a mention
            # current ("stopped warfarin but started again").
            if history and self._still.search(self._sentence(lowered, start, end)):
                history = False
        hypothetical = False
        if not words.isdisjoint(self._hypothetical_words):
            # A hypothetical reaches only to the next comma ("if it rains I stay in, I ...").
            sub = before
            commas = list(_COMMA.finditer(before))
            if commas:
                sub = before[commas[-1].end() :]
            hypothetical = bool(self._hypothetical.search(sub))
        vaccine = False
        if not words.isdisjoint(self._vaccine_words):
            near = lowered[max(left, start - 30) : min(right, end + 30)]
            vaccine = bool(self._vaccine.search(near))
        if not (negated or family or history or hypothetical or vaccine):
            return NO_CONTEXT
        return Context(negated, family, history, hypothetical, vaccine)
