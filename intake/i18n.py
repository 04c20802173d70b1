"""The clinical vocabulary's and the rule catalogue's words in the reader's language.

clinical/ is pure Python and holds its words in English (vocabulary.yaml and the catalogue's
YAML); they are translated here, where forms and pages show them. makemessages cannot read
YAML, so intake/vocabulary_msgids.py lists every such word for it, written from the YAML
by `manage.py vocabulary_msgids` (a test fails when it is out of date).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from clinical import vocabulary
from clinical.catalogue import Rule, get_catalogue

MSGIDS_PATH = Path(__file__).with_name("vocabulary_msgids.py")
_LINE_LENGTH = 100  # ruff's, so that the written module is formatted as ruff would


def label(kind: str, code: str) -> str:
    """Return the words for a vocabulary code (clinical.vocabulary.label), translated."""
    return gettext(vocabulary.label(kind, code))


def choices(terms: Iterable) -> list[tuple[str, Promise]]:
    """Return form choices of vocabulary terms; each label is translated when shown."""
    return [(term.code, gettext_lazy(term.label)) for term in terms]


def rule_title(rule: Rule) -> Promise:
    """Return a catalogue rule's title, translated when shown."""
    return gettext_lazy(rule.title)


def msgid_groups() -> list[tuple[str, list[str]]]:
    """Return the vocabulary's and the catalogue's words that forms show, by their source."""
    catalogue = get_catalogue(supplementary=True)
    modalities = [m.label for m in vocabulary.MODALITIES]
    return [
        ("Body regions", [t.label for t in vocabulary.REGIONS]),
        ("Pain characters", [t.label for t in vocabulary.PAIN_CHARACTERS]),
        ("Warning signs on the health form", [t.label for t in vocabulary.INTAKE_RED_FLAGS]),
        ("Modalities", [*modalities, vocabulary.label("modality", vocabulary.ALL_MODALITIES)]),
        ("Condition categories", [t.label for t in vocabulary.CONDITION_CATEGORIES]),
        (
            "Rule titles (both tiers of the catalogue)",
            [rule.title for rule in (*catalogue.rules, *catalogue.withheld_rules)],
        ),
    ]


def msgids_module() -> str:
    """Return the source of intake/vocabulary_msgids.py: every word of msgid_groups, once."""
    lines = [
        '"""The vocabulary\'s and the rule catalogue\'s words, for makemessages.',
        "",
        "Written by `manage.py vocabulary_msgids` from clinical/vocabulary.yaml and",
        "clinical/catalogue/*.yaml; do not edit. Forms and pages translate these words where",
        "they show them (intake/i18n.py); makemessages cannot read YAML, so they are listed here.",
        '"""',
        "",
        "from django.utils.translation import gettext_noop",
        "",
        "MSGIDS = (",
    ]
    seen: set[str] = set()
    for heading, words in msgid_groups():
        new = [w for w in dict.fromkeys(words) if w not in seen]
        seen.update(new)
        if new:
            lines.append(f"    # {heading}")
            lines.extend(_call(word) for word in new)
    lines.append(")")
    return "\n".join(lines) + "\n"


def _call(word: str) -> str:
    """Return one gettext_noop line of the tuple, laid out and quoted as ruff formats it."""
    one_line = f"    gettext_noop({_literal(word)}),"
    if len(one_line) <= _LINE_LENGTH:
        return one_line
    inner = f"        {_literal(word)}"
    if len(inner) > _LINE_LENGTH:
        inner += "  # noqa: E501"
    return f"    gettext_noop(\n{inner}\n    ),"


def _literal(word: str) -> str:
    """Return a string literal in double quotes, or single ones if that saves escapes."""
    if '"' in word and "'" not in word:
        return "'" + word.replace("\\", "\\\\") + "'"
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
