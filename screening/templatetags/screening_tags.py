"""Template helpers for screening pages: catalogue rules named in words."""

from __future__ import annotations

import functools
import re

from django import template

from clinical import vocabulary
from clinical.catalogue import get_catalogue
from intake.diff import condition_words

register = template.Library()

# The engine says what matched as "<what>: <value>" (SPEC section 5); a condition's value is
# the code the intake stored ("condition: herniated_disc").
_MATCHED_CONDITION = re.compile(r"^(condition: )([a-z0-9_]+)$")


@functools.cache
def _rule_names() -> tuple[re.Pattern, dict[str, str]]:
    titles = {rule.code: rule.title for rule in get_catalogue().rules}
    # Longest first, so a code that contains a shorter one is replaced whole.
    codes = sorted(titles, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, codes)) + r")(?![\w])")
    return pattern, titles


@register.filter
def rule_titles(text: str) -> str:
    """Name the catalogue rules a text refers to by code ("see recent_illness_within_7_days")
    by their titles, in quotes: the catalogue's actions point to other rules that way."""
    pattern, titles = _rule_names()
    return pattern.sub(lambda m: f"“{titles[m.group(1)]}”", text or "")


@functools.cache
def _code_words() -> tuple[re.Pattern, dict[str, str]]:
    catalogue = get_catalogue()
    words = {rule.code: f"“{rule.title}”" for rule in catalogue.rules}
    for rule in catalogue.rules:
        for code in rule.condition_codes:
            words.setdefault(code, condition_words(code))
    for code in vocabulary.MODALITY_CODES:
        words.setdefault(code, vocabulary.label("modality", code))
    for code in vocabulary.SEVERITY_ORDER:
        words.setdefault(code, vocabulary.label("severity", code))
    for region in vocabulary.REGIONS:
        words.setdefault(region.code, region.label)
    # A region or a level written as one plain word ("neck", "review") is a word of the
    # sentence, not a code: only the ones written with an underscore, and "modify", are codes.
    everyday = {r.code for r in vocabulary.REGIONS} | set(vocabulary.SEVERITY_ORDER)
    codes = [c for c in words if c not in everyday or "_" in c or c == vocabulary.MODIFY]
    codes.sort(key=len, reverse=True)
    pattern = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, codes)) + r")(?![\w])")
    return pattern, words


@register.filter
def codes_in_words(text: str) -> str:
    """Name every code a clinician's note cites ("see blood_thinners, modify", "deep_tissue")
    in words: rules by their titles in quotes, conditions, techniques, levels and regions by
    their labels."""
    pattern, words = _code_words()
    return pattern.sub(lambda m: words[m.group(1)], text or "")


@register.filter
def rule_title(code: str) -> str:
    """Return a catalogue rule's title for its code (the code itself if it is unknown)."""
    return _rule_names()[1].get(code, code)


@register.filter
def matched_words(item: str) -> str:
    """Show what matched a flag in words: "condition: herniated_disc" -> "condition: Herniated
    disc"; other items (a medication, a quote of the client's words) as they are."""
    match = _MATCHED_CONDITION.match(item or "")
    if match is None:
        return item
    return f"{match.group(1)}{condition_words(match.group(2))}"
