"""Bad input on the client's health form: a clear message on the step, nothing kept, one
Intake per link; wrong dates of birth lock the link; links that ended show one page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinical.intake import MAX_FREE_TEXT_CHARS
from intake.linkmodels import IntakeLink
from intake.models import Intake
from messaging.models import LinkStatus
from tests.factories import IntakeFactory
from tests.intake.previsit_support import DOB, answers, book, fill, sent_link, sign, verify

pytestmark = pytest.mark.django_db
TOKEN = "bad-intake-token-0123456789abcdefgh"  # noqa: S105


@pytest.fixture
def visit():
    return book()


@pytest.fixture
def link(visit):
    return sent_link(visit, TOKEN)


def _to_step(http, slug: str):
    """Verify and answer every step before `slug` with plain answers."""
    verify(http, TOKEN)
    for step, values in answers().items():
        if step == slug:
            return
        assert http.post(f"/i/{TOKEN}/{step}/", values).status_code == 302


def _kept(link) -> tuple:
    link.refresh_from_db()
    return dict(link.draft), list(link.steps_done)


BAD_STEPS = [
    ("pain", {"pain_score": "11"}, "pain_score"),
    ("pain", {"pain_score": "-1"}, "pain_score"),
    ("pain", {"pain_score": "three"}, "pain_score"),
    ("pain", {"pain_score": "2.5"}, "pain_score"),
    ("pain", {"pain_character": "<b>evil</b>"}, "pain_character"),
    ("pain", {"pain_regions": ["nowhere"]}, "pain_regions"),
    ("pain", {"pain_score": ["3", "9"]}, "pain_score"),
    ("pregnancy", {"pregnancy_weeks": "80", "pregnant": "on"}, "pregnancy_weeks"),
    ("pregnancy", {"pregnancy_weeks": "12"}, "pregnant"),
    ("pregnancy", {"pregnant": "on", "pregnancy_due_date": "2001-01-01"}, "pregnancy_due_date"),
    ("pregnancy", {"pregnant": "on", "pregnancy_due_date": "next spring"}, "pregnancy_due_date"),
    ("medicines", {"medications": "x" * 20_001}, "medications"),
    ("illness", {"recent_illness_name": "flu", "recent_illness_recovered_on": "31/02/2026"},
     "recent_illness_recovered_on"),
    ("illness", {"recent_illness_name": "flu\x00"}, "recent_illness_name"),
    ("warning", {"red_flags": ["made_up_flag"]}, "red_flags"),
    ("allergies", {"allergies": "a" * 20_001}, "allergies"),
    ("notes", {"free_text": "z" * (MAX_FREE_TEXT_CHARS + 1)}, "free_text"),
    ("conditions", {"other_0_acute": "on"}, "other_0_code"),
    ("conditions", {"other_0_code": "y" * 600}, "other_0_code"),
]  # fmt: skip


@pytest.mark.parametrize(("slug", "values", "field"), BAD_STEPS)
def test_a_bad_answer_is_refused_on_its_step_and_nothing_is_kept(client, link, slug, values, field):
    _to_step(client, slug)
    before = _kept(link)
    response = client.post(f"/i/{TOKEN}/{slug}/", values)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_errors"' in page  # the message is tied to its field
    assert f'aria-describedby="id_{field}_errors' in page or f'id_{field}_errors"' in page
    assert "Nothing was kept yet" in page
    assert _kept(link) == before
    assert not Intake.objects.exists()


def test_markup_and_unicode_are_kept_as_text(client, link, visit):
    words = "Zoë's café ☕ <script>alert(1)</script> ängstlich 痛み"
    fill(client, TOKEN, answers(notes={"free_text": words}))
    summary = client.get(f"/i/{TOKEN}/consent/").content.decode()
    assert "<script>alert(1)</script>" not in summary
    assert "&lt;script&gt;" in summary
    sign(client, TOKEN, visit.client.full_name)
    assert Intake.objects.get().free_text == words


def test_fields_of_another_step_or_the_visit_are_ignored(client, link, visit):
    _to_step(client, "medicines")
    client.post(
        f"/i/{TOKEN}/medicines/",
        {"medications": "aspirin", "free_text": "sneaked in", "planned_modality": "deep_tissue"},
    )
    link.refresh_from_db()
    assert "free_text" not in link.draft and "planned_modality" not in link.draft


def test_steps_cannot_be_skipped(client, link):
    verify(client, TOKEN)
    response = client.post(f"/i/{TOKEN}/consent/", {"consent": "on", "signature_name": "X"})
    assert response.status_code == 302
    assert response["Location"] == f"/i/{TOKEN}/about/?order=1"
    response = client.post(f"/i/{TOKEN}/pain/", {"pain_score": "3"})
    assert response["Location"] == f"/i/{TOKEN}/about/?order=1"
    assert _kept(link) == ({}, [])
    assert "one step at a time" in client.get(response["Location"]).content.decode()
    assert client.get(f"/i/{TOKEN}/no-such-step/").status_code == 404


def test_no_step_is_shown_before_the_date_of_birth(client, link):
    for slug in ("about", "conditions", "consent"):
        response = client.get(f"/i/{TOKEN}/{slug}/")
        assert response.status_code == 302 and response["Location"] == f"/i/{TOKEN}/"


def test_a_wrong_signature_or_no_consent_stores_nothing(client, link, visit):
    fill(client, TOKEN)
    response = sign(client, TOKEN, "Someone Else")
    assert response.status_code == 400
    assert "Please type your full name" in response.content.decode()
    response = client.post(f"/i/{TOKEN}/consent/", {"signature_name": visit.client.full_name})
    assert response.status_code == 400
    assert not Intake.objects.exists()


def test_a_double_submit_stores_one_intake(client, link, visit):
    fill(client, TOKEN)
    first = sign(client, TOKEN, visit.client.full_name)
    second = sign(client, TOKEN, visit.client.full_name)
    assert first["Location"] == second["Location"] == f"/i/{TOKEN}/done/"
    assert Intake.objects.count() == 1
    # Another browser with the link, after it was used: the one page for unusable links.
    from django.test import Client

    other = Client()
    assert other.post(f"/i/{TOKEN}/", {"date_of_birth": DOB}).status_code == 404


def test_five_wrong_dates_lock_the_link_and_a_lock_answers_as_a_wrong_date(client, link):
    wrong = [verify(client, TOKEN, "1999-01-01") for _ in range(4)]
    fifth = verify(client, TOKEN, "1999-01-02")
    link.refresh_from_db()
    assert link.dob_failures == 5 and link.locked_at is not None
    locked_right = verify(client, TOKEN, DOB)
    assert {r.status_code for r in [*wrong, fifth, locked_right]} == {400}
    assert locked_right.content == fifth.content == wrong[0].content
    assert client.get(f"/i/{TOKEN}/").status_code == 200  # looks like any open link
    assert client.get(f"/i/{TOKEN}/about/").status_code == 302
    link.refresh_from_db()
    assert link.dob_failures == 5  # capped: the lock holds


def test_a_malformed_date_of_birth_is_refused_without_counting(client, link):
    response = verify(client, TOKEN, "not a date")
    assert response.status_code == 400
    assert "Enter a real date" in response.content.decode()
    link.refresh_from_db()
    assert link.dob_failures == 0


def test_an_expired_link_shows_the_one_unusable_page(client, link):
    IntakeLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    for response in (client.get(f"/i/{TOKEN}/"), verify(client, TOKEN)):
        assert response.status_code == 404
        assert "can no longer be used" in response.content.decode()
    unknown = client.get("/i/unknown-token-0123456789abcdef0123456/")
    assert unknown.status_code == 404 and unknown.content == response.content


def test_an_expired_link_mid_form_stores_nothing(client, link, visit):
    fill(client, TOKEN)
    IntakeLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert sign(client, TOKEN, visit.client.full_name).status_code == 404
    assert not Intake.objects.exists()


def test_a_returning_client_confirms_nothing_changed(client, link, visit):
    previous = IntakeFactory(
        client=visit.client,
        conditions=[{"code": "osteoporosis", "acute": False, "notes": ""}],
        allergies=["latex"],
    )
    verify(client, TOKEN)
    about = client.get(f"/i/{TOKEN}/about/").content.decode()
    assert "Has anything changed" in about
    assert client.post(f"/i/{TOKEN}/about/", {}).status_code == 400  # an answer is needed
    response = client.post(f"/i/{TOKEN}/about/", {"changed": "no"})
    assert response["Location"] == f"/i/{TOKEN}/consent/"
    summary = client.get(response["Location"]).content.decode()
    assert "Osteoporosis" in summary and "latex" in summary
    assert sign(client, TOKEN, visit.client.full_name).status_code == 302
    intake = Intake.objects.exclude(pk=previous.pk).get()
    assert intake.previous == previous and intake.source == "client"
    assert [c["code"] for c in intake.conditions] == ["osteoporosis"]
    assert intake.allergies == ["latex"]


def test_a_returning_client_who_changed_something_sees_their_answers(client, link, visit):
    IntakeFactory(client=visit.client, medications=["warfarin 5 mg"])
    verify(client, TOKEN)
    client.post(f"/i/{TOKEN}/about/", {"changed": "yes"})
    client.post(f"/i/{TOKEN}/conditions/", {})
    client.post(f"/i/{TOKEN}/pregnancy/", {})
    page = client.get(f"/i/{TOKEN}/medicines/").content.decode()
    assert "warfarin 5 mg" in page


def test_back_keeps_the_answers(client, link):
    _to_step(client, "illness")
    page = client.get(f"/i/{TOKEN}/medicines/").content.decode()
    assert "ibuprofen 200 mg" in page


def test_the_link_pages_are_rate_limited(client, link, settings):
    settings.INTAKE_RATE_LIMIT_REQUESTS = 2
    client.get(f"/i/{TOKEN}/")
    client.get(f"/i/{TOKEN}/")
    response = client.get(f"/i/{TOKEN}/")
    assert response.status_code == 429 and response["Retry-After"]


def test_the_opt_out_link_stops_messages(client):
    # Far enough ahead that the reminder falls after the first message whatever the time
    # of day (quiet hours move both to the morning).
    visit = book(hours_ahead=60)
    sent_link(visit, TOKEN)
    assert client.get(f"/i/{TOKEN}/opt-out/").status_code == 200
    client.post(f"/i/{TOKEN}/opt-out/")
    visit.client.refresh_from_db()
    assert visit.client.opted_out_at is not None
    reminder = IntakeLink.objects.get(visit=visit, purpose="reminder")
    assert reminder.status == LinkStatus.CANCELLED
