"""Find catalogue keywords in text with one precompiled regex per field.

The catalogue has a few hundred keywords and phrases; trying each on its own would make
screening an intake with free text cost milliseconds. They are compiled once into a
trie-shaped alternation (bench row 1a, "engine alone", needs this).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Separators between the words of a keyword or a code: '_' and '-' mean a space, and an
# article may be left out or added ('toward spinal canal' = 'toward the spinal canal').
_WORD_SPLIT = re.compile(r"[\s_\-]+")
_SEP = r"[\s_\-]+(?:(?:the|an|a)[\s_\-]+)?"
# A keyword starts a word: not preceded by a letter or digit ('oil' is not in 'boil').
_WORD_START = r"(?<![^\W_])"
# A whole word ends at a word end, plural allowed; a lookahead so the hit stays the keyword.
_WORD_END = r"(?=(?:e?s)?(?![^\W_]))"
# Bounded memo tables so repeated codes and drug names are matched once per process
# (bench row 1a: most intakes repeat the same few condition codes and medicines).
_MEMO_LIMIT = 10_000
_MEMO_TEXT_CHARS = 100


@dataclass(frozen=True)
class Target:
    """One way a keyword or code can flag a rule (a rule may have several clauses).

    `kind` says where the words come from: "rule" (the catalogue's own keywords and codes),
    "lay" (a lay term, abbreviation or misspelling), "clinic" (the clinic's vocabulary),
    "extension" (supplementary wording for a seed rule), "red_flag" (a red-flag symptom in
    words), "lexicon" (a health word no rule covers: review it, `rule` is -1) or "withheld"
    (a supplementary rule while that tier is off: review it, `rule` is -1). `suggest` names
    the rules a review item points to.
    """

    rule: int
    requires_acute: bool | None
    context: re.Pattern[str] | None = None
    kind: str = "rule"
    suggest: tuple[str, ...] = ()
    red_flag: str | None = None


Hit = tuple[int, int, tuple[Target, ...]]


@dataclass(frozen=True)
class KeywordMatcher:
    """Find catalogue keywords in a text with one precompiled regex.

    `pattern` is a trie-shaped alternation of every keyword inside a lookahead at each word
    start, so one C-level finditer reports overlapping hits ('large hernia' and 'hernia').
    A hit is canonicalised and looked up in `targets`, which already includes the shorter
    keywords hidden inside it at the same start.
    """

    pattern: re.Pattern[str] | None
    pattern_ci: re.Pattern[str] | None
    targets: Mapping[str, tuple[Target, ...]]
    _memo: dict[str, tuple[Target, ...]] = field(default_factory=dict, repr=False)
    _text_memo: dict[str, list[Hit]] = field(default_factory=dict, repr=False)

    def finditer_cached(self, text: str) -> list[Hit]:
        """Return finditer(text), remembered for short, repeating texts (codes, drug names).

        The returned list is shared between calls; callers must not change it.
        """
        hits = self._text_memo.get(text)
        if hits is None:
            hits = self.finditer(text)
            if len(text) <= _MEMO_TEXT_CHARS and len(self._text_memo) < _MEMO_LIMIT:
                self._text_memo[text] = hits
        return hits

    def finditer(self, text: str) -> list[Hit]:
        """Return (start, end, targets) for every keyword hit, overlapping ones included."""
        if self.pattern is None or not text:
            return []
        lowered = text.lower()
        pattern = self.pattern
        if len(lowered) != len(text):
            # Rare: lower() changed the length (e.g. 'İ'), so offsets would drift.
            lowered, pattern = text, self.pattern_ci
        hits = []
        memo = self._memo
        for m in pattern.finditer(lowered):
            hit = m.group(1)
            targets = memo.get(hit)
            if targets is None:
                targets = self.targets.get(canonical_phrase(hit), ())
                if len(memo) < _MEMO_LIMIT:
                    memo[hit] = targets
            if targets:
                start = m.start()
                hits.append((start, start + len(hit), targets))
        return hits


def canonical_phrase(text: str) -> str:
    """Return a keyword or matched text as lower-case words without articles."""
    words = [w for w in _WORD_SPLIT.split(text.lower()) if w and w not in ("the", "a", "an")]
    return " ".join(words)


def compile_alternation(keywords: Iterable[str], whole_words: frozenset[str]) -> re.Pattern[str]:
    """Return one regex that finds any of `keywords` (longest first) at a word start."""
    phrases = sorted({canonical_phrase(k) for k in keywords}, key=len, reverse=True)
    return re.compile("|".join(_keyword_regex(p, whole_words) for p in phrases), re.IGNORECASE)


def keyword_matcher(
    targets: dict[str, list[Target]], whole_words: frozenset[str]
) -> KeywordMatcher:
    """Compile keywords into one trie-shaped regex plus a hit -> targets table.

    A trie (common prefixes factored out) keeps Python's backtracking regex from trying
    every keyword at every position. At one position the longest keyword wins, so each
    keyword's entry also carries the targets of shorter keywords that match inside it at
    the same start ('large hernia' also means 'large', 'metastases in spine' also 'metasta').
    """
    if not targets:
        return KeywordMatcher(None, None, {})
    # A shorter keyword can only match inside a phrase at the same start if both begin
    # with the same character: compare within those groups (hundreds, not thousands).
    singles: dict[str, dict[str, re.Pattern[str]]] = {}
    for p in targets:
        singles.setdefault(p[:1], {})[p] = re.compile(_keyword_regex(p, whole_words))
    table: dict[str, tuple[Target, ...]] = {}
    for phrase in targets:
        merged: list[Target] = []
        for other, pattern in singles[phrase[:1]].items():
            if other == phrase or pattern.match(phrase):
                merged.extend(t for t in targets[other] if t not in merged)
        table[phrase] = tuple(merged)
    trie: dict[str, Any] = {}
    for phrase in targets:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = phrase
    # Keywords are lower case and the text is lowered first: IGNORECASE makes sre ~3x slower.
    source = _WORD_START + "(?=(" + _trie_regex(trie, whole_words) + "))"
    return KeywordMatcher(re.compile(source), re.compile(source, re.IGNORECASE), table)


def _keyword_regex(phrase: str, whole_words: frozenset[str]) -> str:
    words = phrase.split(" ")
    body = _SEP.join(re.escape(w) for w in words)
    return _WORD_START + body + (_WORD_END if phrase in whole_words else "")


def _trie_regex(node: dict[str, Any], whole_words: frozenset[str]) -> str:
    branches = []
    end = None
    for char, child in sorted(node.items()):
        if char == "":
            end = _WORD_END if child in whole_words else ""
            continue
        piece = _SEP if char == " " else re.escape(char)
        branches.append(piece + _trie_regex(child, whole_words))
    if not branches:
        return end or ""
    alternation = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if end is None:
        return alternation
    # Greedy: prefer the longer keyword, fall back to the one that ends here.
    return "(?:" + alternation + "|" + end + ")" if end else "(?:" + alternation + ")?"
