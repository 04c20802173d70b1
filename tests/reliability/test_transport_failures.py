"""The email or SMS transport failing for a while (retried, then sent) or for good (`failed`,
with the reason, in front desk's admin list of failed check-ins).

Email goes to a real SMTP sink that answers 451 (try later) or refuses the recipient with 550;
SMS goes through a locmem backend that raises the channel's TransportError.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from followup.models import CheckIn, CheckInStatus
from intake.models import Client
from messaging import dispatch
from tests.reliability.backends import FlakySMSBackend
from tests.reliability.conftest import (
    assert_followup_invariant,
    from_locmem,
    from_sink,
    make_due_checkins,
)
from tests.support.smtp import SinkHandler, SmtpSink

pytestmark = pytest.mark.reliability

START = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=datetime.UTC)
STEP = datetime.timedelta(hours=1, seconds=1)  # longer than the longest retry backoff
REFUSED = "refused@example.test"


class _FlakyHandler(SinkHandler):
    """Answer 451 to the first `temporary` messages and 550 to one refused recipient."""

    def __init__(self, sink: SmtpSink, *, temporary: int) -> None:
        super().__init__(sink)
        self.temporary = temporary

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == REFUSED:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.temporary > 0:
            self.temporary -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


class FlakySmtpSink(SmtpSink):
    """The SMTP sink, answering through _FlakyHandler: FlakySmtpSink(temporary=2)."""

    handler_class = _FlakyHandler


@pytest.fixture
def transports(settings, celery_in_process):
    """Point email at an SMTP sink (started by the test) and SMS at FlakySMSBackend."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SMS_BACKENDS = {**settings.SMS_BACKENDS, "flaky": "tests.reliability.backends"
                             ".FlakySMSBackend"}  # fmt: skip
    settings.SMS_BACKEND = "flaky"
    settings.FOLLOWUP_QUIET_HOURS = None
    settings.FOLLOWUP_MAX_ATTEMPTS = 5
    sinks = []

    def start(temporary: int) -> SmtpSink:
        sink = FlakySmtpSink(temporary=temporary).start()
        settings.EMAIL_PORT = sink.port
        sinks.append(sink)
        return sink

    yield start
    for sink in sinks:
        sink.stop()
    FlakySMSBackend.reset(failures=0, permanent=False)


def _run_ticks(capture, steps: int) -> None:
    """Tick like the beat, an hour apart, its send tasks run in-process (Celery eager)."""
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(steps):
            with capture(execute=True):
                dispatch.tick()
            clock.shift(STEP)


CASES = [
    # channel, failures, permanent, final status, attempts, reason
    ("email", 2, False, CheckInStatus.SENT, 3, ""),
    ("email", 99, False, CheckInStatus.FAILED, 5, "email: temporary: the mail server answered 451"),
    ("email", 1, True, CheckInStatus.FAILED, 1, "email: permanent: the mail server refused the"),
    ("sms", 2, False, CheckInStatus.SENT, 3, ""),
    ("sms", 99, False, CheckInStatus.FAILED, 5, "sms: temporary: gateway busy"),
    ("sms", 1, True, CheckInStatus.FAILED, 1, "sms: permanent: unknown number"),
]


@pytest.mark.parametrize(
    ("channel", "failures", "permanent", "status", "attempts", "reason"), CASES
)
def test_a_failing_transport_is_retried_then_sends_or_fails_with_its_reason(
    db,
    transports,
    django_capture_on_commit_callbacks,
    channel,
    failures,
    permanent,
    status,
    attempts,
    reason,
):
    sink = transports(temporary=0 if permanent else failures)
    FlakySMSBackend.reset(failures=failures, permanent=permanent)
    with time_machine.travel(START, tick=False):
        (checkin,) = make_due_checkins(1, channels=(channel,))
    if channel == "email" and permanent:
        Client.objects.filter(pk=checkin.visit.client_id).update(email=REFUSED)

    _run_ticks(django_capture_on_commit_callbacks, steps=7)

    checkin.refresh_from_db()
    assert (checkin.status, checkin.attempts) == (status, attempts)
    assert checkin.last_error.startswith(reason)
    delivered = from_sink(sink) + from_locmem()
    assert len(delivered) == (1 if status == CheckInStatus.SENT else 0)
    with time_machine.travel(START + 8 * STEP, tick=False):
        assert_followup_invariant(delivered)


def test_front_desk_sees_failed_checkins_with_their_reason_in_the_admin(
    transports, front_desk_client, django_capture_on_commit_callbacks
):
    transports(temporary=0)
    FlakySMSBackend.reset(failures=1, permanent=True)
    with time_machine.travel(START, tick=False):
        failed, sent = make_due_checkins(2, channels=("sms",))
    FlakySMSBackend.reset(failures=1, permanent=True)  # only the first send fails

    _run_ticks(django_capture_on_commit_callbacks, steps=1)

    failed.refresh_from_db()
    assert failed.status == CheckInStatus.FAILED, CheckIn.objects.values("status", "last_error")
    url = reverse("admin:followup_checkin_changelist")
    response = front_desk_client.get(url, {"status__exact": CheckInStatus.FAILED})
    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert listed == [failed]
    page = response.content.decode()
    assert failed.visit.client.full_name in page
    assert "sms: permanent: unknown number" in page
