"""A pseudo-language for the translation tests: every translated string comes back marked.

Under it a message comes back wrapped in ⟪ ⟫ with its letters swapped for accented ones
("Next" becomes "⟪Ñéẋţ⟫"); placeholders, tags and entities are kept so that the message
still formats and renders. A plain ASCII letter left on a page therefore never went through
gettext, even when it was put into a translated sentence (`more about %(condition)s`).
"""

from __future__ import annotations

import contextlib
import gettext as gettext_module
import re
from collections.abc import Iterator
from html.parser import HTMLParser

from django.utils import translation
from django.utils.translation import trans_real

PSEUDO = "qps-ploc"  # the pseudo-locale code Windows uses; no real language has it
OPEN, CLOSE = "⟪", "⟫"
_LETTERS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥîĵķĺɱñöþǫŕšţüṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŠŢÜṼŴẊÝŽ",
)
# What a message must keep as it is: placeholders (%(name)s, %s, %%, {}), tags, entities.
_KEEP = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-z]|%%|%[a-z]|\{[^}]*\}|<[^>]*>|&#?\w+;")
# Attributes whose words a person sees or hears (the body map's become aria-labels).
_SPOKEN_ATTRIBUTES = frozenset(
    {
        "aria-label",
        "title",
        "placeholder",
        "alt",
        "data-map-label",
        "data-label",
        "data-chosen-words",
        "data-no-regions",
    }
)
_ASCII_LETTER = re.compile(r"[A-Za-z]")
# A sentence a script fills in keeps its placeholder (the body map's "Chosen: %(regions)s").
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


def pseudo(message: str) -> str:
    """Return a message in the pseudo-language."""
    kept, end = [], 0
    for match in _KEEP.finditer(message):
        kept.append(message[end : match.start()].translate(_LETTERS))
        kept.append(match.group())
        end = match.end()
    kept.append(message[end:].translate(_LETTERS))
    return OPEN + "".join(kept) + CLOSE


class PseudoTranslation(gettext_module.NullTranslations):
    """A translation catalogue that knows every message, in the pseudo-language."""

    def gettext(self, message):
        # pgettext asks for "context\x04message" and keeps the answer only without the \x04.
        return pseudo(message.rpartition(trans_real.CONTEXT_SEPARATOR)[2])

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)

    def to_language(self):
        return PSEUDO


@contextlib.contextmanager
def pseudo_language() -> Iterator[None]:
    """Translate everything into the pseudo-language inside the block."""
    trans_real._translations[PSEUDO] = PseudoTranslation()
    try:
        with translation.override(PSEUDO):
            yield
    finally:
        trans_real._translations.pop(PSEUDO, None)


class _MainWords(HTMLParser):
    """Collect what a person sees or hears on a page: the text and spoken attributes of its
    <title> and <body> (the skip link and the header included, not only <main>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_main = False
        self.hidden = 0  # inside <script> or <style>
        self.words: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "body"):
            self.in_main = True
        if tag in ("script", "style"):
            self.hidden += 1
        if self.in_main:
            self.words.extend(v for k, v in attrs if k in _SPOKEN_ATTRIBUTES and v)

    def handle_endtag(self, tag):
        if tag in ("title", "body"):
            self.in_main = False
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if self.in_main and not self.hidden and data.strip():
            self.words.append(data)


def main_words(html: str) -> list[str]:
    """Return the text nodes and spoken attributes of a page's title and body, in order."""
    parser = _MainWords()
    parser.feed(html)
    parser.close()
    return parser.words


def untranslated(html: str, supplied: list[str]) -> list[str]:
    """Return the words of a page (its title and body) that did not come through translation.

    `supplied` is what the client or the clinic gave (names, typed answers, the consent
    text): it is shown as it is, so it is taken out before looking for plain letters.
    """
    found = []
    for text in main_words(html):
        rest = _PLACEHOLDER.sub("", text)
        for value in sorted(supplied, key=len, reverse=True):
            if value:
                rest = rest.replace(value, "")
        if _ASCII_LETTER.search(rest) or (_has_letters(rest) and OPEN not in text):
            found.append(" ".join(text.split())[:200])
    return found


def _has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)
