"""The admin: front desk sees contact and scheduling data, never answers or reasons."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from followup.answers import record_answer
from followup.models import CheckIn, CheckInStatus, Escalation
from followup.scheduling import schedule_checkins
from tests.factories import CheckInFactory
from tests.followup.conftest import NOW, make_visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now(frozen):
    pass


@pytest.fixture
def answered_visit(visit):
    checkin = CheckInFactory(visit=visit, sent=True)
    record_answer(checkin=checkin, score=8, character="sharp", radiating=False, red_flags=[])
    return visit


def _changelist_queries(browser, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url, {"status__exact": "failed"})
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode()


def test_the_checkin_list_shows_failed_rows_with_their_error_without_n_plus_1(
    front_desk_client,
):
    url = reverse("admin:followup_checkin_changelist")
    CheckInFactory(
        visit=make_visit(), status=CheckInStatus.FAILED, last_error="email: permanent: x"
    )
    _changelist_queries(front_desk_client, url)  # warm: the user's groups are cached after it
    one_row, _ = _changelist_queries(front_desk_client, url)
    for _ in range(5):
        CheckInFactory(
            visit=make_visit(), status=CheckInStatus.FAILED, last_error="email: permanent: x"
        )

    six_rows, content = _changelist_queries(front_desk_client, url)

    assert six_rows == one_row
    assert content.count("email: permanent: x") == 6


def test_checkins_can_be_filtered_by_channel_and_searched_by_client_name(front_desk_client):
    visit = make_visit()
    CheckInFactory(visit=visit, channels=["sms"])
    url = reverse("admin:followup_checkin_changelist")

    by_channel = front_desk_client.get(url, {"channel": "sms"})
    by_name = front_desk_client.get(url, {"q": visit.client.last_name})

    assert by_channel.context["cl"].result_count == 1
    assert by_name.context["cl"].result_count == 1


def test_resend_gives_a_checkin_a_new_link_and_schedules_it_now(front_desk_client):
    visit = make_visit()
    checkin = CheckInFactory(visit=visit, status=CheckInStatus.FAILED, attempts=5, last_error="x")

    front_desk_client.post(
        reverse("admin:followup_checkin_changelist"),
        {"action": "resend_checkins", "_selected_action": [checkin.pk]},
    )

    checkin.refresh_from_db()
    assert (checkin.status, checkin.due_at, checkin.attempts) == ("scheduled", NOW, 0)
    assert checkin.token_hash is None


def test_cancel_follow_up_cancels_unfinished_checkins_only(front_desk_client, visit):
    checkins = schedule_checkins(visit=visit)
    CheckIn.objects.filter(pk=checkins[0].pk).update(status="answered", sent_at=NOW)

    front_desk_client.post(
        reverse("admin:followup_checkin_changelist"),
        {"action": "cancel_followup", "_selected_action": [c.pk for c in checkins]},
    )

    assert list(CheckIn.objects.filter(visit=visit).values_list("status", flat=True)) == [
        "answered",
        "cancelled",
        "cancelled",
    ]


# Random values a page carries (a CSRF token, a CSP nonce) may hold any short string, "U3"
# included: they are taken out before looking for a rule's code in the page.
_RANDOM = re.compile(r'(?:nonce|value|content)="[A-Za-z0-9_\-+/=]{16,}"')


def rule_shown(code: str, page: str) -> bool:
    return re.search(rf"\b{code}\b", _RANDOM.sub("", page)) is not None


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_front_desk_cannot_see_answers_but_therapists_can(front_desk, therapist, answered_visit):
    url = reverse("admin:followup_checkinanswer_changelist")

    assert logged_in(front_desk).get(url).status_code == 403
    assert logged_in(therapist).get(url).status_code == 200


def test_front_desk_sees_an_escalations_level_but_not_its_reasons(
    front_desk, therapist, answered_visit
):
    escalation = Escalation.objects.get()
    url = reverse("admin:followup_escalation_change", args=[escalation.pk])

    front_desk_page = logged_in(front_desk).get(url).content.decode()
    therapist_page = logged_in(therapist).get(url).content.decode()

    assert "Urgent" in front_desk_page
    assert not rule_shown("U3", front_desk_page)
    assert rule_shown("U3", therapist_page)


def test_the_escalation_list_filters_by_level_status_and_notification(
    front_desk_client, answered_visit
):
    url = reverse("admin:followup_escalation_changelist")

    response = front_desk_client.get(
        url, {"level__exact": "urgent", "status__exact": "open", "notify_status__exact": "pending"}
    )

    assert response.context["cl"].result_count == 1


def test_no_admin_page_shows_a_token_hash_or_a_link_secret(therapist_client, visit):
    checkin = CheckInFactory(
        visit=visit,
        sent=True,
        sent_at=NOW - datetime.timedelta(hours=1),
        link_secret="the-rows-link-secret-0123456789",
    )
    checkin.refresh_from_db()

    page = therapist_client.get(reverse("admin:followup_checkin_change", args=[checkin.pk]))

    assert checkin.token_hash not in page.content.decode()
    assert checkin.link_secret not in page.content.decode()
