"""The visit page's Complete form follows the screening: no blocked modality preselected, and
no Complete at all when massage is contraindicated (Postpone and Cancel remain)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from screening import services
from tests.factories import VisitFactory

pytestmark = pytest.mark.django_db


def visit_page(therapist_client, visit) -> str:
    return therapist_client.get(reverse("intake:visit_detail", args=[visit.pk])).content.decode()


def test_a_blocked_planned_modality_is_not_preselected(therapist_client, therapist):
    visit = VisitFactory(
        therapist=therapist, planned_modality="deep_tissue", intake__medications=["warfarin 5 mg"]
    )
    services.screen_visit(visit=visit)

    response = therapist_client.get(reverse("intake:visit_detail", args=[visit.pk]))

    assert response.context["complete_form"].initial["performed_modality"] == ""
    content = response.content.decode()
    performed = content[content.index('name="performed_modality"') :]
    performed = performed[: performed.index("</select>")]
    assert "selected" not in performed.replace('value="" selected', "")


def test_an_allowed_planned_modality_is_preselected(therapist_client, therapist):
    visit = VisitFactory(therapist=therapist, planned_modality="swedish")
    services.screen_visit(visit=visit)

    response = therapist_client.get(reverse("intake:visit_detail", args=[visit.pk]))

    assert response.context["complete_form"].initial["performed_modality"] == "swedish"


def test_a_contraindicated_visit_offers_postpone_and_cancel_but_not_complete(
    therapist_client, therapist
):
    visit = VisitFactory(
        therapist=therapist,
        intake__conditions=[{"code": "thrombosis", "acute": False, "notes": ""}],
    )
    assert services.screen_visit(visit=visit).decision == "contraindicated"

    content = visit_page(therapist_client, visit)

    assert ">Complete</button>" not in content
    assert reverse("intake:visit_complete", args=[visit.pk]) not in content
    assert "Postpone visit</button>" in content and "Cancel visit</button>" in content
    assert "it cannot be completed. Postpone or cancel it" in content
