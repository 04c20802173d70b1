"""Link tokens never reach a log, on the real stack: gunicorn with its access log on (and the
project's gunicorn.conf.py, read from the working directory as in the image), a Celery worker
and beat, PostgreSQL, Redis and SMTP.

Check-ins go out by email; the client opens a link, answers, opens it again, opens an
opt-out link; someone tries unknown tokens, with and without a query string. Then every
log of every process is searched for every token: none may appear, and the access log must
show the scrubbed paths (so the search was over real request lines).
"""

from __future__ import annotations

import re
import secrets

import pytest
from django.utils import timezone

from intake.services import visit_complete
from tests.factories import ClientFactory, IntakeFactory, UserFactory, VisitFactory
from tests.support.http import Browser

pytestmark = pytest.mark.integration

LINK = re.compile(r"https?://[^\s/]+(/f/([A-Za-z0-9_-]+)/(?:opt-out/)?)")
MAIL_TIMEOUT = 40


@pytest.mark.django_db(transaction=True)
def test_no_log_of_any_process_carries_a_link_token(stack, settings):
    # The check-ins are scheduled here, in the test's process: due seconds from now.
    settings.FOLLOWUP_OFFSETS = [2, 4, 6]
    settings.FOLLOWUP_QUIET_HOURS = None
    therapist = UserFactory(username="tess", groups=["therapist"], email="tess@clinic.test")
    person = ClientFactory(email="robin.hale@example.com", preferred_channel="email")
    intake = IntakeFactory(client=person, entered_by=therapist)
    visit = VisitFactory(
        client=person, intake=intake, therapist=therapist, scheduled_at=timezone.now()
    )
    from screening.services import screen_visit

    screen_visit(visit=visit)
    visit_complete(visit=visit, by=therapist, modality="swedish")
    # Text messages would go to the outbox table: the console backend prints its links, and
    # refusing it with DEBUG off is the settings' job.
    stack.env["SMS_BACKEND"] = "outbox"
    stack.start(web=True, worker=True, beat=True)

    mails = stack.sink.wait_for(lambda m: person.email in m.rcpt_tos, count=3, timeout=MAIL_TIMEOUT)
    links = [match for mail in mails for match in LINK.finditer(mail.text)]
    answer_paths = [m.group(1) for m in links if not m.group(1).endswith("opt-out/")]
    opt_out_paths = [m.group(1) for m in links if m.group(1).endswith("opt-out/")]
    tokens = {m.group(2) for m in links}
    assert len(answer_paths) == 3 and len(opt_out_paths) == 3 and len(tokens) == 3

    patient = Browser(stack.base_url)
    patient.get(answer_paths[0])
    patient.get(answer_paths[0] + "?utm_source=email")
    patient.submit(
        answer_paths[0],
        {"score": "2", "character": "dull", "radiating": "no", "note": "fine"},
        expect=200,
    )
    patient.get(answer_paths[0], expect=200)  # answered: the confirmation that it arrived
    patient.get(opt_out_paths[1])
    unknown = [secrets.token_urlsafe(32) for _ in range(2)]
    tokens.update(unknown)
    patient.get(f"/f/{unknown[0]}/", expect=404)
    patient.get(f"/f/{unknown[1]}/opt-out/?from=sms", expect=404)
    patient.session.post(stack.url(f"/f/{unknown[0]}/"), data={"score": "1"}, timeout=10)

    stack.stop()  # every process flushes and closes its log
    logs = {name: service.log() for name, service in stack.services.items()}
    assert set(logs) == {"web", "worker", "beat"}
    for name, text in logs.items():
        leaked = [token for token in tokens if token in text]
        assert not leaked, f"{name}.log carries {len(leaked)} link token(s)"
    web_log = logs["web"]
    # The access log is on, and its request lines are there, scrubbed.
    assert re.search(r'"GET /f/\[token\]/ HTTP/1\.1" 200', web_log), web_log[-3000:]
    assert re.search(r'"GET /f/\[token\]/opt-out/\?from=sms HTTP/1\.1" 404', web_log)
    assert "Not Found: /f/[token]/" in web_log  # Django's warning, scrubbed too
    assert "sent" in logs["worker"]  # the worker logged its sends
