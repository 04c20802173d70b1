"""The development outbox page: every message "sent" in development, with its links."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from messaging.models import OutboxMessage


def outbox(request: HttpRequest) -> HttpResponse:
    """List development outbox messages, newest first (only with DEBUG, else 404)."""
    if not settings.DEBUG:
        raise Http404("The outbox exists only in development.")
    return _outbox(request)


@login_required
def _outbox(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/outbox.html", {"outbox": OutboxMessage.objects.all()[:200]})
