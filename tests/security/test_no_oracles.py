"""No oracles: what front desk gets never depends on the health history.

Two clients differ only in their health history: one is pregnant with a due date that
makes some booking dates unscreenable, has conditions, medications, answers with a note and
a therapist's deferral reason; the control has a clear history. Front desk takes both through
every form and action they have (admin and app pages), and each step must give the same
observation: status code, where it redirects, the messages shown, the form errors, and every
log line written, once names, numbers and dates are taken out. Health words must appear in
none of them. (The admin's visit list shows the screening decision level by design, SPEC
section 1, so list bodies are not compared; their status and messages are.)
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from followup.models import CheckInAnswer, CheckInStatus, Escalation
from intake.models import Visit
from screening.services import screen_visit
from tests.factories import CheckInFactory, ClientFactory, IntakeFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db

HEALTH_WORDS = ("pregnan", "due_date", "due date", "warfarin", "thrombosis", "herniated",
                "weeks", "it burns", "31 weeks", "cannot be screened")  # fmt: skip
NOTE = "it burns"
SUCCEEDS = {
    "client edit",
    "consent recorded",
    "visit in a year",
    "visit tomorrow",
    "visit moved",
    "mark called",
    "resend from visits",
    "cancel check-ins",
    "acknowledge",
}
REFUSED_ON_THE_FORM = {
    "client edit, bad email",
    "visit at a past date",
    "visit double booked",
    "visit moved to the past",
}
FORBIDDEN = {"client's health page", "screening report", "pain chart", "intake admin"}


@dataclass
class Person:
    client: object
    therapist: object
    visit: object
    done: object
    failed_checkin: object
    escalation: object
    hour: int


def _person(*, health: bool, first: str, last: str, hour: int) -> Person:
    therapist = UserFactory(username=f"t-{last.lower()}", groups=["therapist"])
    client = ClientFactory(first_name=first, last_name=last, email=f"{last.lower()}@example.com")
    today = timezone.localdate()
    if health:
        # Due in 300 days, recorded for a visit in 30: a visit booked tomorrow lies more than
        # 40 weeks before the due date, so its intake cannot be screened for it.
        intake = IntakeFactory(
            client=client,
            visit_date=today + datetime.timedelta(days=30),
            pregnant=True,
            pregnancy_due_date=today + datetime.timedelta(days=300),
            conditions=[{"code": "herniated_disc", "acute": False, "notes": "L4"}],
            medications=["warfarin 5 mg"],
            free_text="thrombosis last year",
        )
    else:
        intake = IntakeFactory(client=client)
    visit = VisitFactory(
        client=client,
        intake=intake,
        therapist=therapist,
        scheduled_at=timezone.now() + datetime.timedelta(days=40),
    )
    screen_visit(visit=visit)
    done = VisitFactory(
        client=client,
        intake=intake,
        therapist=therapist,
        status="completed",
        completed_at=timezone.now() - datetime.timedelta(days=3),
        performed_modality="swedish",
        status_reason="31 weeks pregnant, adapted" if health else "",
    )
    answered = CheckInFactory(visit=done, policy_hours=24, sent=True)
    CheckInAnswer.objects.create(
        checkin=answered,
        score=6 if health else 5,
        character="sharp" if health else "dull",
        radiating=health,
        red_flags=["numbness"] if health else [],
        note=NOTE if health else "",
    )
    answered.status = CheckInStatus.ANSWERED
    answered.save()
    failed = CheckInFactory(
        visit=done, policy_hours=48, status=CheckInStatus.FAILED, last_error="smtp: refused"
    )
    escalation = Escalation.objects.create(
        visit=done,
        level="review",
        reasons=[{"rule": "R1", "hours": 24}] if health else [{"rule": "R2", "hours": 24}],
        checkin=answered,
    )
    return Person(client, therapist, visit, done, failed, escalation, hour)


@pytest.fixture
def people(db):
    return (
        _person(health=True, first="Ana", last="Lopez", hour=10),
        _person(health=False, first="Bea", last="Marsh", hour=14),
    )


class Observer:
    """Collect what one request shows front desk, with names, numbers and dates taken out."""

    def __init__(self, web, caplog, person: Person) -> None:
        self.web, self.caplog, self.person = web, caplog, person

    def normalise(self, text: str) -> str:
        p = self.person
        for word in (p.client.first_name, p.client.last_name, p.therapist.username,
                     p.client.email):  # fmt: skip
            text = text.replace(word, "<name>")
        return re.sub(r"\d+", "#", text)

    def __call__(self, method: str, url: str, data: dict | None = None) -> dict:
        self.caplog.clear()
        # Redirects are followed, so the messages they carry are read on the page they lead to.
        send = self.web.get if method == "GET" else self.web.post
        response = send(url, data or {}, follow=True)
        form = response.context.get("adminform") if response.context else None
        errors = dict(form.form.errors) if form is not None else {}
        seen = {
            "status": response.status_code,
            "redirects": [(self.normalise(u), code) for u, code in response.redirect_chain],
            "messages": [self.normalise(str(m)) for m in get_messages(response.wsgi_request)],
            "errors": {k: [self.normalise(str(e)) for e in v] for k, v in errors.items()},
            "logs": sorted(
                f"{r.levelname} {r.name} {self.normalise(r.getMessage())}"
                for r in self.caplog.records
            ),
        }
        # The page itself may differ (the visit list's decision badge), but never by a word
        # of the health history.
        page = response.content.decode(errors="replace") if response.status_code == 200 else ""
        text = repr(seen).lower() + (self.caplog.text or "").lower() + page.lower()
        leaked = [w for w in HEALTH_WORDS if w in text]
        assert not leaked, f"{method} {url}: {leaked} shown to front desk"
        return seen


def _when(days: int, hour: int) -> dict:
    moment = timezone.localtime() + datetime.timedelta(days=days)
    return {
        "scheduled_at_0": moment.date().isoformat(),
        "scheduled_at_1": f"{hour:02d}:00",
    }


def _steps(p: Person) -> list[tuple[str, str, str, dict | None]]:
    """Every front-desk form and action, for one person: (step, method, url, data)."""
    client, visit = p.client, p.visit
    client_url = reverse("admin:intake_client_change", args=[client.pk])
    visit_add = reverse("admin:intake_visit_add")
    visit_url = reverse("admin:intake_visit_change", args=[visit.pk])
    plan = {"client": client.pk, "therapist": p.therapist.pk, "planned_modality": "swedish"}
    contact = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "date_of_birth": client.date_of_birth.isoformat(),
        "email": client.email,
        "phone": "+447911123456",
        "preferred_channel": client.preferred_channel,
    }

    def action(name: str, pks) -> dict:
        return {"action": name, "_selected_action": [str(pk) for pk in pks], "index": "0"}

    return [
        ("client list", "GET", reverse("admin:intake_client_changelist"), {"q": client.last_name}),
        ("client page", "GET", client_url, None),
        ("client history", "GET", reverse("admin:intake_client_history", args=[client.pk]), None),
        ("client edit", "POST", client_url, {**contact, "phone": "+447911123457"}),
        ("client edit, bad email", "POST", client_url, {**contact, "email": "not an email"}),
        ("consent page", "GET", reverse("admin:intake_client_consent", args=[client.pk]), None),
        (
            "consent recorded",
            "POST",
            reverse("admin:intake_client_consent", args=[client.pk]),
            {"given": "yes", "source": "phone", "confirm": "on"},
        ),
        ("visit list", "GET", reverse("admin:intake_visit_changelist"), {"q": client.last_name}),
        ("visit page", "GET", visit_url, None),
        ("visit history", "GET", reverse("admin:intake_visit_history", args=[visit.pk]), None),
        (
            "completed visit page",
            "GET",
            reverse("admin:intake_visit_change", args=[p.done.pk]),
            None,
        ),
        ("visit form", "GET", visit_add, None),
        # The 500 of the report: a past date, for a pregnant client.
        ("visit at a past date", "POST", visit_add, {**plan, **_when(-200, p.hour)}),
        ("visit in a year", "POST", visit_add, {**plan, **_when(365, p.hour)}),
        # Unscreenable for the pregnant client (its intake does not fit the date).
        ("visit tomorrow", "POST", visit_add, {**plan, **_when(1, p.hour)}),
        ("visit double booked", "POST", visit_add, {**plan, **_when(1, p.hour)}),
        ("visit moved", "POST", visit_url, {**plan, **_when(2, p.hour)}),
        ("visit moved to the past", "POST", visit_url, {**plan, **_when(-3, p.hour)}),
        (
            "mark called",
            "POST",
            reverse("admin:intake_visit_changelist"),
            action("mark_called", [p.done.pk]),
        ),
        (
            "resend from visits",
            "POST",
            reverse("admin:intake_visit_changelist"),
            action("resend_checkins", [p.done.pk]),
        ),
        (
            "check-in list",
            "GET",
            reverse("admin:followup_checkin_changelist"),
            {"q": client.last_name},
        ),
        (
            "check-in page",
            "GET",
            reverse("admin:followup_checkin_change", args=[p.failed_checkin.pk]),
            None,
        ),
        (
            "cancel check-ins",
            "POST",
            reverse("admin:followup_checkin_changelist"),
            action("cancel_followup", [p.failed_checkin.pk]),
        ),
        (
            "escalation list",
            "GET",
            reverse("admin:followup_escalation_changelist"),
            {"q": client.last_name},
        ),
        (
            "escalation page",
            "GET",
            reverse("admin:followup_escalation_change", args=[p.escalation.pk]),
            None,
        ),
        (
            "acknowledge",
            "POST",
            reverse("followup:escalation_acknowledge", args=[p.escalation.pk]),
            {"note": "called the client"},
        ),
        ("no-response list", "GET", reverse("followup:no_response"), None),
        ("no-response called", "POST", reverse("followup:mark_called", args=[p.done.pk]), None),
        # Pages front desk may not open: refused the same way for both.
        ("client's health page", "GET", reverse("intake:client_detail", args=[client.pk]), None),
        ("screening report", "GET", reverse("screening:report", args=[visit.pk]), None),
        ("pain chart", "GET", reverse("followup:pain_chart", args=[p.done.pk]), None),
        (
            "intake admin",
            "GET",
            reverse("admin:intake_intake_change", args=[visit.intake_id]),
            None,
        ),
        *_every_admin(p),
    ]


def _every_admin(p: Person) -> list[tuple[str, str, str, dict | None]]:
    """Each registered admin's list searched for the person, and the change and history
    pages of the person's object of that model where both people have one."""
    from django.contrib import admin

    objects = {
        "intake.Client": p.client,
        "intake.Visit": p.visit,
        "intake.Intake": p.visit.intake,
        "screening.Screening": p.visit.current_screening(),
        "followup.CheckIn": p.failed_checkin,
        "followup.CheckInAnswer": p.escalation.checkin.answer,
        "followup.Escalation": p.escalation,
    }
    steps = []
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        name = f"{opts.label} admin"
        steps.append((f"{name} list", "GET", reverse(f"{prefix}_changelist"),
                      {"q": p.client.last_name}))  # fmt: skip
        obj = objects.get(opts.label)
        if obj is not None:
            for page in ("change", "history"):
                url = reverse(f"{prefix}_{page}", args=[obj.pk])
                steps.append((f"{name} {page}", "GET", url, None))
    return steps


def test_front_desk_gets_the_same_answers_for_a_health_bearing_and_a_control_client(
    people, front_desk_client, caplog
):
    caplog.set_level(logging.DEBUG)
    health, control = people
    seen_health = Observer(front_desk_client, caplog, health)
    seen_control = Observer(front_desk_client, caplog, control)
    steps = list(zip(_steps(health), _steps(control), strict=True))
    for (name, method, url, data), (_, c_method, c_url, c_data) in steps:
        got = seen_health(method, url, data)
        expected = seen_control(c_method, c_url, c_data)
        assert got == expected, f"{name}: health-bearing {got} != control {expected}"
        # ... and each step did what it says, so the two were compared doing real work.
        if name in SUCCEEDS:
            assert got["redirects"] and not got["errors"], (name, got)
        if name in REFUSED_ON_THE_FORM:
            assert got["status"] == 200 and got["errors"], (name, got)
        if name in FORBIDDEN:
            assert got["status"] == 403, (name, got)
    # The steps did what they say, for both: the tomorrow visits are booked (one of them
    # unscreenable), the past ones refused.
    for person in people:
        booked = Visit.objects.filter(client=person.client).count()
        assert booked == 4  # the cast's two, a year ahead and tomorrow
    for person, unscreenable in ((health, 1), (control, 0)):
        unscreened = Visit.objects.filter(
            client=person.client, status="scheduled", screenings__isnull=True
        )
        assert unscreened.count() == unscreenable


def test_the_past_visit_for_a_pregnant_client_is_refused_on_the_form_not_with_an_error(
    people, front_desk_client, caplog
):
    """The report's 500: now the form's own error, and no error logged."""
    health, _ = people
    caplog.set_level(logging.DEBUG)
    response = front_desk_client.post(
        reverse("admin:intake_visit_add"),
        {
            "client": health.client.pk,
            "therapist": health.therapist.pk,
            "planned_modality": "swedish",
            **_when(-200, 10),
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"scheduled_at": ["The visit cannot be scheduled in the past."]}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
