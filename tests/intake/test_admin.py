from __future__ import annotations

import pytest
from django.urls import reverse

from followup.models import CheckIn
from intake.models import Client, HealthRecordAccess, Visit
from tests.factories import (
    CheckInFactory,
    ClientFactory,
    EscalationFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

SECRET_CONDITION = "thrombosis"


@pytest.fixture
def screened_visit(therapist):
    from screening.services import screen_visit

    visit = VisitFactory(
        therapist=therapist,
        baseline_pain=7,
        focus_regions=["lumbar"],
        intake__conditions=[{"code": SECRET_CONDITION, "acute": False, "notes": "left calf"}],
        intake__medications=["warfarin 5 mg"],
    )
    screen_visit(visit=visit)
    return visit


def test_front_desk_sees_the_decision_level_on_the_visit_list(front_desk_client, screened_visit):
    response = front_desk_client.get(reverse("admin:intake_visit_changelist"))
    body = response.content.decode()
    assert response.status_code == 200
    assert screened_visit.client.last_name in body
    assert "Contraindicated" in body
    assert SECRET_CONDITION not in body.lower()
    assert "warfarin" not in body


def test_front_desk_visit_page_hides_health_fields(front_desk_client, screened_visit):
    response = front_desk_client.get(reverse("admin:intake_visit_change", args=[screened_visit.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    form_fields = set(response.context["adminform"].form.fields)
    assert not form_fields & {"intake", "baseline_pain", "focus_regions", "status_reason"}
    for hidden in ("Baseline pain", "Intake #", "lumbar", "warfarin", SECRET_CONDITION):
        assert hidden not in body


def test_therapists_see_health_fields_in_the_visit_admin(therapist, client, screened_visit):
    client.force_login(therapist)
    response = client.get(reverse("admin:intake_visit_change", args=[screened_visit.pk]))
    assert "Baseline pain" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:intake_intake_changelist"),
        reverse("admin:intake_healthrecordaccess_changelist"),
        reverse("admin:intake_intake_add"),
    ],
)
def test_front_desk_cannot_open_health_history_admin(front_desk_client, url):
    assert front_desk_client.get(url).status_code == 403


def test_front_desk_cannot_open_one_intake(front_desk_client, screened_visit):
    url = reverse("admin:intake_intake_change", args=[screened_visit.intake_id])
    assert front_desk_client.get(url).status_code == 403


def test_the_admin_index_does_not_list_intakes_for_front_desk(front_desk_client):
    body = front_desk_client.get(reverse("admin:index")).content.decode()
    assert "Visits" in body
    assert "Intakes" not in body
    assert "Health record accesses" not in body


def test_front_desk_client_page_shows_contact_data_only(front_desk_client, screened_visit):
    response = front_desk_client.get(
        reverse("admin:intake_client_change", args=[screened_visit.client_id])
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.fields) <= {
        "first_name",
        "last_name",
        "date_of_birth",
        "email",
        "phone",
        "preferred_channel",
        "followup_consent",
        "opted_out_at",
    }
    assert "warfarin" not in response.content.decode()


def test_therapists_may_read_intakes_in_the_admin_but_not_change_them(
    therapist, client, screened_visit
):
    client.force_login(therapist)
    url = reverse("admin:intake_intake_change", args=[screened_visit.intake_id])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert client.get(reverse("admin:intake_intake_add")).status_code == 403


def test_only_superusers_read_the_access_log(therapist, superuser, client):
    HealthRecordAccess.objects.create(user=therapist, client=ClientFactory(), what="client page")
    client.force_login(therapist)
    assert client.get(reverse("admin:intake_healthrecordaccess_changelist")).status_code == 403
    client.force_login(superuser)
    response = client.get(reverse("admin:intake_healthrecordaccess_changelist"))
    assert response.status_code == 200
    assert "client page" in response.content.decode()
    assert client.get(reverse("admin:intake_healthrecordaccess_add")).status_code == 403


def test_front_desk_can_book_a_visit_which_is_screened(front_desk_client, therapist):
    from tests.factories import IntakeFactory

    intake = IntakeFactory()
    response = front_desk_client.post(
        reverse("admin:intake_visit_add"),
        {
            "client": intake.client.pk,
            "therapist": therapist.pk,
            "scheduled_at_0": "2030-01-02",
            "scheduled_at_1": "10:00",
            "planned_modality": "swedish",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    visit = Visit.objects.get()
    assert visit.intake == intake
    assert visit.screenings.count() == 1


def test_the_visit_changelist_query_count_does_not_grow(
    front_desk_client, django_assert_max_num_queries
):
    therapist = UserFactory(groups=["therapist"])
    for _ in range(10):
        VisitFactory(therapist=therapist)
    with django_assert_max_num_queries(20):
        response = front_desk_client.get(reverse("admin:intake_visit_changelist"))
    assert response.status_code == 200


def test_front_desk_can_mark_a_non_responder_called(front_desk_client, therapist):
    from django.utils import timezone

    visit = VisitFactory(
        therapist=therapist,
        status="completed",
        performed_modality="swedish",
        completed_at=timezone.now(),
    )
    response = front_desk_client.post(
        reverse("admin:intake_visit_changelist"),
        {"action": "mark_called", "_selected_action": [visit.pk]},
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.followup_called_at is not None


def test_the_visit_changelist_sums_up_each_visits_follow_up(front_desk_client):
    from tests.followup.conftest import NOW, make_visit

    def checkin(visit, hours, status):
        sent = {"sent_at": NOW} if status in ("sent", "answered") else {}
        return CheckInFactory(visit=visit, policy_hours=hours, status=status, **sent)

    visit = make_visit()
    answered = checkin(visit, 24, "answered")
    checkin(visit, 48, "failed")
    checkin(visit, 72, "sent")
    EscalationFactory(checkin=answered)
    quiet = make_visit()
    checkin(quiet, 24, "sent")
    resolved = make_visit()
    resolved_checkin = checkin(resolved, 24, "answered")
    EscalationFactory(checkin=resolved_checkin, status="resolved")

    content = front_desk_client.get(reverse("admin:intake_visit_changelist")).content.decode()

    assert "1/3 answered · 1 failed · escalation open" in content
    assert "0/1 answered<" in content
    assert "1/1 answered<" in content
    assert "3 visits" in content


@pytest.mark.parametrize("model", [Client, Visit, CheckIn])
def test_the_plain_action_checkbox_is_djangos_markup(model, therapist):
    from django.contrib import admin

    from tests.followup.conftest import make_visit

    client = ClientFactory(first_name='Ana "<b>"')
    row = {
        Client: lambda: client,
        Visit: lambda: VisitFactory(client=client),
        CheckIn: lambda: CheckInFactory(visit=make_visit(client=client)),
    }[model]()
    model_admin = admin.site._registry[model]

    plain = model_admin.action_checkbox(row)

    assert plain == admin.ModelAdmin.action_checkbox(model_admin, row)
