"""Proof on the real stack: a visit booked for tomorrow sends the client their health form
link (beat -> worker -> SMTP), the client fills in the form over HTTP with their date of
birth, and the therapist's alert about the contraindication arrives by email at once.
Nothing is sent twice.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.utils import timezone

from intake.linkmodels import IntakeLink
from intake.models import Intake, Visit
from messaging.models import LinkStatus
from tests.factories import UserFactory
from tests.integration.conftest import first_link
from tests.support.environment import portable_password_hash
from tests.support.http import HTTP_TIMEOUT, Browser
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
MAIL_TIMEOUT = 40


def _post(browser: Browser, path: str, data: dict, expect: int = 302):
    response = browser.session.post(
        browser._url(path), data=data, timeout=HTTP_TIMEOUT, allow_redirects=False
    )
    assert response.status_code == expect, (path, response.status_code, response.text[:2000])
    return response


@pytest.mark.django_db(transaction=True)
def test_a_booked_client_fills_in_their_form_and_the_therapist_is_told(stack):
    therapist = UserFactory(
        username="tess", first_name="Tess", last_name="Ng", groups=["therapist"],
        email="tess@clinic.test",
    )  # fmt: skip
    therapist.password = portable_password_hash(PASSWORD)
    therapist.save(update_fields=["password"])
    stack.start(web=True, worker=True, beat=True)
    sink = stack.sink
    staff = Browser(stack.base_url)
    staff.submit("/accounts/login/", {"username": "tess", "password": PASSWORD, "next": "/"})

    # -- a new client is booked for tomorrow: the link is due at once ----------------------
    created = staff.submit(
        "/clients/new/",
        {
            "first_name": "Robin",
            "last_name": "Hale",
            "date_of_birth": "1984-03-09",
            "email": "robin.hale@example.com",
            "preferred_channel": "email",
        },
    )
    client_id = int(re.search(r"/clients/(\d+)/", created.headers["Location"]).group(1))
    tomorrow = timezone.localtime() + dt.timedelta(hours=30)
    booked = staff.submit(
        f"/clients/{client_id}/visits/new/",
        {
            "scheduled_at": tomorrow.strftime("%Y-%m-%dT%H:%M"),
            "therapist": str(therapist.pk),
            "planned_modality": "swedish",
            "focus_regions": ["neck"],
        },
    )
    visit_id = int(re.search(r"/visits/(\d+)/", booked.headers["Location"]).group(1))

    # -- the message arrives by SMTP with the minimum in it --------------------------------
    (message,) = sink.wait_for(lambda m: "robin.hale@example.com" in m.rcpt_tos, MAIL_TIMEOUT)
    assert "please complete your health form before your visit" in message.text
    words = re.sub(r"https?://\S+", "", message.text).lower()
    for private in ("swedish", "neck", "tess", "robin"):
        assert private not in words, f"the message mentions {private!r}"
    link = first_link(message.text, "/i/")
    assert link.startswith(stack.base_url) and "/opt-out/" not in link

    # -- the client opens it: their date of birth first, a wrong one is refused ------------
    patient = Browser(stack.base_url)
    page = patient.get(link)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "date of birth" in page.text and "Robin" not in page.text
    _post(patient, link, {"date_of_birth": "1984-09-03"}, expect=400)
    step = _post(patient, link, {"date_of_birth": "1984-03-09"}).headers["Location"]
    assert step.endswith("/about/")
    base = link.rstrip("/")
    steps = {
        "about": {},
        "conditions": {"cond_thrombosis": "on", "cond_thrombosis_notes": "clot in my calf"},
        "pregnancy": {},
        "medicines": {"medications": "warfarin 5 mg"},
        "illness": {},
        "pain": {"pain_score": "4", "pain_character": "dull", "pain_regions": ["legs"]},
        "warning": {},
        "allergies": {},
        "notes": {"free_text": "my leg is swollen"},
    }
    for slug, data in steps.items():
        assert patient.get(f"{base}/{slug}/").status_code == 200
        _post(patient, f"{base}/{slug}/", data)
    summary = patient.get(f"{base}/consent/")
    assert "warfarin 5 mg" in summary.text
    done = _post(patient, f"{base}/consent/", {"consent": "on", "signature_name": "Robin Hale"})
    thanks = patient.get(done.headers["Location"])
    assert "Thank you" in thanks.text and "Contraindicated" not in thanks.text

    # -- stored once, from the client, screened; the therapist's alert arrives -------------
    intake = Intake.objects.get(client_id=client_id)
    assert (intake.source, intake.consent_method) == ("client", "client_link")
    visit = Visit.objects.get(pk=visit_id)
    assert visit.intake_id == intake.pk
    assert visit.current_screening().decision == "contraindicated"
    (alert,) = sink.wait_for(lambda m: therapist.email in m.rcpt_tos, timeout=MAIL_TIMEOUT)
    assert f"{stack.base_url}/visits/{visit_id}/" in alert.text
    for private in ("thrombosis", "clot", "warfarin", "robin", "hale"):
        assert private not in alert.text.lower()
    wait_until(
        lambda: (
            IntakeLink.objects.get(visit=visit, status=LinkStatus.ANSWERED).alert_status == "sent"
        ),
        timeout=15,
        interval=0.25,
        message="the alert recorded as sent",
    )
    visit_page = staff.get(f"/visits/{visit_id}/")
    assert "needs review before the visit" in visit_page.text
    assert "Submitted by the client" in visit_page.text

    # -- nothing twice: a few more ticks send nothing more ---------------------------------
    time.sleep(3)
    assert len(sink.matching(lambda m: "robin.hale@example.com" in m.rcpt_tos)) == 1
    assert len(sink.matching(lambda m: therapist.email in m.rcpt_tos)) == 1
    assert Intake.objects.filter(client_id=client_id).count() == 1
    reminder = IntakeLink.objects.get(visit=visit, purpose="reminder")
    assert reminder.status == LinkStatus.CANCELLED
    patient.get(link, expect=302)  # the browser that sent it is thanked again
    Browser(stack.base_url).get(link, expect=404)  # anyone else: the one unusable page
