"""Refuse every named page that the user's role does not declare in staff.access."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from staff import access
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
