"""The read log and the change history cover every health record."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intake.models import HealthRecordAccess

pytestmark = pytest.mark.django_db

# Every page that shows a client's health history, and what its access row says it was.
HEALTH_PAGES = {
    "client page": ("intake:client_detail", {"client_id": "client"}),
    "intake": ("intake:intake_detail", {"intake_id": "intake"}),
    "intake changes": ("intake:intake_diff", {"intake_id": "intake"}),
    "intake form (previous intake)": ("intake:intake_create", {"client_id": "client"}),
    "visit": ("intake:visit_detail", {"visit_id": "visit"}),
    "screening report": ("screening:report", {"visit_id": "visit"}),
    "clearances": ("screening:client_clearance_add", {"client_id": "client"}),
    "clearance document": ("screening:clearance_document", {"clearance_id": "clearance"}),
    "follow-up pain chart": ("followup:pain_chart", {"pk": "done_visit"}),
}


def _url(world, page: str) -> str:
    name, spec = HEALTH_PAGES[page]
    return reverse(name, kwargs={k: getattr(world, v).pk for k, v in spec.items()})


@pytest.mark.parametrize("page", sorted(HEALTH_PAGES))
def test_a_therapist_opening_a_health_page_writes_one_access_row(page, world, browsers, therapist):
    HealthRecordAccess.objects.all().delete()
    url = _url(world, page)
    response = browsers("therapist").get(url)
    assert response.status_code == 200
    row = HealthRecordAccess.objects.get()
    assert (row.user, row.client, row.path) == (therapist, world.client, url)
    assert row.what == page


@pytest.mark.parametrize("page", sorted(HEALTH_PAGES))
def test_front_desk_cannot_open_a_health_page_and_no_access_is_logged(page, world, browsers):
    HealthRecordAccess.objects.all().delete()
    response = browsers("front_desk").get(_url(world, page))
    assert response.status_code in (403, 404)
    assert not HealthRecordAccess.objects.exists()


def test_the_access_row_keeps_the_path_without_the_query_string(world, browsers):
    HealthRecordAccess.objects.all().delete()
    url = _url(world, "client page")
    browsers("therapist").get(url, {"q": "Ana Lopez"})
    assert HealthRecordAccess.objects.get().path == url


def test_changes_to_clients_intakes_and_visits_are_in_the_history_with_the_user(
    world, browsers, therapist, front_desk
):
    from intake.models import Intake, Visit

    person = world.client
    data = {
        "first_name": "Ana",
        "last_name": "Lopez-Garcia",
        "date_of_birth": person.date_of_birth.isoformat(),
        "email": person.email,
        "phone": str(person.phone),
        "preferred_channel": person.preferred_channel,
        "followup_consent": "on",
        "opted_out_at_0": "",
        "opted_out_at_1": "",
    }
    response = browsers("front_desk").post(
        reverse("admin:intake_client_change", args=[person.pk]), data
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    change = person.history.latest()
    assert (change.history_type, change.history_user, change.last_name) == (
        "~",
        front_desk,
        "Lopez-Garcia",
    )

    web = browsers("therapist")
    response = web.post(
        reverse("intake:intake_create", args=[person.pk]),
        {
            "visit_date": world.intake.visit_date.isoformat(),
            "planned_modality": "swedish",
            "pain_score": "2",
            "consent": "on",
            "signature_name": "Ana Lopez-Garcia",
        },
    )
    assert response.status_code == 302
    intake = Intake.objects.latest("id")
    created = intake.history.get()
    assert (created.history_type, created.history_user) == ("+", therapist)
    # The scheduled visit moved onto the new intake: recorded, with who did it.
    moved = Visit.history.filter(id=world.visit.pk).latest()
    assert (moved.history_user, moved.intake_id) == (therapist, intake.pk)

    response = web.post(
        reverse("intake:visit_cancel", args=[world.visit.pk]), {"cancel-reason": "client ill"}
    )
    assert response.status_code == 302
    cancelled = Visit.history.filter(id=world.visit.pk).latest()
    assert (cancelled.history_user, cancelled.status) == (therapist, "cancelled")
