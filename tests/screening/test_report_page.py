"""The screening report finds its way back (to the visit and the client), offers the
clearance form only when the screening calls for a clearance (with only those rules), and
lists a posted form's errors at the top of the page, each linked to its field."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from screening import services
from screening.models import Clearance
from tests.factories import VisitFactory

pytestmark = pytest.mark.django_db

CLEARANCE_FORM = "Record a physician's clearance"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _screened(therapist, **intake):
    visit = VisitFactory(therapist=therapist, **{f"intake__{k}": v for k, v in intake.items()})
    services.screen_visit(visit=visit)
    return visit


def _page(client, visit) -> str:
    response = client.get(reverse("screening:report", args=[visit.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_report_links_back_to_the_visit_and_the_client(therapist_client, therapist):
    visit = _screened(therapist)
    page = _page(therapist_client, visit)
    assert f'href="{reverse("intake:visit_detail", args=[visit.pk])}"' in page
    assert f'href="{reverse("intake:client_detail", args=[visit.client_id])}"' in page


@pytest.mark.parametrize(
    "intake",
    [
        {},  # clear
        {"pregnancy_weeks": 32, "pregnant": True, "red_flags": ["numbness"]},  # contraindicated
        {"conditions": [{"code": "osteoporosis", "acute": False, "notes": ""}]},
    ],
    ids=["clear", "contraindicated", "modify"],
)
def test_no_clearance_form_where_no_clearance_is_called_for(therapist_client, therapist, intake):
    visit = _screened(therapist, **intake)
    page = _page(therapist_client, visit)
    assert CLEARANCE_FORM not in page
    assert reverse("screening:visit_clearance_add", args=[visit.pk]) not in page


def test_the_clearance_form_lists_only_the_rules_that_need_clearance(therapist_client, therapist):
    visit = _screened(therapist, medications=["warfarin 5 mg"])
    page = _page(therapist_client, visit)
    assert CLEARANCE_FORM in page
    offered = re.findall(r'name="codes" value="([^"]+)"', page)
    assert offered == ["blood_thinners"]


def test_a_clearance_posted_where_none_is_called_for_is_refused(therapist_client, therapist):
    visit = _screened(therapist)
    today = timezone.localdate()
    response = therapist_client.post(
        reverse("screening:visit_clearance_add", args=[visit.pk]),
        {
            "doctor_name": "Dr Ada Okafor",
            "issued_on": today.isoformat(),
            "expires_on": (today + datetime.timedelta(days=30)).isoformat(),
            "codes": ["blood_thinners"],
        },
    )
    assert response.status_code == 400
    assert "calls for no physician's clearance" in html.unescape(response.content.decode())
    assert not Clearance.objects.exists()


def test_form_errors_are_listed_at_the_top_with_links_to_their_fields(therapist_client, therapist):
    visit = _screened(therapist, medications=["warfarin 5 mg"])
    response = therapist_client.post(
        reverse("screening:visit_clearance_add", args=[visit.pk]), {"doctor_name": ""}
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    summary = page[page.index('id="form-errors"') : page.index("</div>", page.index("form-errors"))]
    assert page.index('id="form-errors"') < page.index('class="decision-banner')
    assert "autofocus" in page[: page.index('id="form-errors"') + 200]
    for field, words in (
        ("id_clearance_doctor_name", "Clearance, doctor: This field is required."),
        ("id_clearance_issued_on", "Clearance, date of issue: This field is required."),
        ("id_clearance_codes_0", "Clearance, rules it covers: Choose at least one rule"),
    ):
        assert f'href="#{field}"' in summary
        assert words in summary
        assert f'id="{field}"' in page  # the link leads somewhere
    # ... and beside the fields, as before.
    assert page.count("This field is required.") >= 2 * 2
