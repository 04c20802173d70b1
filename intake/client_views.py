"""The client's health form pages: a link token, then the client's date of birth, no login.

GET never changes anything; each step's answers are kept when it is posted. Every page
answers the same to a wrong date of birth and to a locked link, and one page stands for
every link that cannot be used (unknown, expired, answered, cancelled).
"""

from __future__ import annotations

import functools

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from intake import client_form, client_links, previsit
from intake.client_form import BY_SLUG, SLUGS
from intake.forms import DateInput
from intake.linkmodels import IntakeLink
from messaging import throttle
from messaging.models import LinkStatus
from staff.addresses import client_address
from staff.forms import SingleValueMixin

SESSION_KEY = "intake_links"


class DateOfBirthForm(SingleValueMixin, forms.Form):
    date_of_birth = forms.DateField(
        label=_("Your date of birth"),
        widget=DateInput(attrs={"autocomplete": "bday"}),
        error_messages={
            "required": _("Enter your date of birth."),
            "invalid": _("Enter a real date, for example 1980-05-31."),
        },
    )


class ChangedForm(SingleValueMixin, forms.Form):
    changed = forms.ChoiceField(
        label=_("Has anything changed in your health since your last visit?"),
        choices=[
            ("no", _("No, nothing has changed")),
            ("yes", _("Yes, something has changed")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one answer.")},
    )


def link_endpoint(view):
    """Rate limit per client address and keep the link out of referrers and caches.

    The link token is the credential on these pages, so they are exempt from CSRF (as the
    check-in pages: a cross-site form cannot know the token).
    """

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        limited = throttle.over_limit(
            request,
            scope="intake",
            requests=settings.INTAKE_RATE_LIMIT_REQUESTS,
            window=settings.INTAKE_RATE_LIMIT_WINDOW,
        )
        if limited:
            response = render(request, "intake/client/rate_limited.html", status=429)
            response["Retry-After"] = str(settings.INTAKE_RATE_LIMIT_WINDOW)
        else:
            response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _unusable(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/client/link_unusable.html", status=404)


def _verified(request: HttpRequest, link: IntakeLink) -> bool:
    return link.pk in request.session.get(SESSION_KEY, [])


def _step_url(token: str, slug: str) -> str:
    return reverse("intake:link_step", args=[token, slug])


def _context(link: IntakeLink, token: str, **extra) -> dict:
    return {"link": link, "token": token, "visit": link.visit, "steps": client_form.STEPS, **extra}


@link_endpoint
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, token: str) -> HttpResponse:
    """Ask for the client's date of birth before anything else is shown."""
    link = client_links.find_link(token)
    # A locked link shows this page as an open one does: only the clinic knows it is locked.
    if link is None or not link.link_works():
        if link is not None and link.status == LinkStatus.ANSWERED and _verified(request, link):
            return redirect("intake:link_done", token=token)
        return _unusable(request)
    if request.method == "GET" and _verified(request, link) and link.locked_at is None:
        return redirect(_step_url(token, client_links.next_step(link)))
    form = DateOfBirthForm(request.POST if request.method == "POST" else None)
    wrong = False
    if form.is_valid():
        if client_links.check_date_of_birth(link, form.cleaned_data["date_of_birth"]):
            request.session.cycle_key()
            request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), link.pk]
            return redirect(_step_url(token, client_links.next_step(link)))
        # A fresh form: the page repeats nothing typed, so a locked link reads the same.
        wrong = True
        form = DateOfBirthForm()
        form.fields["date_of_birth"].widget.attrs["aria-describedby"] = "dob-wrong"
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "intake/client/start.html",
        _context(link, token, form=form, wrong=wrong),
        status=status,
    )


def _open_link(request: HttpRequest, token: str) -> IntakeLink | HttpResponse:
    link = client_links.find_link(token)
    if link is None:
        return _unusable(request)
    if link.status == LinkStatus.ANSWERED and _verified(request, link):
        return redirect("intake:link_done", token=token)
    if not _verified(request, link):
        # Before the date of birth, a locked link leads where an open one does.
        return redirect("intake:link", token=token)
    if not link.usable():
        return _unusable(request)
    return link


@link_endpoint
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, token: str, slug: str) -> HttpResponse:
    """Show one step with the answers given so far (GET); keep its answers (POST)."""
    if slug not in BY_SLUG:
        raise Http404("No such step.")
    link = _open_link(request, token)
    if isinstance(link, HttpResponse):
        return link
    current = BY_SLUG[slug]
    if not client_links.steps_allowed(link, current):
        # Nothing is kept from a step reached out of order: back to the first one not done.
        return redirect(_step_url(token, client_links.next_step(link)) + "?order=1")
    if slug == "about":
        return _about(request, link, token)
    if slug == "consent":
        return _consent(request, link, token)
    visit = link.visit
    if request.method == "POST":
        form = client_form.bound_form(
            visit=visit, draft=link.draft, posted=request.POST, step=current
        )
        if not client_form.step_errors(form, current):
            try:
                kept = client_links.save_step(
                    link, slug=slug, values=client_form.step_values(form, current)
                )
            except client_links.DraftTooLarge:
                return _render_step(request, link, token, current, form, too_large=True)
            if not kept:
                return _unusable(request)
            following = SLUGS[SLUGS.index(slug) + 1]
            if request.POST.get("then") == "summary" and "consent" in _reachable(link):
                following = "consent"
            return redirect(_step_url(token, following))
        return _render_step(request, link, token, current, form)
    form = client_form.display_form(visit=visit, draft=link.draft)
    return _render_step(request, link, token, current, form)


def _reachable(link: IntakeLink) -> set[str]:
    return {s.slug for s in client_form.STEPS if client_links.steps_allowed(link, s)}


def _render_step(request, link, token, current, form, *, too_large=False) -> HttpResponse:
    index = SLUGS.index(current.slug)
    context = _context(
        link,
        token,
        form=form,
        step=current,
        number=index + 1,
        total=len(SLUGS),
        previous=SLUGS[index - 1] if index else None,
        then=request.GET.get("then") or request.POST.get("then") or "",
        order=request.GET.get("order") == "1",
        too_large=too_large,
        has_errors=request.method == "POST",
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/client/step.html", context, status=status)


def _about(request: HttpRequest, link: IntakeLink, token: str) -> HttpResponse:
    previous = link.visit.client.latest_intake()
    form = ChangedForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and (previous is None or form.is_valid()):
        if previous is None:
            kept = client_links.save_step(link, slug="about", values={})
            following = "conditions"
        elif form.cleaned_data["changed"] == "no":
            # Every topic is confirmed as it was: straight to the summary to check and sign.
            kept = client_links.save_step(
                link,
                slug="about",
                values={},
                replace_all=client_form.draft_from_intake(previous),
                done=SLUGS[:-1],
            )
            following = "consent"
        else:
            fresh = client_form.draft_from_intake(previous) if not link.draft else None
            kept = client_links.save_step(link, slug="about", values={}, replace_all=fresh)
            following = "conditions"
        if not kept:
            return _unusable(request)
        return redirect(_step_url(token, following))
    context = _context(
        link,
        token,
        form=form,
        previous=previous,
        step=BY_SLUG["about"],
        number=1,
        total=len(SLUGS),
        order=request.GET.get("order") == "1",
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/client/about.html", context, status=status)


def _consent(request: HttpRequest, link: IntakeLink, token: str) -> HttpResponse:
    visit = link.visit
    current = BY_SLUG["consent"]
    preview = client_form.bound_form(visit=visit, draft=link.draft)
    if request.method == "POST":
        form = client_form.bound_form(
            visit=visit, draft=link.draft, posted=request.POST, step=current
        )
        if form.is_valid():
            client_links.submit(link, form=form, ip=client_address(request))
            # Submitted now, or already (a second press): the same thank-you either way.
            return redirect("intake:link_done", token=token)
    else:
        form = client_form.ClientIntakeForm(client=visit.client)
    context = _context(
        link,
        token,
        form=form,
        step=current,
        number=len(SLUGS),
        total=len(SLUGS),
        previous=SLUGS[-2],
        summary=client_form.summary(preview),
        fix=client_form.first_step_with_errors(preview),
        order=False,
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/client/consent.html", context, status=status)


@link_endpoint
@require_http_methods(["GET"])
def done(request: HttpRequest, token: str) -> HttpResponse:
    """Thank the client (never the screening's result)."""
    link = client_links.find_link(token)
    if link is None or link.status != LinkStatus.ANSWERED or not _verified(request, link):
        return _unusable(request)
    when = timezone.localtime(link.visit.scheduled_at)
    return render(request, "intake/client/done.html", {"when": when})


@link_endpoint
@require_http_methods(["GET", "POST"])
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """Ask to confirm (GET) and stop further messages to the client (POST)."""
    link = client_links.find_link(token)
    if link is None:
        return _unusable(request)
    client = link.visit.client
    if request.method == "POST":
        previsit.opt_out(client=client)
        return render(request, "intake/client/opted_out.html")
    return render(
        request, "intake/client/opt_out.html", {"already": client.opted_out_at is not None}
    )
