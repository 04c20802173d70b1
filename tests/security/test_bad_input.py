"""Bad input is refused with a clear message (or a plain 404/400/429), nothing is stored half
way, no traceback is shown, and no escalation is doubled.

One table per surface: the intake form, the client form in the admin, the check-in answer
page, the link tokens, and the two JSON commands; then two clients submitting at once.
"""

from __future__ import annotations

import datetime
import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client as WebClient
from django.urls import reverse
from django.utils import timezone

from followup.models import CheckInAnswer, CheckInStatus, Escalation
from intake.models import Client, Intake
from tests.factories import CheckInFactory, UserFactory
from tests.services import require_postgres

TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "Exception Value")


def _no_traceback(text: str) -> None:
    assert not any(marker in text for marker in TRACEBACK_MARKERS), text[:2000]


def _counts() -> tuple[int, ...]:
    return (
        Intake.objects.count(),
        CheckInAnswer.objects.count(),
        Escalation.objects.count(),
        Client.objects.count(),
    )


# ---- the intake form -----------------------------------------------------------------------


def _intake_post(world, **changes) -> dict:
    data = {
        "visit_date": timezone.localdate().isoformat(),
        "planned_modality": "swedish",
        "focus_regions": ["neck"],
        "pain_score": "3",
        "pain_character": "dull",
        "pain_regions": ["neck"],
        "consent": "on",
        "signature_name": world.client.full_name,
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


INTAKE_CASES = {
    "pain score 11": {"pain_score": "11"},
    "pain score -1": {"pain_score": "-1"},
    "pain score 7.5": {"pain_score": "7.5"},
    "pain score abc": {"pain_score": "abc"},
    "pain score sent twice": {"pain_score": ["3", "9"]},
    "impossible visit date": {"visit_date": "2026-02-30"},
    "NUL in free text": {"free_text": "fine\x00DROP"},
    "oversized free text": {"free_text": "x" * 20_001},
    "control character in medications": {"medications": "warfarin\x07"},
    "markup as modality": {"planned_modality": "<script>alert(1)</script>"},
    "unknown red flag": {"red_flags": ["third_eye_pain"]},
    "pregnancy weeks 46": {"pregnant": "on", "pregnancy_weeks": "46"},
    "no consent": {"consent": None},
    "signature of someone else": {"signature_name": "Mallory Evil"},
    "unknown region (unicode)": {"focus_regions": ["néck☃"]},
}


@pytest.mark.parametrize("case", sorted(INTAKE_CASES))
def test_bad_intake_form_input_is_refused_and_nothing_is_stored(case, world, therapist_client):
    before = _counts()
    url = reverse("intake:intake_create", args=[world.client.pk])
    response = therapist_client.post(url, _intake_post(world, **INTAKE_CASES[case]))
    assert response.status_code == 400
    body = response.content.decode()
    assert "invalid-feedback" in body or "alert-danger" in body or "errorlist" in body
    assert "<script>alert(1)</script>" not in body
    _no_traceback(body)
    assert _counts() == before


# ---- the client form in the admin ----------------------------------------------------------

CLIENT_CASES = {
    "CRLF in email": {"email": "ana@example.com\r\nBcc: everyone@example.com"},
    "bad phone": {"phone": "12345"},
    "letters in phone": {"phone": "+44 7700 CALLME"},
    "future date of birth": {"date_of_birth": "2999-01-01"},
    "impossible date of birth": {"date_of_birth": "2026-02-30"},
    "NUL in name": {"first_name": "Ana\x00"},
    "oversized name": {"last_name": "L" * 101},
}


@pytest.mark.parametrize("case", sorted(CLIENT_CASES))
def test_bad_client_input_in_the_admin_is_refused(case, world, front_desk_client):
    person = world.client
    stored = Client.objects.filter(pk=person.pk).values().get()
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth.isoformat(),
        "email": person.email,
        "phone": str(person.phone),
        "preferred_channel": person.preferred_channel,
        "followup_consent": "on",
        "opted_out_at_0": "",
        "opted_out_at_1": "",
        **CLIENT_CASES[case],
    }
    url = reverse("admin:intake_client_change", args=[person.pk])
    response = front_desk_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors, "the bad value was not reported"
    _no_traceback(response.content.decode())
    assert Client.objects.filter(pk=person.pk).values().get() == stored


# ---- the check-in answer page --------------------------------------------------------------

GOOD_ANSWER = {"score": "3", "character": "dull", "radiating": "no", "note": ""}
ANSWER_CASES = {
    "score 11": {"score": "11"},
    "score -1": {"score": "-1"},
    "score 7.5": {"score": "7.5"},
    "score abc": {"score": "abc"},
    "score missing": {"score": None},
    "score sent twice": {"score": ["3", "9"]},
    "character missing": {"character": None},
    "character as markup": {"character": "<b>sharp</b>"},
    "radiating maybe": {"radiating": "maybe"},
    "NUL in note": {"note": "ok\x00"},
    "oversized note": {"note": "n" * 1001},
    "unknown red flag": {"red_flags": ["third_eye_pain"]},
    "red flag as markup": {"red_flags": ["<script>alert(1)</script>"]},
}


def _answer(**changes) -> dict:
    data = dict(GOOD_ANSWER)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize("case", sorted(ANSWER_CASES))
def test_bad_checkin_answers_are_refused_and_nothing_is_stored(case, world, client):
    before = _counts()
    url = reverse("followup:answer", args=[world.token])
    response = client.post(url, _answer(**ANSWER_CASES[case]))
    assert response.status_code in (200, 400)
    body = response.content.decode()
    form = response.context.get("form") if response.context else None
    assert form is not None and form.errors, f"accepted: the page says {body[-600:]!r}"
    assert "text-danger" in body or "alert-danger" in body
    assert "<script>alert(1)</script>" not in body
    _no_traceback(body)
    assert _counts() == before
    world.checkin.refresh_from_db()
    assert world.checkin.status == CheckInStatus.SENT  # still answerable


def test_markup_in_a_note_is_stored_as_text_and_never_rendered(world, client, therapist_client):
    note = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    response = client.post(reverse("followup:answer", args=[world.token]), _answer(note=note))
    assert response.status_code == 200
    assert CheckInAnswer.objects.get(checkin=world.checkin).note == note
    chart = therapist_client.get(reverse("followup:pain_chart", args=[world.done_visit.pk]))
    assert "<script>alert(1)</script>" not in chart.content.decode()
    assert "<img src=x" not in chart.content.decode()


# ---- link tokens ---------------------------------------------------------------------------


def _tampered(world) -> str:
    token = world.token
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def _expired(world) -> str:
    world.checkin.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    world.checkin.save()
    return world.token


def _replayed(world) -> str:
    WebClient().post(reverse("followup:answer", args=[world.token]), GOOD_ANSWER)
    return world.token


def _cancelled(world) -> str:
    world.checkin.status = CheckInStatus.CANCELLED
    world.checkin.save()
    return world.token


def _opted_out(world) -> str:
    # The 72 h check-in's message was on its way when the client opted out (from the 48 h
    # message's link): the opt-out cancels it, and its link must not take an answer.
    checkin = CheckInFactory(visit=world.done_visit, policy_hours=72, sent=True)
    token = checkin.token
    checkin.status = CheckInStatus.SENDING
    checkin.save()
    WebClient().post(reverse("followup:opt_out", args=[world.token]))
    checkin.refresh_from_db()
    assert checkin.status == CheckInStatus.CANCELLED
    return token


TOKEN_CASES = {
    "tampered": _tampered,
    "expired": _expired,
    "cancelled check-in": _cancelled,
    "opted-out client": _opted_out,
    "unknown": lambda world: "A" * 43,
    "overlong": lambda world: "A" * 300,
    "unicode": lambda world: "tökén☃",
    "the token with a character added": lambda world: world.token + "x",
}


@pytest.mark.parametrize("case", sorted(TOKEN_CASES))
@pytest.mark.parametrize("method", ["get", "post"])
def test_unusable_links_get_the_same_plain_404_and_store_nothing(case, method, world, client):
    token = TOKEN_CASES[case](world)
    before = _counts()
    response = getattr(client, method)(reverse("followup:answer", args=[token]), GOOD_ANSWER)
    assert response.status_code == 404
    assert response["Referrer-Policy"] == "no-referrer"
    _no_traceback(response.content.decode())
    assert _counts() == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_replayed_link_only_confirms_the_first_answer_and_stores_nothing(method, world, client):
    token = _replayed(world)
    before = _counts()
    response = getattr(client, method)(reverse("followup:answer", args=[token]), GOOD_ANSWER)
    assert response.status_code == 200
    assert b"Your answers reached us" in response.content
    assert response["Referrer-Policy"] == "no-referrer"
    assert _counts() == before


def test_too_many_link_requests_get_429(world, client, settings):
    from followup import views

    url = reverse("followup:answer", args=["A" * 43])
    codes = [client.get(url).status_code for _ in range(views.RATE_LIMIT_REQUESTS + 1)]
    assert codes[-1] == 429
    assert set(codes[:-1]) == {404}


# ---- the JSON commands ---------------------------------------------------------------------

VALID_INTAKE = {
    "date_of_birth": "1980-05-01",
    "visit_date": "2026-11-20",
    "planned_modality": "deep_tissue",
    "focus_regions": ["lumbar"],
}
VALID_FOLLOWUP = {
    "baseline_pain": 3,
    "answers": [{"hours": 24, "score": 5, "character": "dull", "radiating": False}],
}
COMMAND_CASES = {
    "screen: not JSON": ("screen", b"{date_of_birth: 1980}", "JSON"),
    "screen: NUL byte": ("screen", b'{"date_of_birth": "1980-05-01\x00"}', ""),
    "screen: impossible date": (
        "screen",
        {**VALID_INTAKE, "visit_date": "2026-02-30"},
        "visit_date",
    ),
    "screen: score as text": (
        "screen",
        {**VALID_INTAKE, "current_pain": {"score": "7"}},
        "current_pain.score",
    ),
    "screen: score 11": ("screen", {**VALID_INTAKE, "current_pain": {"score": 11}}, "score"),
    "screen: list as object": ("screen", {**VALID_INTAKE, "conditions": {"a": 1}}, "conditions"),
    "screen: huge free text": ("screen", {**VALID_INTAKE, "free_text": "x" * 25_000}, "free_text"),
    "screen: unicode modality": (
        "screen",
        {**VALID_INTAKE, "planned_modality": "déep☃"},
        "planned_modality",
    ),  # fmt: skip
    "screen: empty input": ("screen", b"", ""),
    "evaluate: not JSON": ("evaluate_followup", b"[1, 2", "JSON"),
    "evaluate: NUL byte": ("evaluate_followup", b'{"baseline_pain": 3\x00}', ""),
    "evaluate: score as text": (
        "evaluate_followup",
        {**VALID_FOLLOWUP, "answers": [{**VALID_FOLLOWUP["answers"][0], "score": "5"}]},
        "score",
    ),
    "evaluate: score true": (
        "evaluate_followup",
        {**VALID_FOLLOWUP, "answers": [{**VALID_FOLLOWUP["answers"][0], "score": True}]},
        "score",
    ),
    "evaluate: unknown red flag": (
        "evaluate_followup",
        {**VALID_FOLLOWUP, "answers": [{**VALID_FOLLOWUP["answers"][0], "red_flags": ["☃"]}]},
        "red_flags",
    ),
    "evaluate: baseline as list": (
        "evaluate_followup",
        {**VALID_FOLLOWUP, "baseline_pain": [3]},
        "baseline_pain",
    ),  # fmt: skip
    "evaluate: huge": ("evaluate_followup", b"[" + b"1," * 3_000_000 + b"1]", ""),
}


def _run(command: str, payload, tmp_path, capsys) -> tuple[int, str, str]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    path = tmp_path / "input.json"
    path.write_bytes(raw)
    capsys.readouterr()
    try:
        call_command(command, str(path))
        status = 0
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("case", sorted(COMMAND_CASES))
def test_bad_json_for_the_commands_is_refused_with_a_clear_message(case, tmp_path, db, capsys):
    command, payload, named = COMMAND_CASES[case]
    before = _counts()
    status, out, err = _run(command, payload, tmp_path, capsys)
    assert status not in (0, None), f"accepted: {out[:500]}"
    message = err + out
    assert message.strip(), "no message at all"
    assert named in message, message[:1000]
    _no_traceback(message)
    assert _counts() == before


def test_the_commands_accept_unicode_text(tmp_path, db, capsys):
    intake = {**VALID_INTAKE, "free_text": "Zoë feels “fine” 🙂", "allergies": ["ラベンダー"]}
    status, out, _ = _run("screen", intake, tmp_path, capsys)
    assert status in (0, None)
    assert json.loads(out)["decision"]


# ---- two clients submitting at once --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_store_one_answer_and_one_escalation(settings):
    require_postgres()
    from tests.factories import VisitFactory

    therapist = UserFactory(username="tess", groups=["therapist"])
    visit = VisitFactory(
        therapist=therapist,
        status="completed",
        completed_at=timezone.now() - datetime.timedelta(days=1),
        performed_modality="swedish",
        baseline_pain=3,
    )
    checkin = CheckInFactory(visit=visit, sent=True)
    token = checkin.token
    url = reverse("followup:answer", args=[token])
    urgent = {**GOOD_ANSWER, "score": "9", "red_flags": ["numbness"]}
    start = threading.Barrier(2)
    codes = []

    def submit():
        web = WebClient()
        start.wait(timeout=10)
        try:
            codes.append(web.post(url, urgent).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # The second submit finds the first one's answer and only confirms it arrived.
    assert sorted(codes) == [200, 200]
    assert CheckInAnswer.objects.filter(checkin=checkin).count() == 1
    assert Escalation.objects.filter(visit=visit).count() == 1
