"""Deny by default (staff.access) and the second step of staff sign-in (staff.two_factor)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url

from staff import access, two_factor
from staff.admin import request_role


class PageAccessMiddleware:
    """Deny by default: a page that staff.access does not give the role is refused.

    Anonymous users are sent to log in; staff get 403. Admin pages are left to the admin,
    where staff.admin.RoleAccessMixin applies the same declaration per model. A new view
    is therefore closed to every role until it is declared.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        view_name = match.view_name if match is not None else ""
        if access.page_allowed(request_role(request), view_name):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied("This page is not open to your role.")


# Pages an unverified staff member may still open: signing in and out, the second step.
SECOND_STEP_PAGES = access.PUBLIC_PAGES | {"admin:login", "admin:logout"}


class TwoFactorMiddleware:
    """With STAFF_2FA_REQUIRED, send a signed-in user to the second step before any page.

    A user who has an authenticator is asked for a code; one who has none sets one up.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not two_factor.required_for(user) or two_factor.is_verified(user):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SECOND_STEP_PAGES:
            return None
        step = "verify" if two_factor.has_authenticator(user) else "setup"
        target = resolve_url(f"staff:two_factor_{step}")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
