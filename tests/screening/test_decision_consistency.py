"""Every screen that shows a screening decision shows the same one, with the same restrictions.

One restriction policy (screening.engine.restrictions) decides the decision, the blocked
modalities and the regions to avoid; the day list, the client page, the visit page, the
screening report and the admin's visit list all show its result. These tests render each of
them for a visit at every decision level, and after a therapist dismisses a free-text flag.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from clinical import vocabulary
from intake import services as intake_services
from screening import actions, services
from screening.models import ScreeningFlag
from tests.factories import ClientFactory, IntakeFactory, UserFactory

# One real intake per decision level (the engine decides; nothing here is hand-written).
INTAKES = {
    "contraindicated": {"pregnant": True, "pregnancy_weeks": 31},
    "clearance": {"medications": ["warfarin 5 mg"]},
    "review": {"conditions": [{"code": "epilepsy", "acute": False, "notes": ""}]},
    "local": {"conditions": [{"code": "hip_joint_injury", "acute": False, "notes": ""}]},
    "modify": {"conditions": [{"code": "osteoporosis", "acute": False, "notes": ""}]},
    "clear": {},
}
BADGE = re.compile(r'class="badge decision-badge decision-([a-z]+)"')
BANNER = re.compile(r'class="decision-banner decision-([a-z]+)"')


@pytest.fixture
def superuser_therapist(db):
    return UserFactory(username="lead", is_superuser=True, groups=["therapist"])


def _visit(therapist, **intake_fields):
    client = ClientFactory()
    IntakeFactory(client=client, entered_by=therapist, **intake_fields)
    return intake_services.visit_schedule(
        client=client,
        therapist=therapist,
        scheduled_at=timezone.now() + timezone.timedelta(minutes=5),
        planned_modality="deep_tissue",
        focus_regions=["lumbar"],
        by=therapist,
    )


def _badges(html: str) -> set[str]:
    return set(BADGE.findall(html))


def _listed(html: str, heading: str) -> list[str]:
    """Return the labels after `heading` ("Do not use:", "Avoid:") on the visit page."""
    match = re.search(rf"{heading}\s*([^<]*)</p>", html)
    return sorted(part.strip() for part in match.group(1).split(",")) if match else []


def _pages(client, visit) -> dict[str, str]:
    pages = {
        "day list": client.get(reverse("intake:today"), {"all": "1"}),
        "client page": client.get(reverse("intake:client_detail", args=[visit.client_id])),
        "visit page": client.get(reverse("intake:visit_detail", args=[visit.pk])),
        "screening report": client.get(reverse("screening:report", args=[visit.pk])),
        "admin visit list": client.get(reverse("admin:intake_visit_changelist")),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
    return {name: response.content.decode() for name, response in pages.items()}


def _assert_agree(client, visit, expected: str) -> None:
    pages = _pages(client, visit)
    for name, html in pages.items():
        if name == "screening report":
            assert BANNER.findall(html) == [expected], name
        else:
            assert _badges(html) == {expected}, name
    effective = services.restrictions(visit.current_screening())
    assert effective.decision == expected
    blocked = sorted(vocabulary.label("modality", m) for m in effective.blocked_modalities)
    avoid = sorted(vocabulary.label("region", r) for r in effective.avoid_regions)
    assert _listed(pages["visit page"], "Do not use:") == blocked
    assert _listed(pages["visit page"], "Avoid:") == avoid
    for label in blocked:
        assert label in pages["screening report"]


@pytest.mark.parametrize("level", list(INTAKES))
def test_badge_banner_and_restrictions_agree_on_every_screen(client, superuser_therapist, level):
    visit = _visit(superuser_therapist, **INTAKES[level])
    client.force_login(superuser_therapist)
    _assert_agree(client, visit, level)


def test_every_decision_level_is_covered():
    assert set(INTAKES) == set(vocabulary.SEVERITY_ORDER)


def test_resolving_the_only_review_item_clears_every_screen(client, superuser_therapist):
    visit = _visit(superuser_therapist, **INTAKES["review"])
    item = ScreeningFlag.objects.get(screening=visit.current_screening(), code="unrecognised")
    client.force_login(superuser_therapist)
    _assert_agree(client, visit, "review")

    actions.review_resolve(
        flag=item, by=superuser_therapist, resolution="not_relevant", reason="Seizure-free."
    )

    _assert_agree(client, visit, "clear")


def test_resolving_a_review_item_as_a_rule_applies_that_rule_on_every_screen(
    client, superuser_therapist
):
    visit = _visit(superuser_therapist, **INTAKES["review"])
    item = ScreeningFlag.objects.get(screening=visit.current_screening(), code="unrecognised")
    client.force_login(superuser_therapist)

    actions.review_resolve(
        flag=item, by=superuser_therapist, resolution="rule", rule_code="osteoporosis"
    )

    _assert_agree(client, visit, "modify")
    assert "deep_tissue" in services.restrictions(visit.current_screening()).blocked_modalities


def test_dismissing_the_only_free_text_flag_clears_every_screen(client, superuser_therapist):
    # The bug: after the only (free-text) flag was dismissed, the visit page said "Clear"
    # beside "Do not use: deep_tissue" while the report blocked nothing.
    visit = _visit(superuser_therapist, free_text="My GP says I have osteoporosis.")
    screening = visit.current_screening()
    flag = ScreeningFlag.objects.get(screening=screening)
    assert flag.free_text_only and screening.decision == "modify"
    client.force_login(superuser_therapist)
    _assert_agree(client, visit, "modify")

    actions.flag_dismiss(flag=flag, by=superuser_therapist, reason="Family history, not hers.")

    _assert_agree(client, visit, "clear")
    page = client.get(reverse("intake:visit_detail", args=[visit.pk])).content.decode()
    assert "Do not use:" not in page
