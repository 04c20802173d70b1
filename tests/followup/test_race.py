"""Two dispatchers racing over the same due rows on PostgreSQL send each check-in once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection

from followup.models import CheckIn, CheckInStatus
from followup.sending import CHECKINS
from messaging import dispatch
from messaging.tasks import send_links
from tests.factories import CheckInFactory
from tests.followup.conftest import NOW, make_visit
from tests.services import require_postgres

DUE = 60
DISPATCHERS = 4


@pytest.mark.django_db(transaction=True)
def test_racing_dispatchers_send_each_due_checkin_exactly_once():
    require_postgres()
    addresses = []
    for _ in range(DUE // 3):
        visit = make_visit()
        addresses.append(visit.client.email)
        for hours in (24, 48, 72):
            CheckInFactory(visit=visit, policy_hours=hours, due_at=NOW)
    start = threading.Barrier(DISPATCHERS)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            start.wait()
            # Small batches so the dispatchers interleave over the same rows.
            mine: list[int] = []
            while batch := dispatch.claim_due(CHECKINS, NOW, limit=5):
                mine.extend(batch)
                send_links("checkin", batch)  # the batch's task, run by this dispatcher
            claimed.append(mine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=dispatcher) for _ in range(DISPATCHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    every_claim = [pk for mine in claimed for pk in mine]
    assert len(every_claim) == len(set(every_claim)) == DUE
    assert set(CheckIn.objects.values_list("status", flat=True)) == {CheckInStatus.SENT}
    # Each client's three check-ins reached their address, once each (two made-up clients
    # may share a name, and so an address: their six messages count together).
    expected = Counter(address for address in addresses for _ in range(3))
    assert Counter(m.to[0] for m in mail.outbox) == expected
