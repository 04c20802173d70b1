"""Every page on a phone (390 x 844): a full-page screenshot in test-artifacts/phone/, and
nothing wider than the screen (the document, and its screenshot, exactly as wide as the
viewport)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE
from tests.browser.pages import PAGES, page_named

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pages too wide for a phone that only an admin class (*/admin.py) can fix, by page: each
# must keep failing until fixed (strict), then its entry goes.
ADMIN_CLASS_FIXES: dict[str, str] = {}

# A phone browser widens its layout to fit a page that is too wide, so the page is measured
# against the phone's own width, not window.innerWidth.
WIDTHS = """(screen) => ({
  document: document.documentElement.scrollWidth,
  sticking_out: [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > screen + 0.5)
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`),
})"""


def _png_width(path) -> int:
    """Return a PNG's width in pixels (from its header)."""
    with open(path, "rb") as png:
        header = png.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big")


def _cases():
    for page in PAGES:
        reason = ADMIN_CLASS_FIXES.get(page.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(page, id=page.name, marks=marks)


@pytest.mark.parametrize("page", list(_cases()))
def test_every_page_fits_a_phone_screen(open_page, page):
    tab = open_page(page, phone=True)
    shot = tab.shot(f"phone/{page.name}")
    widths = tab.page.evaluate(WIDTHS, PHONE["width"])
    # The full-page screenshot in test-artifacts/ is exactly the screen's width too.
    scale = tab.page.evaluate("window.devicePixelRatio")
    assert _png_width(shot) == PHONE["width"] * scale, f"{shot.name} is wider than the phone"
    assert widths["document"] == PHONE["width"], (
        f"{page.name} is {widths['document']} px wide on a {PHONE['width']} px phone; "
        f"sticking out: {widths['sticking_out']}"
    )
    tab.assert_clean()


@pytest.mark.parametrize("name", ["escalations", "fd-escalations"])
def test_the_escalation_queue_keeps_every_button_on_a_phone_screen(open_page, name):
    tab = open_page(page_named(name), phone=True)
    buttons = tab.page.locator("main button")
    assert buttons.count() > 0
    for button in buttons.all():
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            f"{button.inner_text()!r} is off the screen: {box}"
        )
    tab.assert_clean()
