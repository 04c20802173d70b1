"""No page shows a person a catalogue or policy code: codes stay in a <details> element or a
title attribute (for the technically minded), and everything else is in plain words."""

from __future__ import annotations

import re

import pytest

from clinical import vocabulary
from clinical.catalogue import get_catalogue
from followup.advice import advice_for
from tests.browser.pages import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Codes shown only by an admin class (*/admin.py), by page: each must keep failing until
# fixed (strict), then its entry goes.
ADMIN_CLASS_FIXES: dict[str, str] = {}

# Every piece of text a person meets on the page, read or heard: text nodes and the
# attributes a screen reader speaks, outside <details> (and outside script and style).
PAGE_WORDS = """() => {
  const skip = new Set(["DETAILS", "SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT"]);
  const spoken = ["aria-label", "aria-description", "alt", "placeholder"];
  const found = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim();
      if (text) { found.push(text); }
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE || skip.has(node.tagName.toUpperCase())) { return; }
    for (const name of spoken) {
      const value = node.getAttribute(name);
      if (value) { found.push(value); }
    }
    if (node.tagName === "INPUT" && ["submit", "button"].includes(node.type) && node.value) {
      found.push(node.value);
    }
    node.childNodes.forEach(walk);
  };
  walk(document.body);
  return found;
}"""


def _codes() -> set[str]:
    codes = {
        *vocabulary.SEVERITY_ORDER,
        *vocabulary.PAIN_CHARACTER_CODES,
        *(t.code for t in vocabulary.INTAKE_RED_FLAGS),
        *(f.code for f in vocabulary.FOLLOWUP_RED_FLAGS),
        *(t.code for t in vocabulary.REGIONS),
        *vocabulary.AVOIDANCE_REGIONS,
        *vocabulary.MODALITY_CODES,
        *(t.code for t in vocabulary.CONDITION_CATEGORIES),
        *(t.code for t in vocabulary.ESCALATION_LEVELS),
        *(r.code for r in vocabulary.ESCALATION_RULES),
    }
    catalogue = get_catalogue()
    for rule in catalogue.rules:
        codes.add(rule.code)
        codes.update(rule.condition_codes)
    codes.update(precaution.code for precaution in catalogue.universal_precautions)
    return codes


# Words of the pages' own sentences that are also one-word codes: "Other condition",
# "urgent first", "Weeks of pregnancy", "0 = none", "(click to clear)", "medication: warfarin
# 5 mg", "Massage is contraindicated", "which mental conditions count" (a catalogue note), "a
# cold, flu, an operation" (the client's health form).
PROSE_WORDS = {"condition", "urgent", "pregnancy", "none", "clear", "medication", "contraindicated",
               "mental", "flu"}  # fmt: skip


def _everyday_words(codes: set[str]) -> set[str]:
    """Return the one-word codes that are also words the product writes for people.

    "back" is a code, and a word of "Lower back"; "neck" is a code, and a word of "Reduce force
    on the neck"; "osteoporosis" is a code, and how people write it. Such a word on a page
    cannot be told from a code by its spelling, so it is not looked for; codes that no
    wording uses as written (e.g. "deep_tissue", "swedish", "R2") are.
    """
    catalogue = get_catalogue()
    terms = (
        *vocabulary.REGIONS,
        *vocabulary.MODALITIES,
        *vocabulary.PAIN_CHARACTERS,
        *vocabulary.INTAKE_RED_FLAGS,
        *vocabulary.FOLLOWUP_RED_FLAGS,
        *vocabulary.CONDITION_CATEGORIES,
        *vocabulary.ESCALATION_LEVELS,
        *vocabulary.ESCALATION_RULES,
    )
    texts = [
        *(f"{term.label} {' '.join(getattr(term, 'also_called', ()))}" for term in terms),
        *(f"{s.badge} {s.heading} {s.meaning}" for s in vocabulary.SEVERITIES),
        *(f"{r.title} {' '.join(r.actions)} {' '.join(r.keywords)}" for r in catalogue.rules),
        *(f"{p.title} {' '.join(p.actions)}" for p in catalogue.universal_precautions),
        *(f"{a.headline} {' '.join(a.items)}" for a in map(advice_for, (None, "review", "urgent"))),
    ]
    words = {word for text in texts for word in re.findall(r"[A-Za-z]+", text)} | PROSE_WORDS
    return {code for code in codes if code.isalpha() and code.islower() and code in words}


CODES = _codes()
SHOWN_CODES = CODES - _everyday_words(CODES)
# Whole words, case-sensitive: a code is lower case ("thai"), the words for it are not
# ("Thai massage"); escalation rules are "U1"..."R4".
CODE = re.compile(
    r"(?<![A-Za-z0-9_])("
    + "|".join(map(re.escape, sorted(SHOWN_CODES, key=len, reverse=True)))
    + r")(?![A-Za-z0-9_])"
)


def test_the_code_list_holds_the_codes_that_were_shown():
    for code in ("deep_tissue", "over_heart", "pregnancy_third_trimester", "R2", "U3", "swedish"):
        assert CODE.fullmatch(code), code
    assert not CODE.search("Lower back, Deep tissue, Swedish (classical)")


def _cases():
    for page in PAGES:
        reason = ADMIN_CLASS_FIXES.get(page.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(page, id=page.name, marks=marks)


@pytest.mark.parametrize("page", list(_cases()))
def test_no_page_shows_a_code_outside_details_or_a_title(open_page, page):
    tab = open_page(page)
    shown = [
        f"{match.group(1)!r} in {text[:120]!r}"
        for text in tab.page.evaluate(PAGE_WORDS)
        for match in CODE.finditer(text)
    ]
    assert not shown, f"{page.name} shows codes:\n" + "\n".join(shown)
    tab.assert_clean()
