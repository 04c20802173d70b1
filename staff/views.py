"""Staff sign-in's second step: set up an authenticator, verify a session, recovery codes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from staff import two_factor
from staff.forms import TokenForm

RECOVERY_CODES_SESSION_KEY = "staff_recovery_codes"
# One message for every refusal (wrong, used, or too soon after wrong ones): each wrong try
# makes the next one wait longer (django-otp's throttling).
WRONG_CODE = (
    "That code did not work: it is wrong, was used already, or came too soon after a wrong "
    "one. Wait a few seconds and enter the code the app shows now."
)


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return resolve_url("home")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Show a new authenticator's QR code and secret; confirm it with a code from the app."""
    if two_factor.has_authenticator(request.user) and not two_factor.is_verified(request.user):
        # Replacing a device needs the current one first (or a recovery code).
        return redirect(f"{resolve_url('staff:two_factor_verify')}?next={request.path}")
    device = two_factor.pending_authenticator(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_authenticator(request, device, form.cleaned_data["token"])
        if codes is not None:
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            return redirect(
                f"{resolve_url('staff:two_factor_recovery_codes')}?next={_next(request)}"
            )
        form.add_error("token", WRONG_CODE)
    context = {
        "form": form,
        "qr_code": two_factor.qr_code(device),
        "secret": two_factor.secret(device),
        "next": _next(request),
    }
    return render(
        request, "staff/two_factor_setup.html", context, status=400 if form.errors else 200
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """Ask for a code from the authenticator app, or a recovery code."""
    if not two_factor.has_authenticator(request.user) and not two_factor.is_verified(request.user):
        return redirect(f"{resolve_url('staff:two_factor_setup')}?next={_next(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request, form.cleaned_data["token"]):
            return redirect(_next(request))
        form.add_error("token", WRONG_CODE)
    status = 400 if form.errors else 200
    context = {"form": form, "next": _next(request)}
    return render(request, "staff/two_factor_verify.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_recovery_codes(request):
    """Show new recovery codes once; a verified user may make new ones (the old stop working)."""
    if request.method == "POST":
        if not two_factor.is_verified(request.user):
            return redirect(f"{resolve_url('staff:two_factor_verify')}?next={request.path}")
        request.session[RECOVERY_CODES_SESSION_KEY] = two_factor.new_recovery_codes(request.user)
        messages.success(request, "New recovery codes made; the old ones no longer work.")
        return redirect("staff:two_factor_recovery_codes")
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    context = {"codes": codes, "next": _next(request)}
    return render(request, "staff/two_factor_recovery_codes.html", context)
