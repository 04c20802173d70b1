"""Two-factor sign-in in Chromium: a therapist signs in with a password, sets up an
authenticator app from the page (its key, as the app would read it from the QR code), keeps
the recovery codes, and reaches the day list; signing in again takes a code from the app,
or one recovery code.

STAFF_2FA_REQUIRED is turned on here (the other browser tests leave it off, see
tests/conftest.py)."""

from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import TOTP

from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _app_code(secret: str, *, ahead: int = 0) -> str:
    """Return the code an authenticator app shows for the base32 `secret`."""
    totp = TOTP(base64.b32decode(secret), step=30, t0=0, digits=6)
    totp.time = time.time() + ahead * 30
    return f"{totp.token():06d}"


def _submit_code(tab, code: str) -> None:
    tab.page.fill("#id_token", code)
    with tab.page.expect_navigation():
        tab.page.click("main button[type=submit]")


def test_a_therapist_sets_up_two_factor_sign_in_and_signs_in_with_it(browser_factory, settings):
    settings.STAFF_2FA_REQUIRED = True
    UserFactory(username="tess", first_name="Tess", groups=["therapist"])

    tab = browser_factory()
    log_in(tab, "tess")
    page = tab.page
    assert "/accounts/two-factor/setup/" in page.url, page.url
    assert page.locator("img[alt^='QR code']").is_visible()
    secret = page.inner_text("#totp-secret").strip()
    tab.shot("two-factor-setup")
    _submit_code(tab, _app_code(secret))
    assert "/accounts/two-factor/recovery-codes/" in page.url, page.url
    codes = [c.strip() for c in page.locator("#recovery-codes li").all_inner_texts()]
    assert len(codes) == 10
    with page.expect_navigation():
        page.click("text=I have saved them; continue")
    assert page.url.endswith("/today/"), page.url
    tab.assert_clean()

    # A new browser: the password, then a code from the app.
    again = browser_factory()
    log_in(again, "tess")
    assert "/accounts/two-factor/" in again.page.url
    again.shot("two-factor-verify")
    _submit_code(again, _app_code(secret, ahead=1))  # the enrolment's code is used up
    assert again.page.url.endswith("/today/"), again.page.url
    again.assert_clean()

    # Phone lost: a recovery code signs in, once.
    lost = browser_factory()
    log_in(lost, "tess")
    _submit_code(lost, codes[0])
    assert lost.page.url.endswith("/today/"), lost.page.url
    lost.assert_clean()
    reused = browser_factory()
    log_in(reused, "tess")
    reused.expect_status("/accounts/two-factor/", 400)
    _submit_code(reused, codes[0])
    assert "/accounts/two-factor/" in reused.page.url
    assert "That code did not work" in reused.page.content()
    reused.assert_clean()
