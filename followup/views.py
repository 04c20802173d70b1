"""Follow-up pages: the client's answer and opt-out pages (a link token, no login) and the
staff's escalation queue, no-response list and pain chart."""

from __future__ import annotations

import datetime
import functools
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from followup import answers, escalations, scheduling
from followup import escalation as policy
from followup.advice import EMERGENCY
from followup.forms import CheckInAnswerForm, EscalationNoteForm
from followup.models import (
    CheckInAnswer,
    CheckInStatus,
    Escalation,
    EscalationLevel,
    EscalationStatus,
)
from followup.pages import advice_page, blank_answer_page
from intake.audit import record_health_read, record_health_reads
from intake.models import Visit
from messaging import throttle
from staff.roles import is_front_desk, is_therapist

logger = logging.getLogger(__name__)

RATE_LIMIT_REQUESTS = settings.FOLLOWUP_RATE_LIMIT_REQUESTS
RATE_LIMIT_WINDOW = settings.FOLLOWUP_RATE_LIMIT_WINDOW  # seconds
NO_RESPONSE_CALLED_SHOWN = 50
NO_RESPONSE_PER_PAGE = 50
# Check-ins run out within about ten days of a visit (the last offset plus the link's life),
# so a month covers everyone still worth a call and keeps the list off the whole history.
NO_RESPONSE_DAYS = 30
ESCALATIONS_PER_PAGE = 50


# ---- client pages ------------------------------------------------------------------------


def _over_rate_limit(request: HttpRequest) -> bool:
    return throttle.over_limit(
        request, scope="followup", requests=RATE_LIMIT_REQUESTS, window=RATE_LIMIT_WINDOW
    )


def token_endpoint(view):
    """Rate limit per client IP and keep the link out of referrers and caches.

    The link token is the only credential on these pages, so they are exempt from CSRF: a
    cross-site form cannot know the token, and with `Referrer-Policy: no-referrer` a browser
    posts the answer form with `Origin: null`, which Django's CSRF check would refuse.
    """

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _over_rate_limit(request):
            response = render(request, "followup/rate_limited.html", status=429)
            response["Retry-After"] = str(RATE_LIMIT_WINDOW)
        else:
            response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _link_unusable(request: HttpRequest) -> HttpResponse:
    # One page for unknown, expired and cancelled links: the page must not tell
    # someone guessing tokens which ones exist.
    return render(request, "followup/link_unusable.html", status=404)


def _answer_received(request: HttpRequest, checkin) -> HttpResponse:
    # Someone holding the link of an answered check-in (the client, again): say the answer
    # arrived and when, and nothing of what it said. A link that was never valid, expired
    # or was cancelled keeps the one generic page.
    received = CheckInAnswer.objects.filter(checkin=checkin).values_list("answered_at", flat=True)
    return render(request, "followup/answer_received.html", {"answered_at": received.first()})


def _unusable_or_received(request: HttpRequest, token: str) -> HttpResponse:
    # Only links that cannot take an answer come here (one more query, never on the way to
    # the form): an answered one confirms the answer arrived, any other gets the one page.
    checkin = answers.find_checkin(token)
    if checkin is not None and checkin.status == CheckInStatus.ANSWERED:
        return _answer_received(request, checkin)
    return _link_unusable(request)


@token_endpoint
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """Show the check-in form (GET changes nothing) and record the one answer (POST)."""
    if request.method == "GET":
        if answers.find_answerable(token) is None:
            return _unusable_or_received(request, token)
        return blank_answer_page(request)
    form = CheckInAnswerForm(request.POST)
    if form.is_valid():
        # The check-in is found, locked and its link closed by one statement; an unusable link
        # records nothing.
        outcome = answers.record_link_answer(token=token, **form.cleaned_data)
        if not outcome.recorded:
            return _unusable_or_received(request, token)
        emergency = policy.needs_emergency_services(form.cleaned_data["red_flags"])
        return advice_page(request, EMERGENCY if emergency else outcome.level)
    if answers.find_answerable(token) is None:
        return _unusable_or_received(request, token)
    return render(request, "followup/answer.html", {"form": form})


@token_endpoint
@require_http_methods(["GET", "POST"])
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """Ask to confirm (GET) and stop all further check-ins for the client (POST)."""
    # Any link the client received works here, answered or expired, so the opt-out link in
    # an old message still stops the next ones.
    checkin = answers.find_checkin(token)
    if checkin is None:
        return _link_unusable(request)
    client = checkin.visit.client
    if request.method == "POST":
        scheduling.opt_out(client=client)
        return render(request, "followup/opted_out.html")
    return render(request, "followup/opt_out.html", {"already": client.opted_out_at is not None})


# ---- staff pages -------------------------------------------------------------------------


def staff_required(view):
    """Let therapists and front desk through; send anonymous users to log in."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not (is_therapist(request.user) or is_front_desk(request.user)):
            raise PermissionDenied("Only clinic staff may see follow-ups.")
        return view(request, *args, **kwargs)

    return wrapper


def therapist_required(view):
    """Let therapists through (health data); refuse everyone else."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_therapist(request.user):
            raise PermissionDenied("Only therapists may see health data.")
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
def escalation_queue(request: HttpRequest) -> HttpResponse:
    """List escalations by status; therapists see reasons, front desk only level and contact."""
    status = request.GET.get("status", EscalationStatus.OPEN)
    if status not in EscalationStatus.values:
        status = EscalationStatus.OPEN
    urgent_first = Case(
        When(level=EscalationLevel.URGENT, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    queue = (
        Escalation.objects.filter(status=status)
        .select_related(
            "visit__client", "visit__therapist", "checkin", "acknowledged_by", "resolved_by"
        )
        .order_by(urgent_first, "opened_at", "id")
    )
    if status == EscalationStatus.RESOLVED:
        queue = queue.order_by("-resolved_at", "-id")[:100]
    page = Paginator(queue, ESCALATIONS_PER_PAGE).get_page(request.GET.get("page"))
    clinical = is_therapist(request.user)
    if clinical:
        # Reasons and notes are health data: one read-log row per client on the page.
        record_health_reads(request, [e.visit.client_id for e in page], "escalation queue")
        _attach_client_notes(page)
    context = {
        "escalations": page,
        "status": status,
        "tabs": EscalationStatus.choices,
        "clinical": clinical,
        "note_form": EscalationNoteForm(),
    }
    return render(request, "followup/escalation_queue.html", context)


def _attach_client_notes(escalations_shown) -> None:
    """Give each escalation shown the notes the client wrote with the visit's answers."""
    notes: dict[int, list[dict]] = {}
    written = (
        CheckInAnswer.objects.filter(checkin__visit__in=[e.visit_id for e in escalations_shown])
        .exclude(note="")
        .select_related("checkin")
        .order_by("checkin__policy_hours")
    )
    for answer in written:
        notes.setdefault(answer.checkin.visit_id, []).append(
            {
                "checkin": f"Check-in {scheduling.checkin_position(answer.checkin.policy_hours)}",
                "text": answer.note,
            }
        )
    for escalation in escalations_shown:
        escalation.client_notes = notes.get(escalation.visit_id, [])


def _note(request: HttpRequest) -> str:
    form = EscalationNoteForm(request.POST)
    return form.cleaned_data["note"] if form.is_valid() else ""


@staff_required
@require_POST
def escalation_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge an open escalation with a note (therapists and front desk)."""
    escalation = get_object_or_404(Escalation, pk=pk)
    if escalations.acknowledge_escalation(
        escalation=escalation, by=request.user, note=_note(request)
    ):
        messages.success(request, "Escalation acknowledged.")
    else:
        messages.info(request, "That escalation was already acknowledged.")
    return redirect(f"{_queue_url()}?status={EscalationStatus.OPEN}")


@therapist_required
@require_POST
def escalation_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolve an escalation with a note: a clinical decision, so therapists only."""
    escalation = get_object_or_404(Escalation, pk=pk)
    back = escalation.status
    if escalations.resolve_escalation(escalation=escalation, by=request.user, note=_note(request)):
        messages.success(request, "Escalation resolved.")
    else:
        messages.info(request, "That escalation was already resolved.")
    return redirect(f"{_queue_url()}?status={back}")


def _queue_url() -> str:
    return reverse("followup:escalation_queue")


@staff_required
def no_response(request: HttpRequest) -> HttpResponse:
    """List visits whose check-ins all ran out unanswered, for front desk to call."""
    since = timezone.now() - datetime.timedelta(days=NO_RESPONSE_DAYS)
    visits = escalations.no_response_visits().filter(completed_at__gte=since)
    visits = visits.order_by("-completed_at", "-id")
    to_call = visits.filter(followup_called_at__isnull=True)
    context = {
        "to_call": Paginator(to_call, NO_RESPONSE_PER_PAGE).get_page(request.GET.get("page")),
        "called": visits.filter(followup_called_at__isnull=False)[:NO_RESPONSE_CALLED_SHOWN],
        "days": NO_RESPONSE_DAYS,
    }
    return render(request, "followup/no_response.html", context)


@staff_required
@require_POST
def mark_called(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that a non-responding client was called."""
    visit = get_object_or_404(escalations.no_response_visits(), pk=pk)
    if escalations.mark_called(visit=visit):
        messages.success(request, f"Marked {visit.client} as called.")
    return redirect("followup:no_response")


@therapist_required
def pain_chart(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one visit's pain over the follow-up (health data: therapists only, logged)."""
    visit = get_object_or_404(Visit.objects.select_related("client", "therapist"), pk=pk)
    record_health_read(request, visit.client, "follow-up pain chart")
    return render(request, "followup/pain_chart.html", {"visit": visit})
