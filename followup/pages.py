"""The blank check-in answer page, rendered once per process and served with each client's
CSRF token.

Before an answer is sent the page is the same for every client: only the CSRF token differs
(a fresh mask of the browser's secret on every response). It is rendered once per set of
values it shows (the clinic's name and phone, the static files' URL, the language) with a
placeholder where the token goes, and each request gets a copy with its own token. A
request with messages waiting, DEBUG (templates edited while the server runs) and a form
sent back with errors are rendered from scratch as before.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language

from followup.forms import CheckInAnswerForm

TEMPLATE = "followup/answer.html"
# Stands for the request's token in the stored page; a CSRF token never contains a dash.
TOKEN_SLOT = "csrf-token-slot-7d1c"  # noqa: S105 (a placeholder, not a secret)
MAX_PAGES = 8
_pages: dict[tuple, str] = {}


def blank_answer_page(request: HttpRequest) -> HttpResponse:
    """Return the answer form as first shown, with this request's CSRF token."""
    if settings.DEBUG or len(get_messages(request)):
        return render(request, TEMPLATE, {"form": CheckInAnswerForm()})
    key = (settings.CLINIC_NAME, settings.CLINIC_PHONE, settings.STATIC_URL, get_language())
    page = _pages.get(key)
    if page is None:
        context = {"form": CheckInAnswerForm(), "csrf_token": TOKEN_SLOT}
        page = render_to_string(TEMPLATE, context, request=request)
        if len(_pages) >= MAX_PAGES:
            _pages.clear()
        _pages[key] = page
    return HttpResponse(page.replace(TOKEN_SLOT, get_token(request)))


@receiver(setting_changed, dispatch_uid="followup-blank-answer-page")
def _forget_pages(**kwargs) -> None:
    # Tests change settings (templates, the clinic's details) while the process runs.
    _pages.clear()
