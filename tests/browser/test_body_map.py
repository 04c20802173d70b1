"""The intake form by keyboard alone, and the body-region map: one Tab stop, arrow keys
between parts, Space to choose, the choice listed in words, no part under another, big
enough for a finger on a phone, and still working without JavaScript (checkboxes)."""

from __future__ import annotations

import pytest

from intake.models import Intake
from intake.templatetags.intake_tags import BODY_PARTS, MAP_REGIONS
from tests.browser.pages import page_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAP_ORDER = [region for region, _, _ in BODY_PARTS]
FINGER_PX = 44
ACTIVE = """() => {
  const el = document.activeElement;
  const map = el && el.closest("[data-body-map]");
  return {
    id: el.id, tag: el.tagName.toLowerCase(), region: el.getAttribute("data-region"),
    map: map && map.getAttribute("data-body-map"), text: el.textContent.trim().slice(0, 40),
  };
}"""


def _active(page) -> dict:
    return page.evaluate(ACTIVE)


def _tab_to(page, wanted, *, limit: int = 400) -> int:
    """Press Tab until the focused element satisfies `wanted(active)`; return the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if wanted(_active(page)):
            return presses
    raise AssertionError(f"Tab never reached the element (stopped at {_active(page)})")


def _region_box(page, field: str, region: str):
    return page.locator(f'input[name="{field}"][value="{region}"]')


def test_the_map_parts_do_not_overlap_so_a_click_chooses_what_it_lands_on():
    rects = [
        (region, x, y, x + w, y + h) for region, shapes, _ in BODY_PARTS for x, y, w, h, _ in shapes
    ]
    for i, (a, ax0, ay0, ax1, ay1) in enumerate(rects):
        for b, bx0, by0, bx1, by1 in rects[i + 1 :]:
            overlap = ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1
            assert not overlap, f"{a} and {b} overlap"
    assert "spine" not in MAP_REGIONS  # a checkbox beside the map (see intake_tags)


def test_the_intake_form_by_keyboard_alone(open_page):
    tab = open_page(page_named("intake-first"))
    page = tab.page
    client = tab.tour.unscreened.client

    # The first Tab reaches the skip link, which takes the keyboard past the navigation.
    page.keyboard.press("Tab")
    assert _active(page)["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    assert _active(page)["id"] == "main"

    # The planned modality, then the focus map: one Tab stop that arrow keys move through.
    _tab_to(page, lambda a: a["id"] == "id_planned_modality")
    page.keyboard.press("ArrowDown")  # Swedish -> Deep tissue
    assert page.locator("#id_planned_modality").input_value() == "deep_tissue"
    page.keyboard.press("Tab")
    assert _active(page) | {"text": ""} == {
        "id": "",
        "tag": "g",
        "region": MAP_ORDER[0],
        "map": "focus_regions",
        "text": "",
    }
    visited = [MAP_ORDER[0]]
    for _ in MAP_ORDER[1:]:
        page.keyboard.press("ArrowRight")
        visited.append(_active(page)["region"])
    assert visited == MAP_ORDER
    assert visited.index("chest") < visited.index("legs")  # the trunk before the limbs
    page.keyboard.press("ArrowRight")
    assert _active(page)["region"] == MAP_ORDER[0]  # round again
    page.keyboard.press("End")
    assert _active(page)["region"] == MAP_ORDER[-1]
    page.keyboard.press("Home")
    for _ in range(MAP_ORDER.index("neck")):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    neck = page.locator('[data-body-map="focus_regions"] [data-region="neck"]')
    assert neck.get_attribute("aria-checked") == "true"
    assert _region_box(page, "focus_regions", "neck").is_checked()
    chosen = page.locator('[data-body-map="focus_regions"] [data-chosen]')
    assert chosen.inner_text() == "Chosen: Neck"
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    page.keyboard.press(" ")  # Space toggles back
    assert chosen.inner_text() == "Chosen: Neck"
    # One Tab leaves the map: no part of it is a Tab stop of its own.
    page.keyboard.press("Tab")
    assert _active(page)["map"] != "focus_regions" or _active(page)["tag"] == "input"
    page.keyboard.press("Shift+Tab")
    assert _active(page)["region"] == "shoulders"  # back where the keyboard left it

    # A condition in a closed category: Enter opens it, Space ticks it.
    _tab_to(page, lambda a: a["tag"] == "summary" and a["text"] == "General and chronic conditions")
    page.keyboard.press("Enter")
    _tab_to(page, lambda a: a["id"] == "id_cond_osteoporosis")
    page.keyboard.press("Space")
    assert page.locator("#id_cond_osteoporosis").is_checked()

    # Pain now, and where it hurts on the second map.
    _tab_to(page, lambda a: a["id"] == "id_pain_score")
    page.keyboard.type("4")
    _tab_to(page, lambda a: a["map"] == "pain_regions")
    for _ in range(MAP_ORDER.index("lumbar")):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    assert _region_box(page, "pain_regions", "lumbar").is_checked()
    assert page.locator('[data-body-map="pain_regions"] [data-chosen]').inner_text() == (
        "Chosen: Lower back"
    )

    # Consent and signature, then Enter on the save button.
    _tab_to(page, lambda a: a["id"] == "id_consent")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert _active(page)["id"] == "id_signature_name"
    page.keyboard.type(client.full_name)
    _tab_to(page, lambda a: a["text"] == "Save health history")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    intake = Intake.objects.get(client=client)
    assert intake.planned_modality == "deep_tissue"
    assert intake.focus_regions == ["neck"]
    assert intake.pain_regions == ["lumbar"]
    assert intake.pain_score == 4
    assert [c["code"] for c in intake.conditions] == ["osteoporosis"]
    tab.assert_clean()


def test_each_map_is_a_single_tab_stop_on_the_whole_form(open_page):
    tab = open_page(page_named("intake-first"))
    page = tab.page
    stops = []
    page.locator("#id_planned_modality").focus()
    while _active(page)["text"] != "Save health history":
        page.keyboard.press("Tab")
        stops.append(_active(page))
        assert len(stops) < 400, "Tab never reached the save button"
    on_maps = [stop for stop in stops if stop["tag"] == "g"]
    assert [stop["map"] for stop in on_maps] == ["focus_regions", "pain_regions"]
    tab.assert_clean()


def test_no_click_on_the_lower_back_chooses_the_spine(open_page):
    tab = open_page(page_named("intake-first"))
    page = tab.page
    lumbar = page.locator('[data-body-map="pain_regions"] [data-region="lumbar"] rect')
    lumbar.scroll_into_view_if_needed()
    box = lumbar.bounding_box()
    checkbox = _region_box(page, "pain_regions", "lumbar")
    for fx in (0.1, 0.3, 0.5, 0.7, 0.9):
        for fy in (0.15, 0.5, 0.85):
            was = checkbox.is_checked()
            page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            assert checkbox.is_checked() != was, f"a click at ({fx}, {fy}) missed the lower back"
    assert not _region_box(page, "pain_regions", "spine").is_checked()
    tab.assert_clean()


def test_every_region_has_a_target_big_enough_for_a_finger_on_a_phone(open_page):
    tab = open_page(page_named("intake-first"), phone=True)
    page = tab.page
    too_small = []
    for field in ("focus_regions", "pain_regions"):
        for label in page.locator(f'[data-body-map="{field}"] .body-map-choices label').all():
            box = label.bounding_box()
            if box is None or box["height"] < FINGER_PX or box["width"] < FINGER_PX:
                too_small.append((field, label.inner_text(), box))
    assert not too_small, f"targets under {FINGER_PX} px on a phone: {too_small}"
    # Tapping a listed region chooses it, on the map too.
    page.locator('[data-body-map="pain_regions"] label', has_text="Lower back").tap()
    assert _region_box(page, "pain_regions", "lumbar").is_checked()
    lumbar = page.locator('[data-body-map="pain_regions"] [data-region="lumbar"]')
    assert lumbar.get_attribute("aria-checked") == "true"
    tab.assert_clean()


def test_without_javascript_the_checkboxes_do_the_work(open_page):
    tab = open_page(page_named("intake-first"), javascript=False)
    page = tab.page
    client = tab.tour.unscreened.client
    # The map is only a picture: hidden from screen readers, with nothing to focus.
    svg = page.locator('[data-body-map="focus_regions"] svg')
    assert svg.get_attribute("aria-hidden") == "true"
    assert page.locator("svg [tabindex]").count() == 0
    page.locator('[data-body-map="focus_regions"] label', has_text="Shoulders").click()
    page.fill("#id_pain_score", "2")
    page.locator('[data-body-map="pain_regions"] label', has_text="Lower back").click()
    page.locator("#id_consent").check()
    page.fill("#id_signature_name", client.full_name)
    with page.expect_navigation():
        page.click("button:has-text('Save health history')")
    intake = Intake.objects.get(client=client)
    assert intake.focus_regions == ["shoulders"]
    assert intake.pain_regions == ["lumbar"]
    tab.assert_clean()
