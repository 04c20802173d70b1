"""Every word of the client's health form goes through translation.

The pages are rendered in a pseudo-language (tests/intake/pseudo_locale.py) that marks every
translated string; a word left in plain letters on a page was never marked, unless the client
or the clinic supplied it (their name, their answers, the consent text, the clinic's name).
Each page is fetched once and the problems of all pages are reported together: rendering
the whole form takes a while, and one run should list every unmarked word.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from clinical.intake import MAX_FREE_TEXT_CHARS
from intake.models import CONSENT_TEXT
from tests.factories import IntakeFactory
from tests.intake.previsit_support import DOB, answers, book, fill, sent_link, sign, verify
from tests.intake.pseudo_locale import pseudo_language, untranslated

pytestmark = pytest.mark.django_db
TOKEN = "pseudo-intake-token-0123456789abcdef"  # noqa: S105
OTHER_NAME = "Someone Else Entirely"


def _days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


# (step, posted answers, the field whose error is shown). Each answer is refused on its step.
BAD_ANSWERS = [
    ("conditions", {"other_0_acute": "on"}, "other_0_code"),
    ("conditions", {"other_0_code": "y" * 600}, "other_0_code"),
    ("conditions", {"cond_osteoporosis": "on", "cond_osteoporosis_notes": "since 2019\x07"},
     "cond_osteoporosis_notes"),
    ("pregnancy", {"pregnant": "on", "pregnancy_weeks": "80"}, "pregnancy_weeks"),
    ("pregnancy", {"pregnancy_weeks": "12"}, "pregnant"),
    ("pregnancy", {"pregnant": "on", "pregnancy_due_date": "2001-01-01"}, "pregnancy_due_date"),
    ("pregnancy", {"pregnant": "on", "pregnancy_due_date": _days(400)}, "pregnancy_due_date"),
    ("pregnancy", {"pregnant": "on", "pregnancy_due_date": "next spring"}, "pregnancy_due_date"),
    ("medicines", {"medications": "warfarin " + "5" * 600}, "medications"),
    ("medicines", {"medications": "aspirin\x07"}, "medications"),
    ("medicines", {"medications": "x" * 20_001}, "medications"),
    ("illness", {"recent_illness_name": "flu\x07"}, "recent_illness_name"),
    ("illness", {"recent_illness_name": "flu", "recent_illness_recovered_on": _days(10)},
     "recent_illness_recovered_on"),
    ("illness", {"recent_illness_name": "flu", "recent_illness_recovered_on": "31/02/2026"},
     "recent_illness_recovered_on"),
    ("pain", {"pain_score": "11"}, "pain_score"),
    ("pain", {"pain_score": "three"}, "pain_score"),
    ("pain", {"pain_score": ["3", "9"]}, "pain_score"),
    ("pain", {"pain_score": "3", "pain_regions": ["nowhere"]}, "pain_regions"),
    ("warning", {"red_flags": ["made_up_flag"]}, "red_flags"),
    ("allergies", {"allergies": "\n".join(f"oil {i}" for i in range(51))}, "allergies"),
    ("allergies", {"allergies": "a" * 20_001}, "allergies"),
    ("notes", {"free_text": "z" * (MAX_FREE_TEXT_CHARS + 1)}, "free_text"),
    ("consent", {"consent": "on", "signature_name": OTHER_NAME}, "signature_name"),
    ("consent", {"signature_name": "?"}, "consent"),
]  # fmt: skip


@pytest.fixture
def visit():
    return book()


@pytest.fixture
def link(visit):
    return sent_link(visit, TOKEN)


def _supplied(visit, *posted: dict) -> list[str]:
    """Return what the client and the clinic gave, which the pages show as it is."""
    values = [
        visit.client.full_name,
        visit.client.first_name,
        CONSENT_TEXT,
        settings.CLINIC_NAME,
        settings.CLINIC_PHONE,
        DOB,
    ]
    for answer in posted:
        for value in answer.values():
            values.extend(value if isinstance(value, list) else [value])
    # A ticked box posts "on", which no page shows; taken out, it would hide unmarked words.
    return [value for value in values if value != "on"]


def test_every_page_of_the_form_is_translated(client, visit, link):
    given = list(answers().values())
    pages = {}
    with pseudo_language():
        pages["start"] = client.get(f"/i/{TOKEN}/")
        pages["start, wrong date of birth"] = verify(client, TOKEN, "1999-12-31")
        pages["start, not a date"] = verify(client, TOKEN, "yesterday")
        fill(client, TOKEN)
        for slug in ("about", "conditions", "pregnancy", "medicines", "illness", "pain"):
            pages[slug] = client.get(f"/i/{TOKEN}/{slug}/")
        for slug in ("warning", "allergies", "notes", "consent"):
            pages[slug] = client.get(f"/i/{TOKEN}/{slug}/")
        pages["pain, back to the summary"] = client.get(f"/i/{TOKEN}/pain/?then=summary")
        pages["about, out of order"] = client.get(f"/i/{TOKEN}/about/?order=1")
        pages["opt out"] = client.get(f"/i/{TOKEN}/opt-out/")
        assert sign(client, TOKEN, visit.client.full_name).status_code == 302
        pages["done"] = client.get(f"/i/{TOKEN}/done/")
        pages["unusable"] = client.get("/i/no-such-token-0123456789abcdefgh/")
    assert {name: page.status_code for name, page in pages.items()} == {
        name: 404 if name == "unusable" else 400 if name.startswith("start,") else 200
        for name in pages
    }
    problems = {
        name: words
        for name, page in pages.items()
        if (words := untranslated(page.content.decode(), _supplied(visit, *given)))
    }
    assert problems == {}


def test_the_question_about_changes_since_the_last_form_is_translated(client, visit, link):
    IntakeFactory(client=visit.client)
    with pseudo_language():
        verify(client, TOKEN)
        shown = client.get(f"/i/{TOKEN}/about/")
        refused = client.post(f"/i/{TOKEN}/about/", {})
    assert (shown.status_code, refused.status_code) == (200, 400)
    assert 'id="id_changed_errors"' in refused.content.decode()
    for page in (shown, refused):
        assert untranslated(page.content.decode(), _supplied(visit)) == []


def test_every_error_on_the_form_is_translated(client, visit, link):
    problems = {}
    with pseudo_language():
        fill(client, TOKEN)
        for number, (slug, posted, field) in enumerate(BAD_ANSWERS):
            response = client.post(f"/i/{TOKEN}/{slug}/", posted)
            page = response.content.decode()
            case = f"{number}: {slug} {sorted(posted)}"
            assert response.status_code == 400, case
            assert f'id="id_{field}_errors"' in page, case
            words = untranslated(page, _supplied(visit, *answers().values(), posted))
            if words:
                problems[case] = words
    assert problems == {}
