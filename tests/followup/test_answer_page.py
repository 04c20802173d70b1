"""The client's answer page: a link token, no login, GET changes nothing, one answer."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from followup.models import CheckIn, CheckInAnswer, CheckInStatus, Escalation
from tests.factories import CheckInFactory
from tests.followup.conftest import NOW, answer_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now(frozen):
    """Links are issued at NOW and live for 7 days."""


def url(token: str) -> str:
    return reverse("followup:answer", args=[token])


def state(checkin: CheckIn) -> tuple:
    checkin.refresh_from_db()
    return checkin.status, CheckInAnswer.objects.count(), Escalation.objects.count()


def test_get_shows_the_form_and_changes_nothing_for_a_link_scanner(client, answerable):
    checkin, token = answerable
    before = state(checkin)

    response = client.get(url(token))
    client.head(url(token))

    assert response.status_code == 200
    assert b'name="score"' in response.content
    assert state(checkin) == before == (CheckInStatus.SENT, 0, 0)


def test_posting_stores_the_one_answer_and_shows_self_care_advice(client, answerable):
    checkin, token = answerable

    response = client.post(url(token), answer_data(score="2", note="a bit stiff"))

    assert response.status_code == 200
    assert b"Some soreness after a massage is normal" in response.content
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.ANSWERED
    answer = checkin.answer
    assert (answer.score, answer.character, answer.radiating, answer.note) == (
        2,
        "dull",
        False,
        "a bit stiff",
    )


def test_red_flags_are_offered_in_plain_words(client, answerable):
    _, token = answerable

    content = client.get(url(token)).content.decode()

    assert "Trouble controlling your bladder or bowels" in content
    assert "bowel_bladder_dysfunction</label>" not in content


def test_an_urgent_answer_advises_a_doctor_now_and_shows_the_clinic_phone(client, answerable):
    _, token = answerable

    response = client.post(url(token), answer_data(red_flags=["numbness"]))

    content = response.content.decode()
    assert "Please contact a doctor now." in content
    assert 'href="tel:+44 20 7946 0000"' in content


@pytest.mark.parametrize(
    "flags", [["bowel_bladder_dysfunction"], ["bowel_bladder_dysfunction", "numbness"]]
)
def test_trouble_with_bladder_or_bowels_says_call_emergency_services_first(
    client, answerable, settings, flags
):
    settings.CLINIC_EMERGENCY_NUMBER = "999"
    _, token = answerable

    content = client.post(url(token), answer_data(red_flags=flags)).content.decode()

    main = content[content.index("<main") :]
    # The emergency call comes before anything else the page says, thanks included.
    assert main.index("Call <a") < main.index("Thank you")
    assert 'href="tel:999">999</a> now.' in content
    assert "Call emergency services now." in content
    assert Escalation.objects.get().level == "urgent"


def test_other_urgent_signs_advise_a_doctor_not_emergency_services(client, answerable):
    _, token = answerable

    content = client.post(url(token), answer_data(red_flags=["tingling"])).content.decode()

    assert 'id="emergency"' not in content
    assert "Please contact a doctor now." in content


@pytest.mark.parametrize(
    "bad",
    [
        {"score": "11"},
        {"score": "-1"},
        {"score": "three"},
        {"score": ""},
        {"character": "burning"},
        {"radiating": "maybe"},
        {"red_flags": ["made_up"]},
        {"note": "x" * 1001},
        {"note": "<script>alert(1)</script>\x00"},
    ],
)
def test_bad_input_shows_the_form_again_and_stores_nothing(client, answerable, bad):
    checkin, token = answerable

    response = client.post(url(token), answer_data(**bad))

    assert response.status_code == 200
    assert b"<script>alert(1)" not in response.content
    assert state(checkin) == (CheckInStatus.SENT, 0, 0)


def test_markup_in_the_note_is_stored_as_text(client, answerable):
    checkin, token = answerable

    client.post(url(token), answer_data(note="<b>ouch</b> é 痛い"))

    assert CheckInAnswer.objects.get().note == "<b>ouch</b> é 痛い"


def unusable_tokens(visit) -> dict[str, str]:
    """One token for each way a link stops working (an answered one confirms instead)."""
    expired = CheckInFactory(
        visit=visit, policy_hours=48, sent=True, sent_at=NOW - datetime.timedelta(days=8)
    )
    cancelled = CheckInFactory(
        visit=visit, policy_hours=72, sent=True, status=CheckInStatus.CANCELLED
    )
    live_token = CheckInFactory(visit=visit, policy_hours=96, sent=True).token
    tampered = live_token[:-1] + ("A" if live_token[-1] != "A" else "B")
    return {
        "unknown": "x" * 43,
        "tampered": tampered,
        "expired": expired.token,
        "cancelled": cancelled.token,
        "garbage": "%00<script>",
        "too-long": "a" * 500,
    }


def _body(response) -> str:
    # The CSRF token differs per request; everything else must be identical.
    return re.sub(r'value="[^"]+"', "", response.content.decode())


def test_unknown_tampered_expired_and_cancelled_links_get_the_same_page(client, visit):
    tokens = unusable_tokens(visit)

    responses = {name: client.get(url(token)) for name, token in tokens.items()}
    responses.update({f"post-{n}": client.post(url(t), answer_data()) for n, t in tokens.items()})

    assert {r.status_code for r in responses.values()} == {404}
    assert len({_body(r) for r in responses.values()}) == 1
    assert b"may have expired" in responses["unknown"].content
    assert CheckInAnswer.objects.count() == 0


def test_a_used_link_confirms_the_answer_arrived_with_when_and_the_clinic_phone(
    client, answerable, frozen
):
    checkin, token = answerable
    client.post(url(token), answer_data(score="8", character="sharp", note="my neck"))
    frozen.move_to(NOW + datetime.timedelta(days=1))

    page = client.get(url(token))

    content = page.content.decode()
    assert page.status_code == 200
    assert "Your answers reached us on Tuesday 10 March 2026 at 10:00." in content
    assert 'href="tel:+44 20 7946 0000"' in content
    assert "may have expired" not in content
    assert "my neck" not in content


def test_a_second_post_confirms_the_first_answer_and_creates_nothing(client, answerable):
    checkin, token = answerable
    client.post(url(token), answer_data(score="8", character="sharp", red_flags=["fever"]))
    escalations = list(Escalation.objects.values_list("pk", flat=True))

    replay = client.post(url(token), answer_data(score="9", radiating="yes"))

    assert replay.status_code == 200
    assert b"Your answers reached us" in replay.content
    assert CheckInAnswer.objects.get().score == 8
    assert list(Escalation.objects.values_list("pk", flat=True)) == escalations


def test_a_link_only_ever_answers_its_own_checkin(client, visit):
    first = CheckInFactory(visit=visit, policy_hours=24, sent=True)
    second = CheckInFactory(visit=visit, policy_hours=48, sent=True)

    client.post(url(first.token), answer_data())

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (CheckInStatus.ANSWERED, CheckInStatus.SENT)


def test_a_client_who_opted_out_cannot_use_a_cancelled_link(client, visit):
    from followup.scheduling import opt_out

    checkin = CheckInFactory(visit=visit, sent=True)
    token = checkin.token
    checkin.status = CheckInStatus.SCHEDULED  # resent later, so cancelled by the opt-out
    checkin.sent_at = None
    checkin.save()
    opt_out(client=visit.client)

    assert client.get(url(token)).status_code == 404


def test_every_token_response_keeps_the_link_out_of_referrers_and_caches(client, answerable):
    _, token = answerable
    responses = [
        client.get(url(token)),
        client.get(url("nope" * 11)),
        client.get(reverse("followup:opt_out", args=[token])),
        client.post(url(token), answer_data()),
    ]

    for response in responses:
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["Cache-Control"] == "no-store"


def test_the_client_page_has_no_staff_navigation_inline_script_or_inline_style(client, answerable):
    _, token = answerable

    content = client.get(url(token)).content.decode()

    assert "Escalations" not in content
    assert "Riverside Massage Clinic" in content
    assert " style=" not in content
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content)
    assert 'name="viewport"' in content


def test_a_refused_answer_keeps_the_choices_made_and_marks_the_field_to_fix(client, answerable):
    _checkin, token = answerable
    data = answer_data(character="sharp", radiating="yes", red_flags=["fever"])
    del data["score"]

    body = client.post(url(token), data).content.decode()

    assert re.search(r'value="sharp" class="btn-check" id="id_character_1" required checked>', body)
    assert re.search(r'value="yes" class="btn-check" id="id_radiating_0" required checked>', body)
    assert re.search(r'value="fever" class="form-check-input" id="id_red_flags_\d+" checked>', body)
    assert 'id="id_score_0" required aria-invalid="true">' in body
    assert 'for="id_score_10">10</label>' in body
    assert "checked" not in re.search(r'<input[^>]*value="dull"[^>]*>', body).group(0)


def test_an_answer_that_escalates_nothing_reads_no_escalations(client, answerable):
    _checkin, token = answerable
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(token), answer_data(score="2"))

    assert response.status_code == 200
    assert Escalation.objects.count() == 0
    assert not [q for q in queries.captured_queries if "followup_escalation" in q["sql"]]
