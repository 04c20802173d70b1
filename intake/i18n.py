"""The clinical vocabulary's and the rule catalogue's words, and the intake contract's
errors, in the reader's language.

clinical/ is pure Python and holds its words in English (vocabulary.yaml and the catalogue's
YAML); they are translated here, where forms and pages show them. makemessages cannot read
YAML, so intake/vocabulary_msgids.py lists every such word for it, written from the YAML
by `manage.py vocabulary_msgids` (a test fails when it is out of date).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from clinical import vocabulary
from clinical.catalogue import Rule, get_catalogue
from clinical.intake import IntakeError
from staff.forms import FixedChoices

MSGIDS_PATH = Path(__file__).with_name("vocabulary_msgids.py")
_LINE_LENGTH = 100  # ruff's, so that the written module is formatted as ruff would
_INDEX = re.compile(r"\[(\d+)\]")


# The intake contract's errors (clinical.intake.IntakeError) by code, in the reader's
# language: each says what the error's English `reason` says, filled from its `params`. Each
# is said of one answer ("is required"); intake_error_message makes it a sentence.
INTAKE_ERRORS = {
    "invalid_json": gettext_lazy("invalid JSON (%(detail)s)"),
    "not_an_object": gettext_lazy("must be a JSON object"),
    "born_after_visit": gettext_lazy("must not be after the visit date"),
    "in_the_future": gettext_lazy("must not be in the future"),
    "too_old": gettext_lazy("more than %(years)s years before the visit"),
    "required": gettext_lazy("is required"),
    "date_format": gettext_lazy("must be a date in YYYY-MM-DD format"),
    "invalid_date": gettext_lazy("%(value)r is not a valid date"),
    "not_true_or_false": gettext_lazy("must be true or false"),
    "not_a_string": gettext_lazy("must be a string"),
    "too_long": gettext_lazy("too long (%(length)s characters, at most %(limit)s)"),
    "control_characters": gettext_lazy("must not contain NUL or other control characters"),
    "empty": gettext_lazy("must not be empty"),
    "not_a_list": gettext_lazy("must be a list"),
    "too_many_items": gettext_lazy("too many items (%(count)s, at most %(limit)s)"),
    "unknown_modality": gettext_lazy("unknown modality %(value)r (known: %(known)s)"),
    "unknown_region": gettext_lazy("unknown region %(value)r (known: %(known)s)"),
    "unknown_red_flag": gettext_lazy("unknown red flag %(value)r (known: %(known)s)"),
    "not_a_condition": gettext_lazy("must be an object with a code"),
    "out_of_range": gettext_lazy("must be an integer from %(low)s to %(high)s"),
    "weeks_out_of_range": gettext_lazy("must be a whole number of weeks from %(low)s to %(high)s"),
    "not_an_object_or_null": gettext_lazy("must be an object or null"),
    "due_date_too_far": gettext_lazy("more than 40 weeks after the visit date"),
    "not_one_of": gettext_lazy("must be one of %(choices)s"),
    "due_date_passed": gettext_lazy("is before the visit date (in the past)"),
    "recovered_after_visit": gettext_lazy("is after the visit date"),
    "not_pregnant": gettext_lazy("weeks or a due date given but not pregnant"),
}


def intake_error_message(exc: IntakeError) -> str:
    """Return an intake contract error as a form shows it, in the reader's language.

    An error without a known code keeps its English reason.
    """
    template = INTAKE_ERRORS.get(exc.code)
    reason = str(template % exc.params) if template is not None else exc.reason
    if exc.path == "date_of_birth":
        return gettext(
            "The client's date of birth %(reason)s; correct it on the client record."
        ) % {"reason": reason}
    line = _INDEX.search(exc.path)
    if line and exc.path.split("[")[0] in ("medications", "allergies"):
        number = int(line.group(1)) + 1
        return gettext("Line %(number)s: %(reason)s.") % {"number": number, "reason": reason}
    # Translators: an error said of one answer, such as "is required", made a sentence.
    return gettext("%(reason)s.") % {"reason": reason[:1].upper() + reason[1:]}


def label(kind: str, code: str) -> str:
    """Return the words for a vocabulary code (clinical.vocabulary.label), translated."""
    return gettext(vocabulary.label(kind, code))


def choices(terms: Iterable, *, blank: str | Promise | None = None) -> FixedChoices:
    """Return form choices of vocabulary terms; each label is translated when shown.

    `blank` puts a first choice with no value and that label (such as "Choose one").
    """
    first = [("", blank)] if blank is not None else []
    return FixedChoices([*first, *((term.code, gettext_lazy(term.label)) for term in terms)])


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
