"""Two-factor sign-in for staff (django-otp): an authenticator app set up at the first
sign-in, a code at each sign-in after, recovery codes that work once; required for every
staff account when DEBUG is off (STAFF_2FA_REQUIRED), the demo logins exempt in `make run`
only. The browser walk through it is tests/browser/test_two_factor.py."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from django.test import Client as WebClient
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from tests.security.test_headers_and_sessions import ROOT, _production_env

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
# After one wrong code django-otp refuses every code for a second (then 2, 4, 8...).
THROTTLE_SECONDS = 1.1


@pytest.fixture(autouse=True)
def _required(settings):
    settings.STAFF_2FA_REQUIRED = True
    settings.STAFF_2FA_EXEMPT = []


def code_for(device: TOTPDevice, *, ahead: int = 0) -> str:
    """Return the code the user's authenticator app shows (`ahead` steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _signed_in(user) -> WebClient:
    web = WebClient()
    response = web.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return web


def _enrol(web: WebClient) -> tuple[TOTPDevice, list[str]]:
    web.get(reverse("staff:two_factor_setup"))
    device = TOTPDevice.objects.get(confirmed=False)
    response = web.post(
        reverse("staff:two_factor_setup"), {"token": code_for(device), "next": "/today/"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = web.get(response["Location"])
    codes = re.findall(r"<li>([a-z0-9]+)</li>", page.content.decode())
    return device, codes


def test_a_password_alone_gets_a_new_therapist_only_to_the_setup_page():
    user = UserFactory(username="tess", groups=["therapist"])
    web = _signed_in(user)
    response = web.get(reverse("intake:today"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('staff:two_factor_setup')}?next=%2Ftoday%2F"
    page = web.get(response["Location"])
    assert page.status_code == 200
    secret = page.context["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert page.context["qr_code"].startswith("data:image/svg+xml")
    # The admin and every other page wait too.
    for url in (reverse("admin:index"), reverse("followup:escalation_queue")):
        assert web.get(url)["Location"].startswith(reverse("staff:two_factor_setup"))


def test_setting_up_an_authenticator_gives_recovery_codes_once_and_opens_the_pages():
    user = UserFactory(username="tess", groups=["therapist"])
    web = _signed_in(user)
    web.get(reverse("staff:two_factor_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = web.post(reverse("staff:two_factor_setup"), {"token": "000000x"})
    assert wrong.status_code == 400
    time.sleep(THROTTLE_SECONDS)  # django-otp slows down the next try after a wrong code
    device, codes = _enrol(web)
    device.refresh_from_db()
    assert device.confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    assert web.get(reverse("intake:today")).status_code == 200
    # Shown once: the page does not show them again.
    again = web.get(reverse("staff:two_factor_recovery_codes"))
    assert not any(code in again.content.decode() for code in codes)


def test_signing_in_again_needs_a_code_from_the_app():
    user = UserFactory(username="tess", groups=["therapist"])
    device, _ = _enrol(_signed_in(user))
    web = _signed_in(user)
    response = web.get(reverse("intake:today"))
    assert response["Location"].startswith(reverse("staff:two_factor_verify"))
    assert web.post(reverse("staff:two_factor_verify"), {"token": "123456"}).status_code == 400
    assert web.get(reverse("intake:today")).status_code == 302
    time.sleep(THROTTLE_SECONDS)
    # The next step's code: the one just used at enrolment cannot be used twice.
    ok = web.post(
        reverse("staff:two_factor_verify"), {"token": code_for(device, ahead=1), "next": "/today/"}
    )
    assert (ok.status_code, ok["Location"]) == (302, "/today/")
    assert web.get(reverse("intake:today")).status_code == 200


def test_a_recovery_code_signs_in_once():
    user = UserFactory(username="frank", groups=["front_desk"])
    _, codes = _enrol(_signed_in(user))
    first = _signed_in(user)
    assert first.post(reverse("staff:two_factor_verify"), {"token": codes[0]}).status_code == 302
    assert first.get(reverse("admin:index")).status_code == 200
    second = _signed_in(user)
    assert second.post(reverse("staff:two_factor_verify"), {"token": codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_a_verified_user_can_replace_the_recovery_codes():
    user = UserFactory(username="tess", groups=["therapist"])
    web = _signed_in(user)
    _, old = _enrol(web)
    response = web.post(reverse("staff:two_factor_recovery_codes"))
    assert response.status_code == 302
    page = web.get(response["Location"]).content.decode()
    new = re.findall(r"<li>([a-z0-9]+)</li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)


def test_an_unverified_user_cannot_replace_the_authenticator_without_a_code():
    user = UserFactory(username="tess", groups=["therapist"])
    _enrol(_signed_in(user))
    thief = _signed_in(user)  # has the password, not the phone
    response = thief.get(reverse("staff:two_factor_setup"))
    assert response["Location"].startswith(reverse("staff:two_factor_verify"))
    refused = thief.post(reverse("staff:two_factor_recovery_codes"))
    assert refused["Location"].startswith(reverse("staff:two_factor_verify"))
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_public_pages_need_no_second_step():
    user = UserFactory(username="tess", groups=["therapist"])
    web = _signed_in(user)
    assert web.get(reverse("health")).status_code in (200, 503)
    assert web.get(reverse("followup:answer", args=["x" * 43])).status_code == 404


def test_the_demo_logins_can_be_exempt(settings):
    settings.STAFF_2FA_EXEMPT = ["therapist"]
    exempt = UserFactory(username="therapist", groups=["therapist"])
    assert _signed_in(exempt).get(reverse("intake:today")).status_code == 200
    other = UserFactory(username="tess", groups=["therapist"])
    assert _signed_in(other).get(reverse("intake:today")).status_code == 302


def _settings_in_a_new_process(**env) -> subprocess.CompletedProcess:
    code = (
        "from django.conf import settings; "
        "print(settings.STAFF_2FA_REQUIRED, settings.STAFF_2FA_EXEMPT)"
    )
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=_production_env() | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_two_factor_is_required_in_production_and_exemptions_are_refused_there():
    production = _settings_in_a_new_process()
    assert production.stdout.strip() == "True []", production.stderr
    development = _settings_in_a_new_process(DEBUG="1", STAFF_2FA_EXEMPT="therapist,frontdesk")
    assert development.stdout.strip() == "False ['therapist', 'frontdesk']", development.stderr
    refused = _settings_in_a_new_process(STAFF_2FA_EXEMPT="therapist")
    assert refused.returncode != 0
    assert "STAFF_2FA_EXEMPT: only allowed with DEBUG=1" in refused.stderr


def test_make_run_exempts_exactly_the_demo_logins_it_prints():
    from clinic.management.commands.seed_demo import DEMO_LOGINS

    makefile = (ROOT / "Makefile").read_text()
    exempt = re.search(r"^DEMO_LOGINS := (.+)$", makefile, re.M).group(1).split(",")
    assert set(exempt) == {username for username, *_ in DEMO_LOGINS}
    assert "STAFF_2FA_EXEMPT=$(DEMO_LOGINS)" in makefile
