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

from django.urls import reverse
from django.utils import timezone

from followup.models import CheckIn
from followup.sending import CHECKINS
from intake.models import Client, Visit, VisitStatus
from messaging.kinds import LinkKind
from messaging.models import LinkMessage
from tests.factories import CheckInFactory, UserFactory


@dataclass(frozen=True)
class FaultKind:
    kind: LinkKind
    # make_due(count, tag=..., channels=...) -> rows due now, each for a different client.
    make_due: Callable[..., list[LinkMessage]]
    # Finds the link token in a message (the answer link; other links of the kind too).
    token: re.Pattern
    answer_path: Callable[[str], str]
    answer_data: dict = field(default_factory=dict)

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
)

KINDS = [CHECKIN]
