"""The screening report and its forms, against the real engine."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intake.models import HealthRecordAccess
from screening import actions, services
from screening.models import Clearance
from tests.factories import ClearanceFactory, VisitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash the cast's passwords quickly; the strength of the hasher is not under test here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Keep uploaded letters out of the project's var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def warfarin_visit(therapist):
    visit = VisitFactory(therapist=therapist, intake__medications=["warfarin 5 mg"])
    services.screen_visit(visit=visit)
    return visit


@pytest.fixture
def hernia_visit(therapist):
    visit = VisitFactory(
        therapist=therapist, intake__free_text="I had a <script>alert(1)</script> hernia"
    )
    services.screen_visit(visit=visit)
    return visit


def _report(client, visit):
    return client.get(reverse("screening:report", args=[visit.pk]))


def _clearance_post(**overrides):
    today = timezone.localdate()
    data = {
        "doctor_name": "Dr Ada Okafor",
        "issued_on": today.isoformat(),
        "expires_on": (today + datetime.timedelta(days=60)).isoformat(),
        "codes": ["blood_thinners"],
        "note": "letter of 3 March",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_report_shows_banner_flags_matched_actions_and_quoted_sources(
    therapist_client, warfarin_visit
):
    response = _report(therapist_client, warfarin_visit)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert 'class="decision-banner decision-clearance"' in page
    assert "Physician clearance needed" in page
    assert "Taking blood thinners (anticoagulants)" in page
    assert "medication: warfarin 5 mg" in page
    assert "Obtain physician note confirming massage is acceptable." in page
    assert "<details" in page and "<summary>Sources (" in page
    assert "000_3843151269d94605.txt" in page
    assert "medication use (e.g., blood thinners)" in page
    assert "Deep tissue" in page  # blocked
    assert "Universal precautions" in page
    assert f"rules version {warfarin_visit.current_screening().catalogue_version}" in page
    # What stops completion now: the missing clearance and the acknowledgement.
    assert "no valid clearance on file covers it" in page
    assert "must acknowledge the screening" in page
    assert "css/screening.css" in page


def test_report_has_no_inline_script_or_style(therapist_client, hernia_visit):
    page = _report(therapist_client, hernia_visit).content.decode()

    assert "style=" not in page
    assert "<script>" not in page
    assert "<script src=" in page  # only the vendored Bootstrap bundle


def test_report_escapes_markup_from_the_intake(therapist_client, hernia_visit):
    page = _report(therapist_client, hernia_visit).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("conditions", "banner"),
    [
        ([], "decision-clear"),
        ([{"code": "influenza", "acute": False, "notes": ""}], "decision-contraindicated"),
        ([{"code": "hip_injury", "acute": False, "notes": ""}], "decision-local"),
        ([{"code": "osteoporosis", "acute": False, "notes": ""}], "decision-modify"),
    ],
)
def test_report_banner_colour_follows_the_decision(therapist_client, conditions, banner):
    visit = VisitFactory(intake__conditions=conditions)
    services.screen_visit(visit=visit)

    page = _report(therapist_client, visit).content.decode()

    assert f'class="decision-banner {banner}"' in page


def test_report_shows_unknown_conditions_for_review(therapist_client):
    visit = VisitFactory(intake__conditions=[{"code": "zorblax", "acute": False, "notes": ""}])
    services.screen_visit(visit=visit)

    page = html.unescape(_report(therapist_client, visit).content.decode())
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())

    assert "Needs your review: what the screener did not understand (1)" in text
    assert "“ zorblax ” in condition 1" in text
    assert 'class="decision-banner decision-review"' in page


def test_report_of_an_unscreened_visit_offers_to_screen(therapist_client, therapist):
    visit = VisitFactory(therapist=therapist)

    page = _report(therapist_client, visit).content.decode()
    assert "has not been screened yet" in page

    response = therapist_client.post(reverse("screening:screen", args=[visit.pk]))
    assert response.status_code == 302
    assert visit.current_screening().decision == "clear"


def test_viewing_the_report_is_logged_as_a_health_record_read(therapist_client, therapist):
    visit = VisitFactory()
    services.screen_visit(visit=visit)

    _report(therapist_client, visit)

    access = HealthRecordAccess.objects.get()
    assert access.user == therapist
    assert access.client == visit.client
    assert access.path == reverse("screening:report", args=[visit.pk])


def test_front_desk_gets_403_and_nothing_is_logged(front_desk_client, warfarin_visit):
    assert _report(front_desk_client, warfarin_visit).status_code == 403
    screening = warfarin_visit.current_screening()
    assert (
        front_desk_client.post(reverse("screening:acknowledge", args=[screening.pk])).status_code
        == 403
    )
    assert not HealthRecordAccess.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client, warfarin_visit):
    response = _report(client, warfarin_visit)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_superuser_may_read_the_report(client, superuser, warfarin_visit):
    client.force_login(superuser)

    assert _report(client, warfarin_visit).status_code == 200


def test_acknowledging_from_the_report(therapist_client, therapist, warfarin_visit):
    screening = warfarin_visit.current_screening()

    response = therapist_client.post(
        reverse("screening:acknowledge", args=[screening.pk]), {"note": "no deep tissue"}
    )

    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.acknowledged_by == therapist
    assert screening.acknowledgement_note == "no deep tissue"
    page = _report(therapist_client, warfarin_visit).content.decode()
    assert "Acknowledged by Tess Ng" in page


def test_acknowledging_twice_shows_an_error(therapist_client, therapist, warfarin_visit):
    screening = warfarin_visit.current_screening()
    actions.screening_acknowledge(screening=screening, by=therapist, note="first")

    response = therapist_client.post(
        reverse("screening:acknowledge", args=[screening.pk]), {"note": "second"}
    )

    assert response.status_code == 400
    assert "already been acknowledged" in response.content.decode()


def test_acknowledgement_is_a_post(therapist_client, warfarin_visit):
    screening = warfarin_visit.current_screening()

    response = therapist_client.get(reverse("screening:acknowledge", args=[screening.pk]))

    assert response.status_code == 405


def test_dismissing_a_free_text_flag_from_the_report(therapist_client, therapist, hernia_visit):
    flag = hernia_visit.current_screening().flags.get()
    page = _report(therapist_client, hernia_visit).content.decode()
    assert reverse("screening:dismiss", args=[flag.pk]) in page

    response = therapist_client.post(
        reverse("screening:dismiss", args=[flag.pk]), {"reason": "an inguinal hernia"}
    )

    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.dismissed_by == therapist
    page = _report(therapist_client, hernia_visit).content.decode()
    assert "Dismissed by Tess Ng" in page
    assert 'class="decision-banner decision-clear"' in page


def test_dismissal_without_a_reason_is_refused(therapist_client, hernia_visit):
    flag = hernia_visit.current_screening().flags.get()

    response = therapist_client.post(reverse("screening:dismiss", args=[flag.pk]), {"reason": " "})

    assert response.status_code == 400
    flag.refresh_from_db()
    assert not flag.is_dismissed


def test_a_structured_flag_offers_no_dismissal_and_refuses_one(therapist_client, warfarin_visit):
    flag = warfarin_visit.current_screening().flags.get()
    page = _report(therapist_client, warfarin_visit).content.decode()
    assert reverse("screening:dismiss", args=[flag.pk]) not in page

    response = therapist_client.post(
        reverse("screening:dismiss", args=[flag.pk]), {"reason": "client says fine"}
    )

    assert response.status_code == 400
    assert "free text alone, or by a spelling guess, can be dismissed" in html.unescape(
        response.content.decode()
    )
    flag.refresh_from_db()
    assert not flag.is_dismissed


def test_recording_a_clearance_from_the_report(therapist_client, therapist, warfarin_visit):
    page = _report(therapist_client, warfarin_visit).content.decode()
    assert 'value="blood_thinners"' in page and "flagged at this visit" in page
    assert " checked" not in page  # the therapist ticks what the letter says

    response = therapist_client.post(
        reverse("screening:visit_clearance_add", args=[warfarin_visit.pk]),
        _clearance_post(document=SimpleUploadedFile("letter.pdf", PDF, "application/pdf")),
    )

    assert response.status_code == 302
    clearance = Clearance.objects.get()
    assert clearance.client == warfarin_visit.client
    assert clearance.recorded_by == therapist
    assert clearance.codes == ["blood_thinners"]
    assert clearance.document.name.endswith("letter.pdf")
    page = _report(therapist_client, warfarin_visit).content.decode()
    assert "Covered on" in page
    assert "no valid clearance on file covers it" not in page


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("letter.png", PNG, "image/png"),
        ("letter.JPG", JPEG, "image/jpeg"),
        ("letter.jpeg", JPEG, "image/jpeg"),
    ],
)
def test_images_are_accepted_as_clearance_documents(
    therapist_client, warfarin_visit, name, content, content_type
):
    response = therapist_client.post(
        reverse("screening:visit_clearance_add", args=[warfarin_visit.pk]),
        _clearance_post(document=SimpleUploadedFile(name, content, content_type)),
    )

    assert response.status_code == 302
    assert Clearance.objects.get().document


@pytest.mark.parametrize(
    ("name", "content", "content_type", "error"),
    [
        ("letter.exe", PDF, "application/pdf", "Upload a PDF, PNG or JPEG file."),
        ("letter.html", b"<html></html>", "text/html", "Upload a PDF, PNG or JPEG file."),
        ("letter.pdf", PDF, "text/html", "does not match its extension"),
        ("letter.pdf", b"<html><script>", "application/pdf", "is not a PDF, PNG or JPEG"),
        ("letter.png", PDF, "image/png", "is not a PDF, PNG or JPEG"),
        ("letter.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf", "larger than 5 MB"),
    ],
)
def test_bad_clearance_documents_are_refused(
    therapist_client, warfarin_visit, name, content, content_type, error
):
    response = therapist_client.post(
        reverse("screening:visit_clearance_add", args=[warfarin_visit.pk]),
        _clearance_post(document=SimpleUploadedFile(name, content, content_type)),
    )

    assert response.status_code == 400
    assert error in html.unescape(response.content.decode())
    assert not Clearance.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"codes": None}, "Choose at least one rule"),
        ({"codes": ["osteoporosis"]}, "Select a valid choice"),
        ({"doctor_name": ""}, "This field is required"),
        ({"expires_on": "2020-01-01"}, "expiry date cannot be before"),
        ({"issued_on": "2999-01-01", "expires_on": "2999-02-01"}, "cannot be in the future"),
        ({"issued_on": "yesterday"}, "Enter a valid date"),
        ({"note": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_clearances_are_refused(therapist_client, warfarin_visit, overrides, error):
    response = therapist_client.post(
        reverse("screening:visit_clearance_add", args=[warfarin_visit.pk]),
        _clearance_post(**overrides),
    )

    assert response.status_code == 400
    assert error in html.unescape(response.content.decode())
    assert not Clearance.objects.exists()


def test_front_desk_cannot_record_a_clearance(front_desk_client, warfarin_visit):
    response = front_desk_client.post(
        reverse("screening:visit_clearance_add", args=[warfarin_visit.pk]), _clearance_post()
    )

    assert response.status_code == 403
    assert not Clearance.objects.exists()


def test_client_clearance_page_lists_and_records(therapist_client, warfarin_visit):
    client = warfarin_visit.client
    ClearanceFactory(client=client, doctor_name="Dr <b>Bold</b>", codes=["spinal_injury"])
    url = reverse("screening:client_clearance_add", args=[client.pk])

    page = therapist_client.get(url).content.decode()
    assert "Dr &lt;b&gt;Bold&lt;/b&gt;" in page
    assert "Valid today" in page

    response = therapist_client.post(url, _clearance_post())
    assert response.status_code == 302
    assert client.clearances.count() == 2


def test_clearance_document_downloads_for_therapists_only(
    therapist_client, front_desk, warfarin_visit
):
    therapist_client.post(
        reverse("screening:visit_clearance_add", args=[warfarin_visit.pk]),
        _clearance_post(document=SimpleUploadedFile("letter.pdf", PDF, "application/pdf")),
    )
    url = reverse("screening:clearance_document", args=[Clearance.objects.get().pk])

    response = therapist_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF
    front_desk_client = Client()
    front_desk_client.force_login(front_desk)
    assert front_desk_client.get(url).status_code == 403


def test_decision_badge_renders_each_decision_from_the_vocabulary():
    from django.template import Context, Template

    from clinical import vocabulary

    badge = Template("{% load intake_tags %}{% decision_badge decision %}")
    for level in vocabulary.SEVERITIES:
        html = badge.render(Context({"decision": level.code}))
        assert f"decision-{level.code}" in html
        assert level.badge in html
    assert "Not screened" in badge.render(Context({}))


# ---- review items, counted mentions, the supplementary tier, the catalogue page -----------


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())


@pytest.fixture
def review_visit(therapist):
    visit = VisitFactory(
        therapist=therapist,
        intake__conditions=[{"code": "epilepsy", "acute": False, "notes": ""}],
        intake__free_text="Mother had osteoporosis.",
    )
    services.screen_visit(visit=visit)
    return visit


def test_report_shows_review_items_and_mentions_in_plain_words(therapist_client, review_visit):
    response = _report(therapist_client, review_visit)
    text = _text(response)
    page = response.content.decode()

    assert "Needs review: something in the intake was not understood" in text
    assert "“ epilepsy ” in condition 1" in text
    assert "Mentioned, not counted (1)" in text
    assert "Osteoporosis : “ Mother had osteoporosis. ”" in text
    assert "not counted: about someone else" in text
    # No machine codes outside a <details> or a title attribute.
    outside = re.sub(r"<details.*?</details>|title=\"[^\"]*\"", "", page, flags=re.S)
    for code in ("unrecognised", "conditions[0]", "free_text:", 'osteoporosis"', "family"):
        assert code not in re.sub(r"<[^>]+>", " ", outside), code


def test_resolving_a_review_item_on_the_report(therapist_client, therapist, review_visit):
    item = review_visit.current_screening().flags.get(code="unrecognised")
    url = reverse("screening:resolve", args=[item.pk])

    refused = therapist_client.post(url, {"resolution": "not_relevant", "reason": ""})
    assert refused.status_code == 400
    assert "Give the reason it does not matter for massage." in html.unescape(
        refused.content.decode()
    )

    response = therapist_client.post(
        url, {"resolution": "not_relevant", "reason": "Seizure-free for years."}
    )
    assert response.status_code == 302
    text = _text(_report(therapist_client, review_visit))
    assert "Not relevant to massage: Seizure-free for years." in text
    assert (
        'class="decision-banner decision-clear"'
        in _report(therapist_client, review_visit).content.decode()
    )


def test_resolving_as_a_rule_offers_the_suggestions_first(therapist_client, therapist):
    visit = VisitFactory(
        therapist=therapist,
        intake__conditions=[{"code": "inguinal hernia", "acute": False, "notes": ""}],
    )
    services.screen_visit(visit=visit)
    page = html.unescape(_report(therapist_client, visit).content.decode())
    first = re.search(r'<option value="([a-z_]+)"[^>]*>[^<]*\(suggested\)', page)
    assert first and first.group(1) == "intervertebral_hernia_or_protrusion"


def test_counting_a_mention_with_one_click(therapist_client, review_visit):
    screening = review_visit.current_screening()
    response = therapist_client.post(reverse("screening:count", args=[screening.pk, 0]))
    assert response.status_code == 302
    assert screening.flags.filter(code="osteoporosis", origin="counted").exists()
    assert "counted by" in _text(_report(therapist_client, review_visit))


def test_a_supplementary_flag_says_where_it_comes_from(therapist_client, therapist):
    visit = VisitFactory(
        therapist=therapist,
        intake__conditions=[{"code": "pacemaker", "acute": False, "notes": ""}],
    )
    services.screen_visit(visit=visit)
    text = _text(_report(therapist_client, visit))
    assert "From public guidance outside the clinic's source articles." in text
    assert "https://cynthialombardi.abmp.com/contraindications (public web page)" in text


def test_the_catalogue_page_lists_both_tiers_with_the_severity_notes(therapist_client):
    text = _text(therapist_client.get(reverse("screening:catalogue")))
    assert "From the clinic's source articles (50)" in text
    assert "From public guidance outside the clinic's source articles (13)" in text
    assert "Note on the chosen level: 3 counted sources, DISAGREEMENT on level" in text


def test_the_catalogue_page_shows_switched_off_rules_as_review(therapist_client, settings):
    settings.SCREENING_SUPPLEMENTARY = False
    text = _text(therapist_client.get(reverse("screening:catalogue")))
    assert "The public-guidance rules are switched off" in text
    assert "switched off: screens “Needs review”" in text


def test_front_desk_cannot_resolve_count_or_read_the_catalogue(front_desk_client, review_visit):
    screening = review_visit.current_screening()
    item = screening.flags.get(code="unrecognised")
    for url in (
        reverse("screening:resolve", args=[item.pk]),
        reverse("screening:count", args=[screening.pk, 0]),
    ):
        assert (
            front_desk_client.post(url, {"resolution": "not_relevant", "reason": "x"}).status_code
            == 403
        )
    assert front_desk_client.get(reverse("screening:catalogue")).status_code == 403
    item.refresh_from_db()
    assert item.is_open_review
