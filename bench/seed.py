"""Bulk data for the bench database: staff, 10,000 clients with their history, check-ins.

Rows are made with bulk_create (no history rows, no signals): the point is a database the
size of a busy clinic's, fast. The rows themselves come from the real code: intakes through
the intake codec (Intake.from_data), screenings through the engine and the screening
service's screening_rows. Everything is seeded from fixed seeds, so runs compare.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from bench import vocab
from bench.intakes import generate
from clinical.intake import parse_intake
from followup.models import (
    CheckIn,
    CheckInAnswer,
    CheckInStatus,
    Escalation,
    EscalationLevel,
)
from intake.models import Client, Intake, Visit, VisitStatus
from messaging.links import hash_token
from screening.engine import screen
from screening.models import Screening, ScreeningFlag
from screening.services import screening_rows

PASSWORD = "bench-password-Zq8!xv"  # local bench accounts only, in a throwaway database
THERAPIST = "bench_therapist"
OWNER = "bench_owner"
BATCH = 2_000
OFFSETS = (24 * 3600, 48 * 3600, 72 * 3600)


@dataclass
class Cast:
    therapist: object
    owner: object
    colleagues: list = field(default_factory=list)


def staff() -> Cast:
    """Create the bench therapist (who logs in), two colleagues and a superuser."""
    User = get_user_model()
    # get_or_create: a test database flushed by an earlier transactional test has no groups.
    therapists, _ = Group.objects.get_or_create(name="therapist")
    therapist = User.objects.create_user(
        THERAPIST,
        f"{THERAPIST}@bench.test",
        PASSWORD,
        first_name="Bea",
        last_name="Bench",
        is_staff=True,
    )
    therapist.groups.add(therapists)
    colleagues = []
    for name in ("bench_colleague1", "bench_colleague2"):
        user = User.objects.create_user(name, f"{name}@bench.test", PASSWORD, is_staff=True)
        user.groups.add(therapists)
        colleagues.append(user)
    owner = User.objects.create_superuser(OWNER, f"{OWNER}@bench.test", PASSWORD)
    return Cast(therapist=therapist, owner=owner, colleagues=colleagues)


def _client(rng: random.Random, i: int) -> Client:
    first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
    return Client(
        first_name=first,
        last_name=f"{last}{i}",
        date_of_birth=dt.date(rng.randint(1945, 2005), rng.randint(1, 12), rng.randint(1, 28)),
        email=f"client{i}@bench.test",
        phone="+447700900123",
        preferred_channel="email",
        followup_consent=True,
        followup_consent_at=timezone.now(),
        followup_consent_source="paper",
    )


def clients(count: int, *, seed: int = 1) -> list[Client]:
    rng = random.Random(seed)
    made = [_client(rng, i) for i in range(count)]
    return Client.objects.bulk_create(made, batch_size=BATCH)


def _intake_for(client: Client, payload: dict, by) -> Intake:
    payload = dict(payload, date_of_birth=client.date_of_birth.isoformat())
    data = parse_intake(payload)
    return Intake.from_data(
        data,
        client=client,
        entered_by=by,
        signature_name=client.full_name,
        signed_at=timezone.now(),
    )


def clinic(cast: Cast, *, count: int = 10_000, today_visits: int = 15, seed: int = 2) -> dict:
    """Seed `count` clients, each with an intake, a screened visit and (if past) check-ins.

    The bench therapist gets `today_visits` visits today; one "regular" client has 12 visits
    and 6 intakes (the client page's long case); 2% of past visits have an open escalation.
    """
    rng = random.Random(seed)
    now = timezone.now()
    therapists = [cast.therapist, *cast.colleagues]
    made = clients(count, seed=seed)
    payloads = generate(count, seed=seed)
    intakes = Intake.objects.bulk_create(
        [_intake_for(c, p, cast.therapist) for c, p in zip(made, payloads, strict=True)],
        batch_size=BATCH,
    )
    regular = made[0]
    extra_intakes = Intake.objects.bulk_create(
        [_intake_for(regular, p, cast.therapist) for p in generate(5, seed=seed + 1)]
    )
    start_today = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(9)))
    visits = []
    for i, (client, intake) in enumerate(zip(made, intakes, strict=True)):
        if i < today_visits:
            when, therapist, status = (
                start_today + dt.timedelta(minutes=30 * i),
                cast.therapist,
                "s",
            )
        else:
            when = now - dt.timedelta(days=rng.randint(1, 90), minutes=rng.randint(0, 600))
            therapist, status = rng.choice(therapists), "c"
        visits.append(_visit(client, intake, therapist, when, status))
    for k in range(11):
        when = now - dt.timedelta(days=100 + 7 * k)
        visits.append(_visit(regular, extra_intakes[k % 5], cast.therapist, when, "c"))
    visits = Visit.objects.bulk_create(visits, batch_size=BATCH)
    _screenings(visits)
    completed = [v for v in visits if v.status == VisitStatus.COMPLETED]
    _history_checkins(rng, completed, now)
    return {"clients": made, "regular": regular, "visits": len(visits)}


def _visit(client, intake, therapist, when, status) -> Visit:
    done = status == "c"
    return Visit(
        client=client,
        therapist=therapist,
        scheduled_at=when,
        planned_modality=intake.planned_modality,
        focus_regions=list(intake.focus_regions),
        intake=intake,
        status=VisitStatus.COMPLETED if done else VisitStatus.SCHEDULED,
        performed_modality=intake.planned_modality if done else "",
        completed_at=when + dt.timedelta(hours=1) if done else None,
        completed_by=therapist if done else None,
        baseline_pain=intake.pain_score,
    )


def _screenings(visits: list[Visit]) -> None:
    """Screen every visit with the engine and store it as screen_visit does, in bulk."""
    rows = []
    for visit in visits:
        data = parse_intake(visit.screening_payload())
        rows.append(screening_rows(visit=visit, data=data, result=screen(data)))
    screenings = Screening.objects.bulk_create([s for s, _ in rows], batch_size=BATCH)
    flags = []
    for screening, (_, flags_of) in zip(screenings, rows, strict=True):
        for flag in flags_of:
            flag.screening = screening
            flags.append(flag)
    ScreeningFlag.objects.bulk_create(flags, batch_size=BATCH)


def _history_checkins(rng: random.Random, visits: list[Visit], now) -> None:
    """Give past visits their check-ins: mostly answered, some expired, a few escalated."""
    checkins = []
    for visit in visits:
        for position, offset in enumerate(OFFSETS):
            due = visit.completed_at + dt.timedelta(seconds=offset)
            answered = rng.random() < 0.7
            checkins.append(
                CheckIn(
                    visit=visit,
                    offset_seconds=offset,
                    policy_hours=24 * (position + 1),
                    due_at=due,
                    channels=["email"],
                    status=CheckInStatus.ANSWERED if answered else CheckInStatus.EXPIRED,
                    attempts=1,
                    sent_at=due,
                    expires_at=due + dt.timedelta(days=7),
                )
            )
    checkins = CheckIn.objects.bulk_create(checkins, batch_size=BATCH)
    answers = [
        CheckInAnswer(
            checkin=c,
            score=rng.randint(0, 5),
            character=rng.choice(["dull", "stiffness", "none"]),
            radiating=False,
            answered_at=c.due_at + dt.timedelta(hours=2),
        )
        for c in checkins
        if c.status == CheckInStatus.ANSWERED
    ]
    CheckInAnswer.objects.bulk_create(answers, batch_size=BATCH)
    escalations = [
        Escalation(
            visit_id=c.visit_id,
            level=EscalationLevel.REVIEW,
            reasons=[{"rule": "R2", "hours": 24}],
            checkin=c,
            opened_at=c.due_at + dt.timedelta(hours=2),
        )
        for c in checkins[:: 3 * 50]  # every 50th visit's first check-in
    ]
    Escalation.objects.bulk_create(escalations, batch_size=BATCH)


def scheduled_visits(cast: Cast, clients_: list[Client], *, days_ahead: int = 7) -> int:
    """Give each client a screened visit `days_ahead` days from now on their latest intake.

    A new intake moves a client's scheduled visits onto it and screens them again: with one
    such visit per client, the intake row measures that re-screening too.
    """
    when = timezone.now() + dt.timedelta(days=days_ahead)
    latest = {}
    for intake in Intake.objects.filter(client__in=clients_).order_by("created_at", "id"):
        latest[intake.client_id] = intake
    visits = [
        _visit(client, latest[client.pk], cast.therapist, when + dt.timedelta(minutes=i), "s")
        for i, client in enumerate(clients_)
        if client.pk in latest
    ]
    visits = Visit.objects.bulk_create(visits, batch_size=BATCH)
    _screenings(visits)
    return len(visits)


def _completed_visits(cast: Cast, clients_: list[Client], count: int, when) -> list[Visit]:
    visits = [
        Visit(
            client=clients_[i % len(clients_)],
            therapist=cast.therapist,
            scheduled_at=when,
            planned_modality="swedish",
            focus_regions=["neck"],
            status=VisitStatus.COMPLETED,
            performed_modality="swedish",
            completed_at=when + dt.timedelta(hours=1),
            completed_by=cast.therapist,
            baseline_pain=3,
        )
        for i in range(count)
    ]
    return Visit.objects.bulk_create(visits, batch_size=BATCH)


def sent_checkins(cast: Cast, clients_: list[Client], count: int) -> list[str]:
    """Create `count` sent, answerable check-ins and return their link tokens."""
    now = timezone.now()
    visits = _completed_visits(cast, clients_, -(-count // 3), now - dt.timedelta(days=1))
    tokens, checkins = [], []
    for n in range(count):
        visit, position = visits[n // 3], n % 3
        token = secrets.token_urlsafe(32)
        tokens.append(token)
        checkins.append(
            CheckIn(
                visit=visit,
                offset_seconds=OFFSETS[position],
                policy_hours=24 * (position + 1),
                due_at=now - dt.timedelta(hours=1),
                channels=["email"],
                status=CheckInStatus.SENT,
                attempts=1,
                sent_at=now - dt.timedelta(hours=1),
                token_hash=hash_token(token),
                expires_at=now + dt.timedelta(days=7),
            )
        )
    CheckIn.objects.bulk_create(checkins, batch_size=BATCH)
    return tokens


def due_checkins(cast: Cast, clients_: list[Client], count: int) -> tuple[int, int]:
    """Create `count` check-ins due five minutes ago; return their (first id, last id)."""
    now = timezone.now()
    visits = _completed_visits(cast, clients_, -(-count // 3), now - dt.timedelta(hours=25))
    checkins = [
        CheckIn(
            visit=visits[n // 3],
            offset_seconds=OFFSETS[n % 3],
            policy_hours=24 * (n % 3 + 1),
            due_at=now - dt.timedelta(minutes=5),
            channels=["email"],
        )
        for n in range(count)
    ]
    made = CheckIn.objects.bulk_create(checkins, batch_size=BATCH)
    ids = [c.pk for c in made]
    return min(ids), max(ids)
