"""Template helpers for screening pages: catalogue rules named in words."""

from __future__ import annotations

import functools
import re

from django import template

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
