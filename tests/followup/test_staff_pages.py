"""Escalation queue, no-response list, pain chart and dev outbox: who sees what."""

from __future__ import annotations

import datetime
import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from followup.answers import record_answer
from followup.models import CheckInAnswer, Escalation
from intake.models import HealthRecordAccess
from tests.factories import CheckInFactory, EscalationFactory
from tests.followup.conftest import NOW, make_visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now(frozen):
    pass


@pytest.fixture
def escalated(visit):
    """A visit whose 24 h answer (sharp, 8/10) opened an urgent escalation."""
    checkin = CheckInFactory(visit=visit, policy_hours=24, sent=True)
    record_answer(checkin=checkin, score=8, character="sharp", radiating=False, red_flags=[])
    return Escalation.objects.get()


def test_therapists_see_the_reasons_and_a_link_to_the_pain_chart(therapist_client, escalated):
    response = therapist_client.get(reverse("followup:escalation_queue"))

    content = response.content.decode()
    assert response.status_code == 200
    assert escalated.visit.client.full_name in content
    assert "Sharp, severe pain (7/10 or more) (check-in 1)" in content
    assert reverse("followup:pain_chart", args=[escalated.visit_id]) in content


def test_front_desk_sees_contact_level_and_status_but_no_reasons_or_scores(
    front_desk_client, escalated
):
    response = front_desk_client.get(reverse("followup:escalation_queue"))

    # CSRF tokens and CSP nonces are random letters and could spell "U3": leave them out.
    content = re.sub(r'(?:value|nonce)="[^"]*"', "", response.content.decode())
    client = escalated.visit.client
    assert client.full_name in content
    assert client.email in content
    assert "Urgent" in content
    assert "U3" not in content
    assert "sharp" not in content
    assert "8/10" not in content
    assert "Pain chart" not in content
    assert ">Resolve</button>" not in content


def test_the_queue_needs_a_staff_login(client, escalated, django_user_model):
    assert client.get(reverse("followup:escalation_queue")).status_code == 302
    outsider = django_user_model.objects.create_user("visitor", password="x")
    client.force_login(outsider)
    assert client.get(reverse("followup:escalation_queue")).status_code == 403


def test_acknowledging_and_resolving_record_who_when_and_the_note(
    therapist_client, therapist, escalated
):
    therapist_client.post(
        reverse("followup:escalation_acknowledge", args=[escalated.pk]), {"note": "calling"}
    )
    therapist_client.post(
        reverse("followup:escalation_resolve", args=[escalated.pk]), {"note": "saw GP"}
    )

    escalated.refresh_from_db()
    assert (escalated.status, escalated.acknowledged_by, escalated.acknowledged_at) == (
        "resolved",
        therapist,
        NOW,
    )
    assert (escalated.acknowledgement_note, escalated.resolution_note) == ("calling", "saw GP")
    assert escalated.resolved_by == therapist

    resolved_tab = therapist_client.get(reverse("followup:escalation_queue") + "?status=resolved")
    assert "saw GP" in resolved_tab.content.decode()


def test_front_desk_may_acknowledge_but_not_resolve(front_desk_client, front_desk, escalated):
    front_desk_client.post(reverse("followup:escalation_acknowledge", args=[escalated.pk]))
    refused = front_desk_client.post(reverse("followup:escalation_resolve", args=[escalated.pk]))

    escalated.refresh_from_db()
    assert refused.status_code == 403
    assert (escalated.status, escalated.acknowledged_by) == ("acknowledged", front_desk)


def test_a_failed_therapist_alert_is_highlighted_in_the_queue(front_desk_client, escalated):
    Escalation.objects.filter(pk=escalated.pk).update(
        notify_status="failed", notify_error="email: permanent: no email address on file"
    )

    content = front_desk_client.get(reverse("followup:escalation_queue")).content.decode()

    assert 'class="table-danger"' in content
    assert "no email address on file" in content


def expire_all(visit, *statuses):
    for hours, status in zip((24, 48, 72), statuses, strict=False):
        CheckInFactory(visit=visit, policy_hours=hours, status=status)


def test_no_response_lists_visits_whose_checkins_all_ran_out_unanswered(front_desk_client):
    silent = make_visit()
    expire_all(silent, "expired", "expired", "failed")
    answered = make_visit()
    expire_all(answered, "expired", "expired")
    CheckInAnswer  # noqa: B018 - answered visits are excluded by status below
    answered.checkins.filter(policy_hours=48).update(status="answered", sent_at=NOW)
    waiting = make_visit()
    expire_all(waiting, "expired", "scheduled")
    opted_out = make_visit()
    expire_all(opted_out, "expired", "cancelled")

    content = front_desk_client.get(reverse("followup:no_response")).content.decode()

    assert silent.client.full_name in content
    for other in (answered, waiting, opted_out):
        assert other.client.full_name not in content


def test_mark_called_records_the_call_and_takes_the_visit_off_the_list(front_desk_client):
    silent = make_visit()
    expire_all(silent, "expired", "expired", "expired")

    front_desk_client.post(reverse("followup:mark_called", args=[silent.pk]))

    silent.refresh_from_db()
    assert silent.followup_called_at == NOW
    content = front_desk_client.get(reverse("followup:no_response")).content.decode()
    assert "Nobody to call right now" in content
    assert silent.history.first().history_user.username == "frank"


def test_the_pain_chart_plots_the_baseline_and_each_answer_coloured_by_level(
    therapist_client, therapist, escalated
):
    visit = escalated.visit

    response = therapist_client.get(reverse("followup:pain_chart", args=[visit.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert content.count("<circle") == 2
    assert 'data-level="baseline"' in content
    assert 'fill="#b02a37" stroke="#fff" stroke-width="2" data-level="urgent"' in content
    assert " style=" not in content
    assert HealthRecordAccess.objects.filter(user=therapist, client=visit.client).exists()


def test_front_desk_never_sees_the_pain_chart(front_desk_client, front_desk, escalated):
    response = front_desk_client.get(reverse("followup:pain_chart", args=[escalated.visit_id]))
    request = RequestFactory().get("/")
    request.user = front_desk
    included = Template('{% include "followup/_pain_chart.html" with visit=visit %}').render(
        Context({"visit": escalated.visit, "request": request})
    )

    assert response.status_code == 403
    assert "<svg" not in included


def test_no_response_lists_visits_of_the_last_30_days_only(front_desk_client):
    recent = make_visit(completed_at=NOW - datetime.timedelta(days=12))
    expire_all(recent, "expired", "expired", "expired")
    old = make_visit(completed_at=NOW - datetime.timedelta(days=31))
    expire_all(old, "expired", "expired", "expired")

    content = front_desk_client.get(reverse("followup:no_response")).content.decode()

    assert "Visits of the last 30 days" in content
    assert recent.client.full_name in content
    assert old.client.full_name not in content


def test_no_response_list_is_paged(front_desk_client, monkeypatch):
    from followup import views

    monkeypatch.setattr(views, "NO_RESPONSE_PER_PAGE", 2)
    silent = []
    for hours in (1, 2, 3):
        visit = make_visit(completed_at=NOW - datetime.timedelta(days=10, hours=hours))
        expire_all(visit, "expired")
        silent.append(visit)
    url = reverse("followup:no_response")

    first = front_desk_client.get(url).content.decode()
    second = front_desk_client.get(url, {"page": 2}).content.decode()

    assert "Page 1 of 2" in first and "?page=2" in first
    assert [v.client.full_name in first for v in silent] == [True, True, False]
    assert [v.client.full_name in second for v in silent] == [False, False, True]


def test_the_escalation_queue_is_paged_within_its_tab(therapist_client, monkeypatch):
    from followup import views

    monkeypatch.setattr(views, "ESCALATIONS_PER_PAGE", 2)
    names = []
    for minutes in (1, 2, 3):
        escalation = EscalationFactory(opened_at=NOW - datetime.timedelta(minutes=10 - minutes))
        names.append(escalation.visit.client.full_name)
    url = reverse("followup:escalation_queue")

    first = therapist_client.get(url, {"status": "open"}).content.decode()
    second = therapist_client.get(url, {"status": "open", "page": 2}).content.decode()

    assert "Page 1 of 2" in first and "?status=open&amp;page=2" in first
    assert [name in first for name in names] == [True, True, False]
    assert [name in second for name in names] == [False, False, True]


NOTE = "It hurts when I turn my head <b>left</b>"


@pytest.fixture
def escalated_with_note(visit):
    checkin = CheckInFactory(visit=visit, policy_hours=24, sent=True)
    record_answer(
        checkin=checkin, score=8, character="sharp", radiating=False, red_flags=[], note=NOTE
    )
    return Escalation.objects.get()


def test_the_clients_note_is_on_the_escalation_for_therapists(
    therapist_client, escalated_with_note
):
    shown = therapist_client.get(reverse("followup:escalation_queue")).content.decode()

    escaped = "It hurts when I turn my head &lt;b&gt;left&lt;/b&gt;"
    assert f"Client's note (check-in 1):</span> “{escaped}”" in shown


def test_front_desk_never_sees_the_clients_note(front_desk_client, escalated_with_note):
    hidden = front_desk_client.get(reverse("followup:escalation_queue")).content.decode()

    assert escalated_with_note.visit.client.full_name in hidden
    assert "turn my head" not in hidden


def test_the_clients_note_is_on_the_visit_page_and_the_pain_chart(
    therapist_client, escalated_with_note
):
    visit_id = escalated_with_note.visit_id
    visit_page = therapist_client.get(reverse("intake:visit_detail", args=[visit_id]))
    chart = therapist_client.get(reverse("followup:pain_chart", args=[visit_id]))

    escaped = "It hurts when I turn my head &lt;b&gt;left&lt;/b&gt;"
    assert f"Client's note:</span> “{escaped}”" in visit_page.content.decode()
    content = chart.content.decode()
    assert f"Check-in 1: 8/10 (Urgent). Client's note: “{escaped}”</title>" in content
    assert f"Check-in 1, client's note:</span> “{escaped}”" in content


def test_a_raised_escalation_is_listed_once_with_its_earlier_level(therapist_client, visit):
    first = CheckInFactory(visit=visit, policy_hours=24, sent=True)
    record_answer(checkin=first, score=6, character="dull", radiating=False, red_flags=[])
    second = CheckInFactory(visit=visit, policy_hours=48, sent=True)
    record_answer(checkin=second, score=6, character="dull", radiating=False, red_flags=["fever"])

    content = therapist_client.get(reverse("followup:escalation_queue")).content.decode()

    assert content.count(visit.client.full_name) == 1
    assert "Raised, was Review from Tue 10 Mar, 10:00" in content
