"""The printable documents, printed to PDF by Chromium and read back with pdftotext: the
clearance-request letter on A4 and the intake and screening summary on US Letter."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from screening import services
from tests.browser.conftest import Tab, log_in
from tests.factories import UserFactory, VisitFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def pdf_text(tab: Tab, path: str, paper: str, tmp_path) -> tuple[str, int]:
    """Print the page at `path` to PDF on `paper` and return its text and page count."""
    tab.goto(path)
    pdf = tmp_path / "document.pdf"
    tab.page.emulate_media(media="print")
    tab.page.pdf(path=str(pdf), format=paper, print_background=False)
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext is missing: install poppler-utils (.ci/run does)")
    text = subprocess.run(  # noqa: S603 - a fixed program on a file the test wrote
        [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.count("\f") or 1
    return " ".join(text.split()), pages


@pytest.fixture
def visit(db):
    therapist = UserFactory(
        username="tess", first_name="Tess", last_name="Ng", groups=["therapist"]
    )
    visit = VisitFactory(
        therapist=therapist,
        client__first_name="Ana",
        client__last_name="Lopez",
        planned_modality="swedish",
        focus_regions=["neck"],
        intake__medications=["warfarin 5 mg"],
    )
    services.screen_visit(visit=visit)
    return visit


def test_the_clearance_letter_prints_to_a_clean_a4_page(tab, visit, tmp_path):
    log_in(tab, "tess")
    rule = services.current_catalogue().find_rule("blood_thinners")

    text, pages = pdf_text(
        tab, f"/screening/visit/{visit.pk}/clearance-letter/?doctor=Dr+Ada+Okafor", "A4", tmp_path
    )

    assert "Request for medical clearance before massage" in text
    assert "To: Dr Ada Okafor" in text
    assert "Ana Lopez" in text
    assert " ".join(rule.title.split()) in text
    assert "Technique: Swedish (classical)." in text
    assert "Reply slip: medical clearance" in text
    # The site around the document is not printed.
    assert "Log out" not in text
    assert "Record the doctor's reply" not in text
    assert pages <= 2
    tab.assert_clean()


def test_the_summary_prints_to_a_us_letter_page(tab, visit, tmp_path):
    log_in(tab, "tess")

    text, pages = pdf_text(tab, f"/screening/visit/{visit.pk}/summary/", "Letter", tmp_path)

    assert "Intake and screening summary" in text
    assert "Ana Lopez" in text
    assert "warfarin 5 mg" in text
    assert "Techniques not to use: Deep tissue" in text
    assert "Back to the visit" not in text and "Log out" not in text
    assert pages <= 2
    tab.assert_clean()
