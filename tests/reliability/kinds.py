"""Every kind of link message the fault tests send, kill and check: one entry per kind.

An entry says how to make due rows of the kind (committed, each for its own client), how to
find a link token in a message, and where the link's answer page is and what answering it
posts. The fault tests are parametrized over `KINDS`: a new kind of link message is one
`FaultKind` added here.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.test import Client as TestClient
from django.urls import reverse
from django.utils import timezone

from followup.models import CheckIn
from followup.sending import CHECKINS
from intake.linkmodels import IntakeLink
from intake.models import Client, Visit, VisitStatus
from intake.previsit_kind import INTAKE_LINKS
from messaging.kinds import LinkKind
from messaging.links import hash_token
from messaging.models import LinkMessage
from tests.factories import CheckInFactory, UserFactory
from tests.intake.previsit_support import fill, sign


@dataclass(frozen=True)
class FaultKind:
    kind: LinkKind
    # make_due(count, tag=..., channels=...) -> rows due now, each for a different client.
    make_due: Callable[..., list[LinkMessage]]
    # Finds the link token in a message (the answer link; other links of the kind too).
    token: re.Pattern
    answer_path: Callable[[str], str]
    answer_data: dict = field(default_factory=dict)
    # answer(http, token) -> the final response, for a kind answered over several pages;
    # None: one POST of `answer_data` to `answer_path`.
    answer: Callable[[TestClient, str], HttpResponse] | None = None
    answered_status: int = 200
    # What every copy's link shows once the row is answered: (status, words on the page).
    closed: tuple[int, str] = (404, "")

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def model(self) -> type[LinkMessage]:
        return self.kind.model

    def __str__(self) -> str:
        return self.name


def make_due_checkins(
    count: int, *, therapist=None, channels: tuple[str, ...] = ("email",), tag: str = "c"
) -> list[CheckIn]:
    """Create `count` completed visits of different clients, each with one due 24 h check-in."""
    now = timezone.now()
    therapist = therapist or UserFactory(username=f"therapist-{tag}", groups=["therapist"])
    clients = Client.objects.bulk_create(
        Client(
            first_name="Client",
            last_name=f"{tag.upper()}{i:04d}",
            date_of_birth=datetime.date(1980, 5, 1),
            email=f"{tag}{i:04d}@example.test",
            phone=f"+447911{i:06d}",
            preferred_channel="email",
            followup_consent=True,
            followup_consent_at=now,
            followup_consent_source="paper",
        )
        for i in range(count)
    )
    visits = Visit.objects.bulk_create(
        Visit(
            client=client,
            therapist=therapist,
            scheduled_at=now - datetime.timedelta(hours=2),
            planned_modality="swedish",
            status=VisitStatus.COMPLETED,
            performed_modality="swedish",
            completed_at=now - datetime.timedelta(hours=1),
            completed_by=therapist,
            baseline_pain=3,
        )
        for client in clients
    )
    return CheckIn.objects.bulk_create(
        CheckInFactory.build(
            visit=visit, due_at=now - datetime.timedelta(minutes=1), channels=list(channels)
        )
        for visit in visits
    )


CHECKIN = FaultKind(
    kind=CHECKINS,
    make_due=make_due_checkins,
    token=re.compile(r"/f/([A-Za-z0-9_-]{20,})/"),
    answer_path=lambda token: reverse("followup:answer", args=[token]),
    # Baseline pain 3, answered 3 and dull: nothing escalates.
    answer_data={"score": "3", "character": "dull", "radiating": "no", "note": ""},
    closed=(200, "Your answers reached us"),  # the confirmation, never the form again
)


def make_due_intake_links(
    count: int, *, therapist=None, channels: tuple[str, ...] = ("email",), tag: str = "i"
) -> list[IntakeLink]:
    """Create `count` visits tomorrow of different clients, each with a due health form link."""
    now = timezone.now()
    therapist = therapist or UserFactory(username=f"therapist-{tag}", groups=["therapist"])
    clients = Client.objects.bulk_create(
        Client(
            first_name="Client",
            last_name=f"{tag.upper()}{i:04d}",
            date_of_birth=datetime.date(1980, 5, 1),
            email=f"{tag}{i:04d}@example.test",
            phone=f"+447922{i:06d}",
            preferred_channel="email",
        )
        for i in range(count)
    )
    start = now + datetime.timedelta(days=1)
    visits = Visit.objects.bulk_create(
        Visit(
            client=client,
            therapist=therapist,
            scheduled_at=start + datetime.timedelta(hours=i),
            planned_modality="swedish",
        )
        for i, client in enumerate(clients)
    )
    return IntakeLink.objects.bulk_create(
        IntakeLink(
            visit=visit,
            due_at=now - datetime.timedelta(minutes=1),
            channels=list(channels),
            expires_at=visit.scheduled_at,
        )
        for visit in visits
    )


def answer_health_form(http: TestClient, token: str) -> HttpResponse:
    """The client's way through: date of birth, every step, then consent signed by name."""
    link = IntakeLink.objects.select_related("visit__client").get(token_hash=hash_token(token))
    fill(http, token)
    return sign(http, token, link.visit.client.full_name)


INTAKE_LINK = FaultKind(
    kind=INTAKE_LINKS,
    make_due=make_due_intake_links,
    token=re.compile(r"/i/([A-Za-z0-9_-]{20,})/"),
    answer_path=lambda token: reverse("intake:link", args=[token]),
    answer=answer_health_form,
    answered_status=302,  # on to the thank-you page
)

KINDS = [CHECKIN, INTAKE_LINK]
