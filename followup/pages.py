"""The check-in's fixed pages, rendered once per process: the blank answer form, and the
advice shown after an answer.

Before an answer is sent the page is the same for every client: only the CSRF token differs
(a fresh mask of the browser's secret on every response). After it, the page depends on the
advice's level alone (followup.advice never repeats an answer). Each is rendered once per set
of values it shows (the level, the clinic's name and phones, the static files' URL, the
language), the blank form with a placeholder where the token goes, and each request gets a
copy (with its own token). A request with messages waiting, DEBUG (templates edited while the
server runs) and a form sent back with errors are rendered from scratch as before.
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language

from followup.advice import advice_for
from followup.forms import CheckInAnswerForm

TEMPLATE = "followup/answer.html"
DONE_TEMPLATE = "followup/answer_done.html"
# Stands for the request's token in the stored page; a CSRF token never contains a dash.
TOKEN_SLOT = "csrf-token-slot-7d1c"  # noqa: S105 (a placeholder, not a secret)
MAX_PAGES = 16
_pages: dict[tuple, str] = {}


def blank_answer_page(request: HttpRequest) -> HttpResponse:
    """Return the answer form as first shown, with this request's CSRF token."""
    return _once(request, TEMPLATE, {"form": CheckInAnswerForm}, token=True)


def advice_page(request: HttpRequest, level: str | None) -> HttpResponse:
    """Return the page after an answer: the advice for `level` (followup.advice.LEVELS)."""
    return _once(request, DONE_TEMPLATE, {"advice": lambda: advice_for(level)}, key=level)


def _once(request, template, context, *, key=None, token=False) -> HttpResponse:
    # `context` holds callables, called only when the page is rendered.
    if settings.DEBUG or len(get_messages(request)):
        return render(request, template, {k: make() for k, make in context.items()})
    shown = (
        template,
        key,
        settings.CLINIC_NAME,
        settings.CLINIC_PHONE,
        settings.CLINIC_EMERGENCY_NUMBER,
        settings.STATIC_URL,
        get_language(),
    )
    page = _pages.get(shown)
    if page is None:
        values = {k: make() for k, make in context.items()}
        if token:
            values["csrf_token"] = TOKEN_SLOT
        # Rendered as for a client with no account: whoever opens a link first (a therapist
        # still signed in, say) must leave nothing of theirs in the page every client gets.
        reader = copy.copy(request)
        reader.user = AnonymousUser()
        page = render_to_string(template, values, request=reader)
        if len(_pages) >= MAX_PAGES:
            _pages.clear()
        _pages[shown] = page
    return HttpResponse(page.replace(TOKEN_SLOT, get_token(request)) if token else page)


@receiver(setting_changed, dispatch_uid="followup-blank-answer-page")
def _forget_pages(**kwargs) -> None:
    # Tests change settings (templates, the clinic's details) while the process runs.
    _pages.clear()
