"""The clinical vocabulary's and the rule catalogue's words in the reader's language.

clinical/ is pure Python and holds its words in English (vocabulary.yaml and the catalogue's
YAML); they are translated here, where forms and pages show them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from clinical import vocabulary
from clinical.catalogue import Rule


def label(kind: str, code: str) -> str:
    """Return the words for a vocabulary code (clinical.vocabulary.label), translated."""
    return gettext(vocabulary.label(kind, code))


def choices(terms: Iterable) -> list[tuple[str, Promise]]:
    """Return form choices of vocabulary terms; each label is translated when shown."""
    return [(term.code, gettext_lazy(term.label)) for term in terms]


def rule_title(rule: Rule) -> Promise:
    """Return a catalogue rule's title, translated when shown."""
    return gettext_lazy(rule.title)
