from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from followup.models import CheckIn, CheckInStatus
from followup.scheduling import schedule_checkins
from followup.sending import CHECKINS
from messaging import dispatch
from messaging.tasks import send_links
from tests.factories import CheckInFactory
from tests.followup.conftest import HOURS, NOW, links_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _at_now(frozen):
    pass


def test_opt_out_get_asks_to_confirm_and_changes_nothing(client, visit):
    token = CheckInFactory(visit=visit, policy_hours=24, sent=True).token

    response = client.get(reverse("followup:opt_out", args=[token]))

    assert response.status_code == 200
    assert b"Yes, stop the messages" in response.content
    visit.client.refresh_from_db()
    assert visit.client.opted_out_at is None


def test_opt_out_post_stops_the_clients_remaining_checkins(client, visit):
    schedule_checkins(visit=visit)
    # The first check-in goes out, as the tick and its task send it: the client holds it.
    send_links("checkin", dispatch.claim_due(CHECKINS, NOW + 24 * HOURS))
    token = links_in(mail.outbox[0].body)[0]

    response = client.post(reverse("followup:opt_out", args=[token]))

    assert response.status_code == 200
    visit.client.refresh_from_db()
    assert visit.client.opted_out_at == NOW
    assert list(CheckIn.objects.filter(visit=visit).values_list("status", flat=True)) == [
        CheckInStatus.SENT,  # already in the client's hands: still answerable
        CheckInStatus.CANCELLED,
        CheckInStatus.CANCELLED,
    ]
    assert not visit.client.wants_followup()


def test_the_opt_out_link_of_an_answered_checkin_still_works(client, visit):
    checkin = CheckInFactory(visit=visit, sent=True)
    token = checkin.token
    checkin.status = CheckInStatus.ANSWERED
    checkin.save()

    client.post(reverse("followup:opt_out", args=[token]))

    visit.client.refresh_from_db()
    assert visit.client.opted_out_at is not None


def test_an_unknown_opt_out_link_gets_the_plain_unusable_link_page(client):
    response = client.post(reverse("followup:opt_out", args=["x" * 43]))

    assert response.status_code == 404
    assert b"This link can no longer be used" in response.content
