"""Lay out the demo for `make run`: staff logins, clients at every screening level with a
visit today, one visit two days ago whose check-ins were answered and escalated, and a new
client booked tomorrow whose health form link was sent.

Run on every `make run`. Demo records are recognised by the demo's own addresses: clients by
the email addresses listed below, staff by username together with the demo email
(`therapist@clinic.example`...). When the demo was laid out on an earlier day (or is
incomplete), its clients and everything recorded about them (intakes, visits, screenings,
check-ins, escalations, read-log rows, outbox messages to their addresses) are deleted and
laid out again for today. Records of any other client, and the staff logins, are never
touched. `--refresh` lays the demo out again even if it is already today's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.utils import timezone

from clinical.intake import parse_intake
from followup.answers import record_answer
from followup.models import CheckInStatus
from followup.sending import CHECKINS
from intake.linkmodels import IntakeLinkPurpose
from intake.models import Channel, Client
from intake.previsit_kind import INTAKE_LINKS
from intake.services import intake_record, visit_complete, visit_schedule
from messaging.models import LinkStatus, OutboxMessage
from messaging.sending import send_batch

DEMO_LOGINS = [
    # (username, password, group or None for the owner, first name, last name); each demo
    # login's email is `<username>@clinic.example`.
    ("therapist", "demo-therapist-2026", "therapist", "Tess", "Morgan"),
    ("frontdesk", "demo-frontdesk-2026", "front_desk", "Frank", "Hale"),
    ("owner", "demo-owner-2026", None, "Olivia", "Grant"),
]

DEMO_STAFF_DOMAIN = "clinic.example"
# Today's visits, clinic time, one per demo client in order.
VISIT_TIMES = [
    dt.time(9, 0),
    dt.time(10, 30),
    dt.time(12, 0),
    dt.time(14, 0),
    dt.time(15, 30),
    dt.time(17, 0),
]

# Each demo client lands on a different screening decision.
DEMO_CLIENTS = [
    {
        "name": ("Amira", "Haddad"),
        "email": "amira.haddad@example.com",
        "phone": "+447400123141",
        "dob": "1991-03-14",
        "expect": "contraindicated",
        "modality": "swedish",
        "regions": ["back", "shoulders"],
        "intake": {
            "pregnancy": {"pregnant": True, "due_date": None, "weeks": 31},
            "current_pain": {
                "score": 4,
                "regions": ["lumbar"],
                "character": "dull",
                "radiating": False,
            },
            "free_text": "Lower back aches in the evening.",
        },
    },
    {
        "name": ("Daniel", "Okafor"),
        "email": "daniel.okafor@example.com",
        "phone": "+447400123148",
        "dob": "1968-09-02",
        "expect": "clearance",
        "modality": "deep_tissue",
        "regions": ["lumbar"],
        "intake": {
            "conditions": [{"code": "herniated_disc", "acute": False, "notes": "L4-L5, 2023"}],
            "medications": ["ibuprofen as needed"],
            "current_pain": {
                "score": 3,
                "regions": ["lumbar"],
                "character": "stiffness",
                "radiating": False,
            },
        },
    },
    {
        "name": ("Grace", "Lindqvist"),
        "email": "grace.lindqvist@example.com",
        "phone": "+447400123144",
        "dob": "1979-06-21",
        "expect": "local",
        "modality": "swedish",
        "regions": ["back", "legs"],
        "intake": {
            "conditions": [
                {"code": "hip_joint_injury", "acute": False, "notes": "Fell skiing last winter"}
            ],
            "current_pain": {
                "score": 2,
                "regions": ["hips"],
                "character": "dull",
                "radiating": False,
            },
        },
    },
    {
        "name": ("Zoë", "Martín"),
        "email": "zoe.martin@example.com",
        "phone": "+447400123127",
        "dob": "1957-11-30",
        "expect": "modify",
        "modality": "deep_tissue",
        "regions": ["back", "neck"],
        "intake": {
            "conditions": [{"code": "osteoporosis", "acute": False, "notes": ""}],
            "current_pain": {
                "score": 3,
                "regions": ["neck"],
                "character": "stiffness",
                "radiating": False,
            },
            "allergies": ["penicillin"],
        },
    },
    {
        "name": ("Sam", "Whitfield"),
        "email": "sam.whitfield@example.com",
        "phone": "+447400123130",
        "dob": "1995-01-08",
        "expect": "clear",
        "modality": "sports",
        "regions": ["legs", "shoulders"],
        "intake": {
            "current_pain": {
                "score": 2,
                "regions": ["legs"],
                "character": "stiffness",
                "radiating": False,
            },
            "free_text": "Training for a half marathon.",
        },
    },
    {
        # Something the screener does not understand (no rule covers epilepsy): the report
        # asks the therapist to resolve it; the mother's osteoporosis is mentioned, not counted.
        "name": ("Noah", "Brennan"),
        "email": "noah.brennan@example.com",
        "phone": "+447400123131",
        "dob": "1983-07-09",
        "expect": "review",
        "modality": "swedish",
        "regions": ["shoulders", "neck"],
        "intake": {
            "conditions": [
                {"code": "epilepsy", "acute": False, "notes": "well controlled, last seizure 2019"}
            ],
            "medications": ["Keppra 500 mg twice a day"],
            "free_text": "Mum had osteoporosis. Stiff neck from the desk.",
        },
    },
]


# Completed two days ago; the answers to its check-ins got worse and were escalated.
ESCALATED_CLIENT = {
    "name": ("Priya", "Raman"),
    "email": "priya.raman@example.com",
    "phone": "+447400123140",
    "dob": "1986-04-19",
    "modality": "deep_tissue",
    "regions": ["back", "shoulders"],
    "intake": {
        "current_pain": {
            "score": 2,
            "regions": ["upper_back"],
            "character": "stiffness",
            "radiating": False,
        },
        "free_text": "Desk job, tight shoulders.",
    },
}
# A new client booked tomorrow: their health form link is in the development outbox, to
# fill in as the client would (date of birth 1990-06-21).
FORM_CLIENT = {
    "name": ("Lena", "Fischer"),
    "email": "lena.fischer@example.com",
    "phone": "+447400123142",
    "dob": "1990-06-21",
}
DEMO_EMAILS = [spec["email"] for spec in [*DEMO_CLIENTS, ESCALATED_CLIENT, FORM_CLIENT]]
DEMO_PHONES = [spec["phone"] for spec in [*DEMO_CLIENTS, ESCALATED_CLIENT, FORM_CLIENT]]


class Command(BaseCommand):
    help = "Lay out the demo (logins, clients, today's visits, an escalation) for today."

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh", action="store_true", help="lay the demo out again even if it is today's"
        )

    def handle(self, *args, refresh: bool, **options):
        today = timezone.localdate()
        with transaction.atomic():
            users = self._demo_users()
            demo_clients = Client.objects.filter(email__in=DEMO_EMAILS)
            laid_out = {timezone.localdate(c.created_at) for c in demo_clients}
            if not refresh and laid_out == {today} and len(demo_clients) == len(DEMO_EMAILS):
                self.stdout.write(f"Demo data is already laid out for today ({today}).")
            else:
                _delete_with_dependents(demo_clients)
                OutboxMessage.objects.filter(to__in=[*DEMO_EMAILS, *DEMO_PHONES]).delete()
                self._create_clients(users["therapist"])
                self.stdout.write(
                    self.style.SUCCESS(f"Demo data laid out for today ({today}).")
                    + " Records of other clients are untouched."
                )
        self.stdout.write(f"Demo logins ({settings.SITE_URL}/accounts/login/):")
        for username, password, group, *_ in DEMO_LOGINS:
            role = (group or "owner (superuser)").replace("_", " ")
            self.stdout.write(f"  {role:<20} {username} / {password}")

    def _demo_users(self) -> dict:
        """Return the demo logins by role, creating those that are missing."""
        User = get_user_model()
        users = {}
        for username, password, group, first, last in DEMO_LOGINS:
            email = f"{username}@{DEMO_STAFF_DOMAIN}"
            user = User.objects.filter(username=username).first()
            if user is not None and user.email != email:
                raise CommandError(
                    f"a user named {username!r} exists and is not the demo's (its email is not "
                    f"{email}); the demo needs that username: use a fresh database (make clean)"
                )
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=email,
                    is_staff=True,
                    is_superuser=group is None,
                )
                user.set_password(password)
                user.save()
                if group:
                    user.groups.add(Group.objects.get(name=group))
            users[group or "owner"] = user
        return users

    def _create_clients(self, therapist) -> None:
        today = timezone.localdate()
        for at, spec in zip(VISIT_TIMES, DEMO_CLIENTS, strict=True):
            client = self._client(spec)
            self._intake(client, spec, therapist, today)
            visit_schedule(
                client=client,
                therapist=therapist,
                scheduled_at=timezone.make_aware(dt.datetime.combine(today, at)),
                planned_modality=spec["modality"],
                focus_regions=spec["regions"],
                by=therapist,
            )
        self._completed_visit_with_escalation(therapist, today - dt.timedelta(days=2))
        self._visit_with_health_form_link(therapist, today + dt.timedelta(days=1))

    def _client(self, spec: dict) -> Client:
        first, last = spec["name"]
        return Client.objects.create(
            first_name=first,
            last_name=last,
            date_of_birth=dt.date.fromisoformat(spec["dob"]),
            email=spec["email"],
            phone=spec["phone"],
            preferred_channel=Channel.BOTH,
            followup_consent=True,
            followup_consent_at=timezone.now(),
            followup_consent_source="paper",
        )

    def _intake(self, client: Client, spec: dict, therapist, visit_day: dt.date):
        payload = {
            "date_of_birth": spec["dob"],
            "visit_date": visit_day.isoformat(),
            "planned_modality": spec["modality"],
            "focus_regions": spec["regions"],
            **spec["intake"],
        }
        return intake_record(
            client=client,
            data=parse_intake(payload),
            by=therapist,
            ip="127.0.0.1",
            signature_name=client.full_name,
        )

    def _completed_visit_with_escalation(self, therapist, day: dt.date) -> None:
        """Complete a visit on `day`, send its check-ins, and answer two (worsening)."""
        spec = ESCALATED_CLIENT
        client = self._client(spec)
        started = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
        self._intake(client, spec, therapist, day)
        visit = visit_schedule(
            client=client,
            therapist=therapist,
            scheduled_at=started,
            planned_modality=spec["modality"],
            focus_regions=spec["regions"],
            by=therapist,
        )
        visit = visit_complete(
            visit=visit,
            by=therapist,
            modality="deep_tissue",
            completed_at=started + dt.timedelta(hours=1),
        )
        # Sent at once rather than when due, so the demo shows answers: claimed as the tick
        # would claim them, then sent as its task would.
        checkins = visit.checkins.all()
        checkins.update(status=CheckInStatus.SENDING, claimed_at=timezone.now())
        send_batch(kind=CHECKINS, ids=list(checkins.values_list("pk", flat=True)))
        first, second = visit.checkins.order_by("offset_seconds")[:2]
        record_answer(
            checkin=first,
            score=4,
            character="stiffness",
            radiating=False,
            red_flags=[],
            note="Sore but fine.",
        )
        record_answer(
            checkin=second,
            score=7,
            character="sharp",
            radiating=False,
            red_flags=[],
            note="Worse today, sharp when I turn.",
        )

    def _visit_with_health_form_link(self, therapist, day: dt.date) -> None:
        """Book a new client on `day` and send their health form link now (to the outbox)."""
        client = self._client(FORM_CLIENT)
        visit = visit_schedule(
            client=client,
            therapist=therapist,
            scheduled_at=timezone.make_aware(dt.datetime.combine(day, dt.time(11, 0))),
            planned_modality="swedish",
            focus_regions=["neck", "shoulders"],
            by=therapist,
        )
        # Sent at once rather than when due, claimed as the tick would claim it.
        links = visit.intake_links.filter(purpose=IntakeLinkPurpose.INVITE)
        links.update(status=LinkStatus.SENDING, claimed_at=timezone.now(), due_at=timezone.now())
        send_batch(kind=INTAKE_LINKS, ids=list(links.values_list("pk", flat=True)))


def _delete_with_dependents(rows: QuerySet) -> None:
    """Delete `rows` and every row that refers to them, including through PROTECT.

    The demo's clients are referred to by intakes, visits, screenings, escalations, read-log
    rows and whatever later models add; the models protect those links against accidental
    deletion, so the rows in the way are deleted first (they belong to the same clients).
    """
    while True:
        try:
            with transaction.atomic():
                rows.delete()
            return
        except (ProtectedError, RestrictedError) as exc:
            blocking = getattr(exc, "protected_objects", None) or exc.restricted_objects
            by_model = defaultdict(set)
            for obj in blocking:
                by_model[type(obj)].add(obj.pk)
            for model, pks in by_model.items():
                _delete_with_dependents(model._base_manager.filter(pk__in=pks))
