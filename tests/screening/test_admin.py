"""The screening admin: read-only, for therapists and superusers, never for front desk."""

from __future__ import annotations

import pytest
from django.urls import reverse

from screening import services
from tests.factories import ClearanceFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash the cast's passwords quickly; the strength of the hasher is not under test here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


MODELS = ["screening", "screeningflag", "clearance"]


@pytest.fixture
def screened(therapist):
    visit = VisitFactory(therapist=therapist, intake__medications=["warfarin"])
    screening = services.screen_visit(visit=visit)
    clearance = ClearanceFactory(client=visit.client)
    return {
        "screening": screening,
        "screeningflag": screening.flags.get(),
        "clearance": clearance,
    }


@pytest.mark.parametrize("model", MODELS)
def test_therapists_can_list_and_view(therapist_client, screened, model):
    changelist = reverse(f"admin:screening_{model}_changelist")
    change = reverse(f"admin:screening_{model}_change", args=[screened[model].pk])

    assert therapist_client.get(changelist).status_code == 200
    assert therapist_client.get(change).status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_superusers_can_list(client, superuser, screened, model):
    client.force_login(superuser)

    assert client.get(reverse(f"admin:screening_{model}_changelist")).status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_front_desk_gets_403(front_desk_client, screened, model):
    changelist = reverse(f"admin:screening_{model}_changelist")
    change = reverse(f"admin:screening_{model}_change", args=[screened[model].pk])
    history = reverse(f"admin:screening_{model}_history", args=[screened[model].pk])

    assert front_desk_client.get(changelist).status_code == 403
    assert front_desk_client.get(change).status_code == 403
    assert front_desk_client.get(history).status_code == 403


def test_front_desk_admin_index_does_not_list_screening(front_desk_client):
    page = front_desk_client.get(reverse("admin:index")).content.decode()

    assert reverse("admin:screening_screening_changelist") not in page


@pytest.mark.parametrize("model", MODELS)
def test_nobody_adds_changes_or_deletes_in_the_admin(client, superuser, screened, model):
    client.force_login(superuser)
    obj = screened[model]

    assert client.get(reverse(f"admin:screening_{model}_add")).status_code == 403
    assert client.get(reverse(f"admin:screening_{model}_delete", args=[obj.pk])).status_code == 403
    response = client.post(reverse(f"admin:screening_{model}_change", args=[obj.pk]), {})
    assert response.status_code == 403


def test_screening_search_by_flag_code_lists_each_screening_once(therapist_client, screened):
    url = reverse("admin:screening_screening_changelist")

    response = therapist_client.get(url, {"q": "blood"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_clearance_admin_links_the_letter_through_the_protected_view(therapist_client, screened):
    clearance = screened["clearance"]
    page = therapist_client.get(
        reverse("admin:screening_clearance_change", args=[clearance.pk])
    ).content.decode()

    assert "/media/" not in page


@pytest.fixture
def clinical_lead(db):
    from tests.factories import UserFactory

    return UserFactory(username="lena", groups=["therapist", "clinical_lead"], is_staff=True)


def test_a_clinical_lead_adds_and_activates_a_vocabulary_term_with_history(client, clinical_lead):
    from screening.models import VocabularyTerm

    client.force_login(clinical_lead)
    response = client.post(
        reverse("admin:screening_vocabularyterm_add"),
        {
            "phrase": "  Cupping   Marks ",
            "rule_code": "fresh_soft_tissue_injury",
            "status": "active",
            "note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    term = VocabularyTerm.objects.get()
    assert (term.phrase, term.status, term.proposed_by) == (
        "cupping marks",
        "active",
        clinical_lead,
    )
    assert term.history.get().history_user == clinical_lead


def test_a_therapist_sees_the_vocabulary_but_cannot_change_it(therapist_client):
    assert (
        therapist_client.get(reverse("admin:screening_vocabularyterm_changelist")).status_code
        == 200
    )
    assert therapist_client.get(reverse("admin:screening_vocabularyterm_add")).status_code == 403


def test_front_desk_never_sees_the_vocabulary(front_desk_client):
    assert (
        front_desk_client.get(reverse("admin:screening_vocabularyterm_changelist")).status_code
        == 403
    )


def test_the_clinical_lead_group_has_the_vocabulary_permissions(db):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="clinical_lead")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"add_vocabularyterm", "change_vocabularyterm", "activate_vocabularyterm"} <= codenames
