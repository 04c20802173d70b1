"""Therapist pages: the day list, clients, intakes and visits."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from intake import extensions, phones, services
from intake.audit import record_health_read
from intake.client_forms import ClientForm, ClientSearchForm
from intake.diff import diff_intakes
from intake.forms import IntakeForm
from intake.models import Client, Intake, Visit, VisitStatus
from intake.visit_forms import VisitCompleteForm, VisitForm, VisitReasonForm
from staff.addresses import client_address
from staff.decorators import therapist_required
from statements import rows as statements

WEEK_DAYS = 7  # the week list: a day and the six after it
CLIENTS_PER_PAGE = 25


@therapist_required
def today(request):
    """List one day's visits (today unless ?day=YYYY-MM-DD; the user's own unless ?all=1),
    or with ?week=1 the seven days from that day, with what each visit still needs."""
    day = _day_asked(request)
    show_all = request.GET.get("all") == "1"
    week = request.GET.get("week") == "1"
    days = WEEK_DAYS if week else 1
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=days), dt.time.min))
    visits = Visit.objects.filter(scheduled_at__gte=start, scheduled_at__lt=end)
    if not show_all:
        visits = visits.filter(therapist=request.user)
    place = "week" if week else "lists"
    visits = extensions.annotate_visits(
        visits.select_related("client", "therapist").order_by("scheduled_at", "id"), place=place
    )
    step = dt.timedelta(days=days)
    context = {
        "visits": visits,
        "show_all": show_all,
        "week": week,
        "day": day,
        "is_today": day == timezone.localdate(),
        "previous_day": (day - step).isoformat(),
        "next_day": (day + step).isoformat(),
        "last_day": day + dt.timedelta(days=days - 1),
        "place": place,
        "week_columns": extensions.columns("week") if week else [],
    }
    return render(request, "intake/today.html", context)


def _day_asked(request) -> dt.date:
    """Return the day in ?day=YYYY-MM-DD, or today when it is missing or not a date."""
    try:
        return dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


@therapist_required
def client_list(request):
    """Find clients by name, email or phone."""
    form = ClientSearchForm(request.GET or None)
    clients = Client.objects.all()
    if form.is_valid() and form.cleaned_data["q"]:
        clients = clients.filter(_client_search(form.cleaned_data["q"]))
    page = Paginator(clients, CLIENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "intake/client_list.html", {"form": form, "page": page})


def _client_search(query: str) -> Q:
    # Every word must match somewhere, so "ana lopez" finds Ana López's record by both names.
    # A whole number typed as people write it ("07700 900555") finds its client too.
    number = phones.search_number(query)
    condition = Q()
    for word in query.split():
        digits = "".join(ch for ch in word if ch.isdigit())
        match = (
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
        if len(digits) >= 4:
            # Phones are stored as E.164 (+447700900123); a local "07700..." drops its 0.
            match |= Q(phone__contains=digits.lstrip("0"))
        condition &= match
    return condition | Q(phone=number) if number else condition


@therapist_required
@require_http_methods(["GET", "POST"])
def client_create(request):
    """Register a new client (contact data and follow-up consent)."""
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = form.save(commit=False)
        given = client.followup_consent
        client.followup_consent_at = timezone.now() if given else None
        client.followup_consent_by = request.user if given else None
        client.followup_consent_source = (
            form.cleaned_data["followup_consent_source"] if given else ""
        )
        client._history_user = request.user
        client.save()
        messages.success(request, f"{client} added. Record their health history next.")
        return redirect("intake:intake_create", client_id=client.pk)
    return render(request, "intake/client_form.html", {"form": form})


@therapist_required
def client_detail(request, client_id: int):
    """Show a client's intakes over time and their visits."""
    client = get_object_or_404(Client, pk=client_id)
    record_health_read(request, client, "client page")
    intakes = client.intakes.select_related("entered_by")
    visits = extensions.annotate_visits(client.visits.select_related("therapist")).order_by(
        "-scheduled_at", "-id"
    )
    context = {"client": client, "intakes": intakes, "visits": visits}
    return render(request, "intake/client_detail.html", context)


@therapist_required
@require_http_methods(["GET", "POST"])
def intake_create(request, client_id: int):
    """Record a new health history; a returning client's last one is shown for review."""
    if request.method == "POST":
        intake, client = _record_intake(request, client_id)
        if intake is not None:
            messages.success(request, "Health history recorded.")
            return redirect("intake:intake_detail", intake_id=intake.pk)
    else:
        client = get_object_or_404(Client, pk=client_id)
    visit = _visit_asked(request, client)
    data = _with_visit_plan(request.POST, visit) if request.method == "POST" else None
    previous = client.latest_intake()
    initial = IntakeForm.initial_from(previous) if previous else {}
    form = IntakeForm(data, client=client, initial=initial)
    if previous:
        record_health_read(request, client, "intake form (previous intake)")
    status = 400 if form.is_bound else 200
    context = {"client": client, "form": form, "previous": previous, "visit": visit}
    return render(request, "intake/intake_form.html", context, status=status)


_CLIENT_READ = ("first_name", "last_name", "date_of_birth")


def _record_intake(request, client_id: int) -> tuple[Intake | None, Client]:
    """Validate and store a posted intake, reading the client once, under its lock.

    A valid form never shows the previous intake (the values sent win over it), and
    intake_record reads it under the lock: it is read only to show errors.
    """
    with transaction.atomic():
        # What the form, the intake and the page need of the client: not its contact details.
        client = statements.select_one(Client, lock=True, fields=_CLIENT_READ, id=client_id)
        if client is None:
            raise Http404("No such client.")
        form = IntakeForm(
            _with_visit_plan(request.POST, _visit_asked(request, client)), client=client
        )
        if not form.is_valid():
            return None, client
        intake = services.intake_record(
            client=client,
            data=form.cleaned_data["intake"],
            by=request.user,
            ip=client_address(request),
            signature_name=form.cleaned_data["signature_name"],
            client_locked=True,
        )
    return intake, client


def _with_visit_plan(post, visit: Visit | None):
    """Return the posted intake with the visit's date and plan in place of any sent."""
    if visit is None:
        return post
    data = post.copy()
    data["visit_date"] = timezone.localtime(visit.scheduled_at).date().isoformat()
    data["planned_modality"] = visit.planned_modality
    data.setlist("focus_regions", list(visit.focus_regions))
    return data


def _visit_asked(request, client: Client) -> Visit | None:
    """Return the client's scheduled visit named by ?visit=<id>, whose date and plan the
    intake takes instead of asking again (they are changed on the visit page)."""
    asked = request.GET.get("visit", "")
    if not asked.isdigit() or len(asked) > 18:  # none asked, or not a visit's id: no query
        return None
    return client.visits.filter(pk=int(asked), status=VisitStatus.SCHEDULED).first()


@therapist_required
def intake_detail(request, intake_id: int):
    """Show one intake as recorded (and what other apps add about it, e.g. screening)."""
    intake = get_object_or_404(Intake.objects.select_related("client", "entered_by"), pk=intake_id)
    record_health_read(request, intake.client, "intake")
    context = {"intake": intake, "client": intake.client}
    return render(request, "intake/intake_detail.html", context)


@therapist_required
def intake_diff(request, intake_id: int):
    """Show what changed between an intake and the one before it."""
    intake = get_object_or_404(Intake.objects.select_related("client", "previous"), pk=intake_id)
    previous = intake.previous or (
        intake.client.intakes.filter(created_at__lt=intake.created_at).first()
    )
    record_health_read(request, intake.client, "intake changes")
    diff = diff_intakes(previous.to_payload() if previous else None, intake.to_payload())
    context = {"intake": intake, "previous": previous, "client": intake.client, "diff": diff}
    return render(request, "intake/intake_diff.html", context)


@therapist_required
@require_http_methods(["GET", "POST"])
def visit_create(request, client_id: int):
    """Schedule a visit for a client on their latest intake."""
    client = get_object_or_404(Client, pk=client_id)
    latest = client.latest_intake()
    initial = {"therapist": request.user.pk}
    if latest:
        initial.update(planned_modality=latest.planned_modality, focus_regions=latest.focus_regions)
    form = VisitForm(request.POST or None, initial=initial)
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.visit_schedule(client=client, by=request.user, **form.cleaned_data)
        except services.VisitError as exc:
            # Booked by someone else between the form's check and this one.
            for problem in exc.problems:
                form.add_error("scheduled_at", problem)
            status = 409
        else:
            messages.success(request, "Visit scheduled.")
            _warn_plan_problems(request, visit)
            return redirect("intake:visit_detail", visit_id=visit.pk)
    context = {"client": client, "form": form, "latest": latest}
    return render(request, "intake/visit_form.html", context, status=status)


@therapist_required
def visit_detail(request, visit_id: int):
    """Show a visit's plan, its screening decision and what can be done next."""
    visit = _get_visit(visit_id)
    return _render_visit(request, visit)


def _get_visit(visit_id: int) -> Visit:
    visits = Visit.objects.select_related("client", "therapist", "intake", "completed_by")
    return get_object_or_404(extensions.annotate_visits(visits), pk=visit_id)


def _render_visit(request, visit: Visit, status: int = 200, **forms):
    record_health_read(request, visit.client, "visit")
    plan = {
        "scheduled_at": timezone.localtime(visit.scheduled_at),
        "therapist": visit.therapist_id,
        "planned_modality": visit.planned_modality,
        "focus_regions": visit.focus_regions,
    }
    limits = extensions.visit_completion_limits(visit) if visit.is_open else None
    # Never preselect a modality the screening blocks: a tap on Complete must not do it.
    performed = visit.planned_modality
    if limits is not None and performed in limits.blocked_modalities:
        performed = ""
    context = {
        "visit": visit,
        "client": visit.client,
        "can_complete": limits is not None and not limits.refused,
        "plan_form": forms.get("plan_form") or VisitForm(initial=plan, prefix="plan"),
        "complete_form": forms.get("complete_form")
        or VisitCompleteForm(initial={"performed_modality": performed}),
        "defer_form": forms.get("defer_form") or VisitReasonForm(prefix="defer"),
        "cancel_form": forms.get("cancel_form") or VisitReasonForm(prefix="cancel"),
        "problems": forms.get("problems") or [],
    }
    return render(request, "intake/visit_detail.html", context, status=status)


@therapist_required
@require_POST
def visit_plan(request, visit_id: int):
    """Change a scheduled visit's time, therapist, modality or focus regions."""
    visit = _get_visit(visit_id)
    form = VisitForm(request.POST, prefix="plan", visit=visit)
    if not form.is_valid():
        return _render_visit(request, visit, 400, plan_form=form)
    try:
        changed = services.visit_change_plan(visit=visit, by=request.user, **form.cleaned_data)
    except services.VisitError as exc:
        return _render_visit(request, visit, 409, plan_form=form, problems=exc.problems)
    messages.success(request, "Plan changed and screened again.")
    _warn_plan_problems(request, changed)
    return redirect("intake:visit_detail", visit_id=visit.pk)


def _warn_plan_problems(request, visit: Visit) -> None:
    # Therapists read health histories: they see why the new plan could not be screened.
    for problem in getattr(visit, "plan_problems", ()):
        messages.warning(request, problem)


@therapist_required
@require_POST
def visit_complete(request, visit_id: int):
    """Complete a visit; screening may refuse it (nothing is stored then)."""
    visit = _get_visit(visit_id)
    form = VisitCompleteForm(request.POST, visit=visit)
    if not form.is_valid():
        return _render_visit(request, visit, 400, complete_form=form)
    try:
        services.visit_complete(
            visit=visit,
            by=request.user,
            modality=form.cleaned_data["performed_modality"],
            completed_at=form.cleaned_data["completed_at"],
        )
    except services.VisitError as exc:
        return _render_visit(request, visit, 409, complete_form=form, problems=exc.problems)
    messages.success(request, "Visit completed; follow-up check-ins are scheduled.")
    return redirect("intake:visit_detail", visit_id=visit.pk)


@therapist_required
@require_POST
def visit_defer(request, visit_id: int):
    """Postpone a visit with a reason."""
    return _close_visit(request, visit_id, VisitStatus.DEFERRED)


@therapist_required
@require_POST
def visit_cancel(request, visit_id: int):
    """Cancel a visit with a reason."""
    return _close_visit(request, visit_id, VisitStatus.CANCELLED)


def _close_visit(request, visit_id: int, status: str):
    visit = _get_visit(visit_id)
    prefix = "defer" if status == VisitStatus.DEFERRED else "cancel"
    form = VisitReasonForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _render_visit(request, visit, 400, **{f"{prefix}_form": form})
    close = services.visit_defer if status == VisitStatus.DEFERRED else services.visit_cancel
    try:
        close(visit=visit, by=request.user, reason=form.cleaned_data["reason"])
    except services.VisitError as exc:
        return _render_visit(request, visit, 409, problems=exc.problems, **{f"{prefix}_form": form})
    messages.success(request, f"Visit {VisitStatus(status).label.lower()}.")
    return redirect("intake:visit_detail", visit_id=visit.pk)
