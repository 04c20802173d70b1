"""The integration harness itself: real processes start, share the test database, reach SMTP.

When the end-to-end test fails, these say whether the stack or the feature is at fault.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
import requests

from tests.factories import UserFactory

pytestmark = pytest.mark.integration


def test_the_smtp_sink_parses_what_it_receives(smtp_sink):
    message = EmailMessage()
    message["From"] = "clinic@example.com"
    message["To"] = "someone@example.com"
    message["Subject"] = "Héllo"
    message.set_content("Open http://127.0.0.1:1/f/abc/ please")
    with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=5) as smtp:
        smtp.send_message(message)

    (mail,) = smtp_sink.wait_for(lambda m: "someone@" in m.to, timeout=5)
    assert mail.subject == "Héllo"
    assert mail.rcpt_tos == ("someone@example.com",)
    assert mail.links() == ["http://127.0.0.1:1/f/abc/"]


def test_worker_beat_and_web_share_the_test_database_and_reach_the_sink(stack):
    UserFactory(username="probe-user")
    stack.start(web=True, worker=True, beat=True)

    health = requests.get(stack.url("/health/"), timeout=5)
    assert health.status_code == 200, health.text
    assert health.json()["database"]["detail"] == "postgresql"
    assert health.json()["broker"]["ok"] is True

    stack.send_task("harness.send_probe_mail", "probe@example.com", "Probe", "It works.")
    (mail,) = stack.sink.wait_for(lambda m: "probe@example.com" in m.rcpt_tos, timeout=20)
    assert mail.text.strip() == "It works."
    assert "Integration Clinic" in str(mail.message["From"])

    # Beat ticks at FOLLOWUP_TICK_SECONDS: the dispatch task goes out about once a second.
    stack.services["beat"].wait_for_log(
        r"Sending due task \S+ \(messaging\.tasks\.dispatch_due\)", timeout=10
    )
