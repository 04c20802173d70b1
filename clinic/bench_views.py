"""Floor views for `make bench`: the cheapest page, form and write this stack can serve.

Every benchmark figure is a ratio to a floor measured in the same run on the same server, so
these views go through the same middleware (sessions, CSRF, auth, CSP, axes) and do the least
a real view could: render a page, or do one INSERT. They are routed only when the
environment sets BENCH_FLOOR=1 (see clinic/urls.py); production never serves them.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from messaging.models import OutboxMessage

FLOOR_CHANNEL = "bench"
_FORM = (
    '<!doctype html><title>floor</title><form method="post">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
    '<input name="score"><button>Send</button></form>'
)


@require_GET
def floor_form(request):
    """Serve a bare form with a CSRF token (the floor for a public GET page)."""
    return HttpResponse(_FORM.format(token=get_token(request)))


@require_POST
def floor_insert(request):
    """Do one INSERT and redirect (the floor for a form POST that stores one row)."""
    OutboxMessage.objects.create(channel=FLOOR_CHANNEL, to="floor", body=request.POST.get("n", ""))
    return redirect("bench_floor:form")


@login_required
@require_GET
def floor_page(request):
    """Render an empty staff page on the site layout (the floor for a staff page)."""
    return render(request, "base.html", {})


app_name = "bench_floor"

urlpatterns = [
    path("form/", floor_form, name="form"),
    path("insert/", floor_insert, name="insert"),
    path("page/", floor_page, name="page"),
]
