"""The check-in's fixed pages are rendered once: the blank answer page (served with each
browser's own CSRF token) and the advice after an answer (one page per level)."""

from __future__ import annotations

import re

import pytest
from django.template import engines
from django.test import Client as Browser
from django.test.signals import template_rendered
from django.urls import reverse

from followup import pages
from followup.advice import advice_for
from tests.factories import CheckInFactory
from tests.followup.conftest import answer_data, make_visit

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def renders():
    seen = []

    def record(sender, template, **kwargs):
        seen.append(template.name)

    template_rendered.connect(record)
    yield seen
    template_rendered.disconnect(record)


def _get(browser, checkin) -> str:
    response = browser.get(reverse("followup:answer", args=[checkin.token]))
    assert response.status_code == 200
    return response.content.decode()


def _without_token(page: str) -> str:
    return TOKEN.sub('value="?"', page)


def test_the_page_is_rendered_once_for_every_client(visit, renders):
    first, second = (CheckInFactory(visit=visit, policy_hours=h, sent=True) for h in (24, 48))

    pages_seen = [_get(Browser(), first), _get(Browser(), second), _get(Browser(), first)]

    assert renders.count(pages.TEMPLATE) == 1
    assert len({_without_token(p) for p in pages_seen}) == 1
    assert 'name="score"' in pages_seen[0]
    assert pages.TOKEN_SLOT not in pages_seen[0]


def test_each_browser_gets_a_token_that_its_csrf_cookie_accepts(visit):
    checkin = CheckInFactory(visit=visit, sent=True)
    tokens = []
    for _ in range(2):
        browser = Browser(enforce_csrf_checks=True)
        [token] = TOKEN.findall(_get(browser, checkin))
        tokens.append(token)
        # A form protected by CSRF accepts the page's token with this browser's cookie...
        login = browser.post(reverse("login"), {"csrfmiddlewaretoken": token, "username": "x"})
        assert login.status_code == 200
        # ...and a made-up token is refused.
        other = Browser(enforce_csrf_checks=True)
        _get(other, checkin)
        refused = other.post(reverse("login"), {"csrfmiddlewaretoken": "x" * 64, "username": "x"})
        assert refused.status_code == 403

    assert tokens[0] != tokens[1]


def test_the_stored_page_is_the_page_rendered_from_scratch(visit, settings, rf):
    checkin = CheckInFactory(visit=visit, sent=True)
    stored = _get(Browser(), checkin)
    request = rf.get("/")
    template = engines["django"].get_template(pages.TEMPLATE)
    fresh = template.render({"form": pages.CheckInAnswerForm()}, request)

    assert _without_token(stored) == _without_token(fresh)


def test_the_clinics_details_changed_show_at_once(visit, settings):
    checkin = CheckInFactory(visit=visit, sent=True)
    assert "Riverside Massage Clinic" in _get(Browser(), checkin)

    settings.CLINIC_NAME = "Hillside Bodywork"
    settings.CLINIC_PHONE = "+44 20 7946 0999"
    page = _get(Browser(), checkin)

    assert "Hillside Bodywork" in page
    assert "+44 20 7946 0999" in page


def test_an_answered_link_never_gets_the_page(visit):
    answered = CheckInFactory(visit=visit, sent=True, status="answered")

    response = Browser().get(reverse("followup:answer", args=[answered.token]))

    # The confirmation that the answer arrived, not the blank form.
    assert response.status_code == 200
    assert b"Your answers reached us" in response.content
    assert b'name="score"' not in response.content


def _answer(checkin, **overrides) -> str:
    url = reverse("followup:answer", args=[checkin.token])
    response = Browser().post(url, answer_data(**overrides))
    assert response.status_code == 200
    return response.content.decode()


def test_the_advice_is_rendered_once_per_level(renders):
    calm = [_answer(CheckInFactory(visit=make_visit(), sent=True)) for _ in range(3)]
    worse = _answer(CheckInFactory(visit=make_visit(), sent=True), score="9", character="sharp")

    assert renders.count(pages.DONE_TEMPLATE) == 2
    assert len(set(calm)) == 1
    assert worse != calm[0]
    assert advice_for(None).headline in calm[0]
    assert advice_for("urgent").headline in worse


def test_the_stored_advice_is_the_advice_rendered_from_scratch(rf):
    flags = ["bowel_bladder_dysfunction"]
    for overrides, level in (({}, None), ({"red_flags": flags, "score": "9"}, "emergency")):
        stored = _answer(CheckInFactory(visit=make_visit(), sent=True), **overrides)
        template = engines["django"].get_template(pages.DONE_TEMPLATE)
        fresh = template.render({"advice": advice_for(level)}, rf.post("/"))

        assert stored == fresh


def test_the_clinics_emergency_number_changed_shows_at_once_after_an_answer(settings):
    settings.CLINIC_EMERGENCY_NUMBER = "999"
    assert 'href="tel:999"' in _answer(CheckInFactory(visit=make_visit(), sent=True))

    settings.CLINIC_EMERGENCY_NUMBER = "112"

    assert 'href="tel:112"' in _answer(CheckInFactory(visit=make_visit(), sent=True))


def test_a_staff_member_opening_a_link_first_leaves_nothing_of_theirs_in_the_stored_pages(
    therapist, monkeypatch
):
    readers = []
    real = pages.render_to_string

    def render(template, context, request):
        readers.append(request.user)
        return real(template, context, request=request)

    monkeypatch.setattr(pages, "render_to_string", render)
    checkin = CheckInFactory(visit=make_visit(), sent=True)
    therapist.first_name, therapist.last_name = "Theodora", "Quist"
    therapist.save()
    staff = Browser()
    staff.force_login(therapist)
    url = reverse("followup:answer", args=[checkin.token])

    assert staff.get(url).status_code == 200
    assert staff.post(url, answer_data()).status_code == 200
    client_pages = [
        _get(Browser(), CheckInFactory(visit=make_visit(), sent=True)),
        _answer(CheckInFactory(visit=make_visit(), sent=True)),
    ]

    # Both stored pages were rendered for a reader with no account, once each.
    assert [user.is_authenticated for user in readers] == [False, False]
    for page in client_pages:
        assert "Quist" not in page and "Theodora" not in page
        assert "Log out" not in page
