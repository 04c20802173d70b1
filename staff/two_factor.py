"""Two-factor sign-in for staff: an authenticator app (TOTP) and one-time recovery codes.

Built on django-otp (TOTPDevice, StaticDevice), which checks the codes, refuses a code used
twice and slows down repeated wrong tries. STAFF_2FA_REQUIRED (on by default when DEBUG is
off) makes every staff page wait until the session is verified with a second factor; a
user without a device is sent to set one up first. STAFF_2FA_EXEMPT (development only, for
the demo logins of `make run`) lists usernames spared.
"""

from __future__ import annotations

import base64

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

AUTHENTICATOR = "authenticator app"
RECOVERY = "recovery codes"
RECOVERY_CODE_COUNT = 10


def required_for(user) -> bool:
    """Return whether `user` must pass a second factor before using any staff page."""
    if not settings.STAFF_2FA_REQUIRED or not user.is_authenticated:
        return False
    return user.get_username() not in settings.STAFF_2FA_EXEMPT


def is_verified(user) -> bool:
    return bool(getattr(user, "is_verified", lambda: False)())


def has_authenticator(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_authenticator(user) -> TOTPDevice:
    """Return the user's authenticator being set up (a new secret the first time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def secret(device: TOTPDevice) -> str:
    """Return the device's key as the base32 text authenticator apps take."""
    return base64.b32encode(device.bin_key).decode()


def qr_code(device: TOTPDevice) -> str:
    """Return the device's otpauth:// link as an SVG data URI (no inline script or style)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def confirm_authenticator(request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the new authenticator with a code from it; return fresh recovery codes.

    On success the session counts as verified and the user's earlier devices are replaced.
    Returns None when the code is wrong (nothing changes then).
    """
    if not device.verify_token(token.strip()):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(device.user)
    django_otp.login(request, device)
    return codes


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones; return them."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def verify(request, token: str) -> bool:
    """Verify the session with a code from the authenticator or a recovery code (used up)."""
    device = django_otp.match_token(request.user, token.strip().replace(" ", ""))
    if device is None or not device.confirmed:
        return False
    django_otp.login(request, device)
    return True
