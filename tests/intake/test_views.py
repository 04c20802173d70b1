from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.models import Client, Intake, Visit, VisitStatus
from tests.factories import ClientFactory, IntakeFactory, UserFactory, VisitFactory
from tests.intake.conftest import intake_post

pytestmark = pytest.mark.django_db


def _urls(visit):
    client, intake = visit.client, visit.intake
    return [
        ("get", reverse("intake:today")),
        ("get", reverse("intake:client_list")),
        ("get", reverse("intake:client_create")),
        ("get", reverse("intake:client_detail", args=[client.pk])),
        ("get", reverse("intake:intake_create", args=[client.pk])),
        ("get", reverse("intake:intake_detail", args=[intake.pk])),
        ("get", reverse("intake:intake_diff", args=[intake.pk])),
        ("get", reverse("intake:visit_create", args=[client.pk])),
        ("get", reverse("intake:visit_detail", args=[visit.pk])),
        ("post", reverse("intake:visit_plan", args=[visit.pk])),
        ("post", reverse("intake:visit_complete", args=[visit.pk])),
        ("post", reverse("intake:visit_defer", args=[visit.pk])),
        ("post", reverse("intake:visit_cancel", args=[visit.pk])),
    ]


def test_anonymous_users_are_sent_to_log_in(client, visit_today):
    for method, url in _urls(visit_today):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_front_desk_is_refused_every_therapist_page(front_desk_client, visit_today):
    for method, url in _urls(visit_today):
        assert getattr(front_desk_client, method)(url).status_code == 403, url
    visit_today.refresh_from_db()
    assert visit_today.status == VisitStatus.SCHEDULED


def test_the_day_list_shows_todays_visits_with_their_decision(therapist_client, therapist):
    from screening.services import screen_visit

    clear = VisitFactory(therapist=therapist)
    blocked = VisitFactory(therapist=therapist, intake__conditions=[{"code": "thrombosis"}])
    for visit in (clear, blocked):
        screen_visit(visit=visit)
    VisitFactory(therapist=therapist, scheduled_at=timezone.now() + dt.timedelta(days=2))
    response = therapist_client.get(reverse("intake:today"))
    body = response.content.decode()
    assert response.status_code == 200
    assert clear.client.full_name in body
    assert "Contraindicated" in body
    assert "Clear" in body
    assert len(response.context["visits"]) == 2


def test_the_day_list_shows_only_my_visits_unless_asked_for_all(therapist_client, therapist):
    mine = VisitFactory(therapist=therapist)
    theirs = VisitFactory()
    body = therapist_client.get(reverse("intake:today")).content.decode()
    assert mine.client.full_name in body
    assert theirs.client.full_name not in body
    body = therapist_client.get(reverse("intake:today") + "?all=1").content.decode()
    assert theirs.client.full_name in body


def test_the_day_list_query_count_does_not_grow_with_visits(
    therapist_client, therapist, django_assert_max_num_queries
):
    from screening.services import screen_visit

    for _ in range(8):
        screen_visit(visit=VisitFactory(therapist=therapist))
    with django_assert_max_num_queries(10):
        response = therapist_client.get(reverse("intake:today") + "?all=1")
    assert len(response.context["visits"]) == 8


@pytest.mark.parametrize("query", ["lópez", "ana lóp", "ana@example", "7700 900123", "07700900123"])
def test_clients_are_found_by_name_email_or_phone(therapist_client, person, query):
    ClientFactory(
        first_name="Bob", last_name="Stone", email="bob@example.com", phone="+441632960000"
    )
    response = therapist_client.get(reverse("intake:client_list"), {"q": query})
    names = [c.full_name for c in response.context["page"].object_list]
    assert names == ["Ana López"]


def test_the_client_page_lists_intakes_and_visits(therapist_client, client_with_intake, therapist):
    VisitFactory(client=client_with_intake, intake=client_with_intake.latest_intake())
    response = therapist_client.get(reverse("intake:client_detail", args=[client_with_intake.pk]))
    assert response.status_code == 200
    assert len(response.context["intakes"]) == 1
    assert len(response.context["visits"]) == 1
    assert b"Physician clearances" in response.content


def test_the_client_page_query_count_does_not_grow_with_rows(
    therapist_client, therapist, django_assert_max_num_queries
):
    client = ClientFactory()
    for _ in range(6):
        intake = IntakeFactory(client=client, entered_by=therapist)
        VisitFactory(client=client, intake=intake, therapist=therapist)
    with django_assert_max_num_queries(14):
        response = therapist_client.get(reverse("intake:client_detail", args=[client.pk]))
    assert len(response.context["visits"]) == 6


def test_creating_a_client_records_consent_time_source_and_who(therapist_client, therapist):
    response = therapist_client.post(
        reverse("intake:client_create"),
        {
            "first_name": "مريم",
            "last_name": "حداد",
            "date_of_birth": "1985-03-04",
            "email": "maryam@example.com",
            "phone": "+447911123456",
            "preferred_channel": "both",
            "followup_consent": "on",
            "followup_consent_source": "in_person",
        },
    )
    client = Client.objects.get()
    assert response.status_code == 302
    assert client.followup_consent_at is not None
    assert (client.followup_consent_source, client.followup_consent_by) == (
        "in_person",
        therapist,
    )
    page = therapist_client.get(reverse("intake:client_detail", args=[client.pk]))
    assert "مريم حداد" in page.content.decode()


def test_a_consent_without_its_source_is_refused_and_nothing_is_stored(therapist_client):
    response = therapist_client.post(
        reverse("intake:client_create"),
        {
            "first_name": "Ana",
            "last_name": "Lopez",
            "date_of_birth": "1985-03-04",
            "email": "ana@example.com",
            "preferred_channel": "email",
            "followup_consent": "on",
        },
    )
    assert response.status_code == 200
    assert "Say how the client gave their consent" in response.content.decode()
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"date_of_birth": "2999-01-01"},
        {"phone": "call me maybe", "preferred_channel": "sms"},
        {"first_name": ""},
    ],
)
def test_a_bad_client_is_not_stored(therapist_client, overrides):
    data = {
        "first_name": "Zoë",
        "last_name": "Brontë",
        "date_of_birth": "1985-03-04",
        "email": "zoe@example.com",
        "phone": "+447911123456",
        "preferred_channel": "email",
        **overrides,
    }
    response = therapist_client.post(reverse("intake:client_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Client.objects.count() == 0


def test_a_returning_clients_last_intake_prefills_the_form(therapist_client, therapist):
    intake = IntakeFactory(medications=["warfarin 5 mg"], allergies=["latex"])
    response = therapist_client.get(reverse("intake:intake_create", args=[intake.client.pk]))
    body = response.content.decode()
    assert "warfarin 5 mg" in body
    assert "latex" in body
    assert "Filled in from the intake" in body


def test_recording_an_intake_stores_it_and_shows_it(therapist_client, therapist, person):
    visit = VisitFactory(client=person, intake=None, therapist=therapist)
    data = intake_post(person, cond_osteoporosis_notes="<script>alert(1)</script>")
    response = therapist_client.post(
        reverse("intake:intake_create", args=[person.pk]), data, REMOTE_ADDR="192.0.2.7"
    )
    intake = Intake.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("intake:intake_detail", args=[intake.pk])
    assert intake.entered_by == therapist
    assert intake.entered_from == "192.0.2.7"
    assert intake.signature_name == "Ana López"
    assert intake.conditions[0]["notes"] == "<script>alert(1)</script>"
    visit.refresh_from_db()
    assert visit.intake == intake
    assert visit.screenings.count() == 1
    page = therapist_client.get(response.url).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_an_unknown_condition_is_kept_and_flagged_for_review(therapist_client, person):
    data = intake_post(person, other_0_code="plantar fasciitis")
    therapist_client.post(reverse("intake:intake_create", args=[person.pk]), data)
    intake = Intake.objects.get()
    assert "plantar_fasciitis" in intake.condition_codes()
    page = therapist_client.get(reverse("intake:intake_detail", args=[intake.pk]))
    assert "not understood by the screener" in page.content.decode().lower()
    assert "plantar_fasciitis" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pain_score": "11"}, "pain_score"),
        ({"pain_score": "-1"}, "pain_score"),
        ({"pain_score": "7.5"}, "pain_score"),
        ({"pain_score": "abc"}, "pain_score"),
        ({"signature_name": None}, "signature_name"),
        ({"planned_modality": "reiki"}, "planned_modality"),
        ({"focus_regions": ["elbowpit"]}, "focus_regions"),
        ({"free_text": "z" * 100_000}, "free_text"),
        (
            {"pregnant": "on", "pregnancy_due_date": "2001-01-01"},
            "pregnancy_due_date",
        ),
    ],
)
def test_bad_intake_input_shows_an_error_and_stores_nothing(
    therapist_client, person, overrides, field
):
    response = therapist_client.post(
        reverse("intake:intake_create", args=[person.pk]), intake_post(person, **overrides)
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert "Nothing was saved" in response.content.decode()
    assert Intake.objects.count() == 0


def test_a_pain_score_sent_twice_is_refused(therapist_client, person):
    data = intake_post(person)
    data["pain_score"] = ["2", "9"]
    response = therapist_client.post(reverse("intake:intake_create", args=[person.pk]), data)
    assert response.status_code == 400
    assert "sent more than once" in response.context["form"].errors["pain_score"][0]
    assert Intake.objects.count() == 0


def test_the_form_has_no_inline_script_or_style(therapist_client, person):
    body = therapist_client.get(reverse("intake:intake_create", args=[person.pk])).content.decode()
    assert "style=" not in body
    assert "<script>" not in body
    assert 'data-body-map="pain_regions"' in body
    assert 'data-region="lumbar"' in body
    assert "js/body-map.js" in body


def test_the_diff_page_shows_what_changed(therapist_client, therapist):
    first = IntakeFactory(medications=["ibuprofen"])
    second = IntakeFactory(
        client=first.client, previous=first, medications=["warfarin 5 mg"], pain_score=8
    )
    body = therapist_client.get(reverse("intake:intake_diff", args=[second.pk])).content.decode()
    assert "new: warfarin 5 mg" in body
    assert "stopped: ibuprofen" in body
    assert "score: 3 → 8 (worse by 5)" in body


def test_scheduling_a_visit_defaults_to_me_and_screens_it(
    therapist_client, therapist, client_with_intake
):
    url = reverse("intake:visit_create", args=[client_with_intake.pk])
    assert therapist_client.get(url).context["form"].initial["therapist"] == therapist.pk
    when = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = therapist_client.post(
        url,
        {
            "scheduled_at": when,
            "therapist": therapist.pk,
            "planned_modality": "thai",
            "focus_regions": ["legs", "feet"],
        },
    )
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert (visit.therapist, visit.planned_modality, visit.focus_regions) == (
        therapist,
        "thai",
        ["legs", "feet"],
    )
    assert visit.intake == client_with_intake.latest_intake()
    assert visit.screenings.count() == 1


def test_completing_a_visit_from_its_page(therapist_client, therapist):
    from screening.services import screen_visit

    visit = VisitFactory(therapist=therapist, baseline_pain=None)
    screen_visit(visit=visit)
    response = therapist_client.post(
        reverse("intake:visit_complete", args=[visit.pk]), {"performed_modality": "swedish"}
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert visit.checkins.count() == 3


def test_a_refused_completion_shows_why_and_stores_nothing(therapist_client, therapist):
    from screening.services import screen_visit

    visit = VisitFactory(therapist=therapist, intake__conditions=[{"code": "thrombosis"}])
    screen_visit(visit=visit)
    response = therapist_client.post(
        reverse("intake:visit_complete", args=[visit.pk]), {"performed_modality": "swedish"}
    )
    assert response.status_code == 409
    assert "contraindicated" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SCHEDULED
    assert not visit.checkins.exists()


@pytest.mark.parametrize(("action", "status"), [("defer", "deferred"), ("cancel", "cancelled")])
def test_deferring_or_cancelling_needs_a_reason(therapist_client, visit_today, action, status):
    url = reverse(f"intake:visit_{action}", args=[visit_today.pk])
    response = therapist_client.post(url, {f"{action}-reason": ""})
    assert response.status_code == 400
    visit_today.refresh_from_db()
    assert visit_today.status == VisitStatus.SCHEDULED
    response = therapist_client.post(url, {f"{action}-reason": "client has flu"})
    assert response.status_code == 302
    visit_today.refresh_from_db()
    assert (visit_today.status, visit_today.status_reason) == (status, "client has flu")


def test_changing_the_plan_rescreens(therapist_client, therapist, visit_today):
    other = UserFactory(groups=["therapist"])
    when = timezone.localtime(visit_today.scheduled_at).strftime("%Y-%m-%dT%H:%M")
    response = therapist_client.post(
        reverse("intake:visit_plan", args=[visit_today.pk]),
        {
            "plan-scheduled_at": when,
            "plan-therapist": other.pk,
            "plan-planned_modality": "deep tissue",
            "plan-focus_regions": ["lumbar"],
        },
    )
    assert response.status_code == 302
    visit_today.refresh_from_db()
    assert (visit_today.therapist, visit_today.planned_modality) == (other, "deep_tissue")
    assert visit_today.current_screening().planned_modality == "deep_tissue"


def test_the_visit_page_shows_the_plan_and_decision(therapist_client, visit_today):
    from screening.services import screen_visit

    screen_visit(visit=visit_today)
    response = therapist_client.get(reverse("intake:visit_detail", args=[visit_today.pk]))
    assert response.status_code == 200
    assert "Clear" in response.content.decode()
    assert "Complete the visit" in response.content.decode()


def _intake_reads(queries) -> int:
    # A SELECT of intakes, or the new intake's INSERT reading its `previous` itself (not the
    # copy of its history, which reads the row just written).
    return sum(
        1
        for q in queries
        if 'FROM "intake_intake"' in q["sql"]
        and not q["sql"].startswith('INSERT INTO "intake_historicalintake"')
    )


def test_recording_an_intake_reads_the_previous_one_once_under_the_lock(
    therapist_client, therapist
):
    previous = IntakeFactory(entered_by=therapist)
    person = previous.client
    with CaptureQueriesContext(connection) as queries:
        response = therapist_client.post(
            reverse("intake:intake_create", args=[person.pk]), intake_post(person)
        )

    assert response.status_code == 302
    assert _intake_reads(queries.captured_queries) == 1
    assert person.latest_intake().previous == previous


def test_a_returning_clients_refused_intake_is_shown_again_over_the_previous_one(
    therapist_client, therapist
):
    previous = IntakeFactory(entered_by=therapist, medications=["warfarin 5 mg"])
    person = previous.client
    data = intake_post(person, medications="metformin", pain_score="11")

    response = therapist_client.post(reverse("intake:intake_create", args=[person.pk]), data)

    body = response.content.decode()
    assert response.status_code == 400
    assert "Filled in from the intake" in body
    assert "metformin" in body and "warfarin 5 mg" not in body  # what was sent wins
    assert Intake.objects.filter(client=person).count() == 1
