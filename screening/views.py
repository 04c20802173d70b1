"""The screening report of a visit and the therapist's actions on it (therapists only)."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinical import vocabulary
from clinical.intake import IntakeError
from intake.audit import record_health_read
from intake.models import Client, Visit
from screening import actions, services
from screening import previsit as form_review
from screening.engine import REASONS
from screening.forms import AcknowledgeForm, ClearanceForm, DismissForm, ResolveForm
from screening.models import Clearance, Origin, Screening, ScreeningFlag
from staff.decorators import therapist_required

TIER_NOTE = "From public guidance outside the clinic's source articles"
NO_CLEARANCE_NEEDED = (
    "This visit's screening calls for no physician's clearance; record a clearance from the "
    "client's page instead."
)


@never_cache
@require_GET
@therapist_required
def report(request, visit_id: int):
    """Show the visit's screening: decision, flags and why, sources, and what blocks completion."""
    visit = get_object_or_404(Visit.objects.select_related("client", "intake"), pk=visit_id)
    return _render_report(request, visit)


@require_POST
@therapist_required
def screen(request, visit_id: int):
    """Screen the visit now (again, if its intake, plan or the catalogue changed)."""
    visit = get_object_or_404(Visit, pk=visit_id)
    try:
        services.screen_visit(visit=visit)
    except IntakeError as exc:
        messages.error(request, f"The intake cannot be screened: {exc}")
    return redirect("screening:report", visit_id=visit.pk)


@require_POST
@therapist_required
def acknowledge(request, screening_id: int):
    """Record the therapist's acknowledgement of this exact screening."""
    screening = get_object_or_404(Screening.objects.select_related("visit"), pk=screening_id)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            actions.screening_acknowledge(
                screening=screening, by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            _refuse(request, exc)
        else:
            messages.success(request, "Screening acknowledged.")
            return redirect("screening:report", visit_id=screening.visit_id)
    return _render_report(request, screening.visit, status=400, ack_form=form)


@require_POST
@therapist_required
def dismiss(request, flag_id: int):
    """Dismiss a flag found only in free text, with the therapist's reason."""
    flag = get_object_or_404(ScreeningFlag.objects.select_related("screening__visit"), pk=flag_id)
    form = _dismiss_form(flag, request.POST)
    if form.is_valid():
        try:
            actions.flag_dismiss(flag=flag, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _refuse(request, exc)
        else:
            messages.success(request, f"Flag “{flag.title}” dismissed.")
            return redirect("screening:report", visit_id=flag.screening.visit_id)
    visit = flag.screening.visit
    return _render_report(request, visit, status=400, dismiss_forms={flag.pk: form})


@require_POST
@therapist_required
def resolve(request, flag_id: int):
    """Resolve a review item: "this is <rule>" or "not relevant to massage" with a reason."""
    flag = get_object_or_404(ScreeningFlag.objects.select_related("screening__visit"), pk=flag_id)
    form = _resolve_form(flag, request.POST)
    if form.is_valid():
        try:
            actions.review_resolve(
                flag=flag,
                by=request.user,
                resolution=form.cleaned_data["resolution"],
                rule_code=form.cleaned_data.get("rule_code") or "",
                reason=form.cleaned_data.get("reason") or "",
                propose_term=form.cleaned_data.get("propose_term", False),
            )
        except ValidationError as exc:
            _refuse(request, exc)
        else:
            messages.success(request, "Item resolved.")
            return redirect("screening:report", visit_id=flag.screening.visit_id)
    visit = flag.screening.visit
    return _render_report(request, visit, status=400, resolve_forms={flag.pk: form})


@require_POST
@therapist_required
def count_mention(request, screening_id: int, index: int):
    """Count a mention the screener did not count (one click)."""
    screening = get_object_or_404(Screening.objects.select_related("visit"), pk=screening_id)
    try:
        actions.mention_count(screening=screening, index=index, by=request.user)
    except ValidationError as exc:
        _refuse(request, exc)
    else:
        messages.success(request, "Mention counted.")
    return redirect("screening:report", visit_id=screening.visit_id)


@never_cache
@require_GET
@therapist_required
def catalogue(request):
    """List the rules of both tiers, with their sources and the drafts' severity notes."""
    current = services.current_catalogue()
    rules = [
        {"rule": rule, "active": True}
        for rule in sorted(current.rules, key=lambda r: (r.tier != "seed", r.order))
    ] + [{"rule": rule, "active": False} for rule in current.withheld_rules]
    context = {
        "catalogue": current,
        "seed": [row for row in rules if row["rule"].tier == "seed"],
        "supplementary": [row for row in rules if row["rule"].tier != "seed"],
        "tier_note": TIER_NOTE,
    }
    return render(request, "screening/catalogue.html", context)


@require_POST
@therapist_required
def visit_clearance_add(request, visit_id: int):
    """Record a physician's clearance for the visit's client from the screening report."""
    visit = get_object_or_404(Visit.objects.select_related("client"), pk=visit_id)
    needed = _clearance_needed(visit.current_screening())
    if not needed:
        messages.error(request, NO_CLEARANCE_NEEDED)
        return _render_report(request, visit, status=400)
    form = _clearance_form(request, needed)
    if _save_clearance(request, form, visit.client):
        return redirect("screening:report", visit_id=visit.pk)
    return _render_report(request, visit, status=400, clearance_form=form)


@never_cache
@require_http_methods(["GET", "POST"])
@therapist_required
def client_clearance_add(request, client_id: int):
    """Record a physician's clearance from the client's page."""
    client = get_object_or_404(Client, pk=client_id)
    # ?letter=<visit>: the doctor's reply to that visit's clearance-request letter.
    letter = client.visits.filter(pk=request.GET.get("letter") or None).first()
    flagged = _clearance_needed(letter.current_screening()) if letter else {}
    form = _clearance_form(request, actions.clearance_codes(), flagged=flagged)
    if request.method == "POST" and _save_clearance(request, form, client, letter):
        return redirect("screening:client_clearance_add", client_id=client.pk)
    if request.method == "GET":
        _record_read(request, client, "clearances")
    status = 400 if request.method == "POST" else 200
    context = {"client": client, "form": form, "letter": letter}
    return render(request, "screening/clearance_form.html", context, status=status)


@never_cache
@require_GET
@therapist_required
def clearance_document(request, clearance_id: int):
    """Send a clearance's uploaded letter as a download (never rendered inline)."""
    clearance = get_object_or_404(Clearance, pk=clearance_id)
    if not clearance.document:
        raise Http404("This clearance has no document.")
    _record_read(request, clearance.client, "clearance document")
    name = Path(clearance.document.name).name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(
        clearance.document.open("rb"), as_attachment=True, filename=name, content_type=content_type
    )


def _dismiss_form(flag: ScreeningFlag, data=None) -> DismissForm:
    # One form per flag on the same page: ids must differ.
    return DismissForm(data, auto_id=f"id_flag{flag.pk}_%s")


def _resolve_form(flag: ScreeningFlag, data=None) -> ResolveForm:
    rules = [(rule.code, rule.title) for rule in services.current_catalogue().rules]
    return ResolveForm(
        data, rules=rules, suggested=list(flag.suggestions), auto_id=f"id_review{flag.pk}_%s"
    )


def _clearance_needed(screening: Screening | None) -> dict[str, str]:
    """Return the rules of the screening that call for a physician's clearance {code: title}.

    The flags that still count (not dismissed; review items resolved as such a rule count as
    that rule); empty when the decision asks for no clearance.
    """
    if screening is None:
        return {}
    codes = actions.clearance_codes()
    flags = services.restrictions(screening).flags
    return {flag.code: codes[flag.code] for flag in flags if flag.code in codes}


def _clearance_form(request, codes: dict[str, str], flagged=()) -> ClearanceForm:
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    return ClearanceForm(*data, codes=codes, flagged=list(flagged), auto_id="id_clearance_%s")


def _error_summary(named_forms) -> list[dict]:
    """Return each error of the forms posted, to list at the top of the page with a link to
    its field (the form itself can be far down the page)."""
    errors = []
    for what, form in named_forms:
        if form is None or not form.is_bound:
            continue
        for error in form.non_field_errors():
            errors.append({"text": f"{what}: {error}", "field": ""})
        for field in form:
            for error in field.errors:
                target = field.id_for_label or f"{field.auto_id}_0"
                errors.append({"text": f"{what}, {field.label.lower()}: {error}", "field": target})
    return errors


def _save_clearance(
    request, form: ClearanceForm, client: Client, letter: Visit | None = None
) -> bool:
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        actions.clearance_record(
            client=client, by=request.user, requested_for=letter, **form.cleaned_data
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    messages.success(request, f"Clearance by {form.cleaned_data['doctor_name']} recorded.")
    return True


def _refuse(request, exc: ValidationError) -> None:
    # Shown on the re-rendered report: the form that was posted may no longer be on it
    # (an acknowledged screening shows its record, a structured flag has no dismiss form).
    for message in exc.messages:
        messages.error(request, message)


def _render_report(
    request,
    visit: Visit,
    *,
    status=200,
    ack_form=None,
    dismiss_forms=None,
    clearance_form=None,
    resolve_forms=None,
):
    screening = visit.current_screening()
    clearances = list(visit.client.clearances.select_related("recorded_by"))
    day = services.visit_day(visit)
    if clearance_form is None and (needed := _clearance_needed(screening)):
        clearance_form = _clearance_form(request, needed, flagged=needed)
    context = {
        "visit": visit,
        "client": visit.client,
        "screening": screening,
        "visit_day": day,
        "clearances": clearances,
        "ack_form": ack_form or AcknowledgeForm(),
        # Only when the screening calls for a clearance, offering only the rules that do.
        "clearance_form": clearance_form,
        "form_errors": _error_summary(
            [
                ("Acknowledgement", ack_form),
                ("Clearance", clearance_form),
                *(("Dismissal", form) for form in (dismiss_forms or {}).values()),
                *(("Review item", form) for form in (resolve_forms or {}).values()),
            ]
        ),
    }
    if screening is not None:
        effective = services.restrictions(screening)
        rows = _flag_rows(screening, clearances, day, dismiss_forms or {}, resolve_forms or {})
        context |= {
            "result": screening.result,
            "effective": effective,
            "flags": [row for row in rows if not row["flag"].is_review_item],
            "review_items": [row for row in rows if row["flag"].is_review_item],
            "mentions": _mention_rows(screening),
            "tier_note": TIER_NOTE,
            "is_current": services.is_current(screening=screening, visit=visit),
            "problems": services.completion_problems(visit=visit, modality=visit.planned_modality),
        }
    _record_read(request, visit.client, "screening report")
    return render(request, "screening/report.html", context, status=status)


def _flag_rows(screening: Screening, clearances, day, dismiss_forms, resolve_forms) -> list[dict]:
    details = {item["code"]: item for item in screening.result.get("flags", [])}
    added = screening.result.get("added") or {}
    titles = {rule.code: rule.title for rule in services.current_catalogue().rules}
    rows = []
    flags = screening.flags.select_related("dismissed_by", "resolved_by", "added_by")
    for flag in flags:
        covered_by = [c for c in clearances if c.covers(flag.code, day)]
        if flag.origin == Origin.ENGINE:
            detail = details.get(flag.code, {})
        else:
            detail = added.get(f"{flag.code}|{flag.item}", {})
        row = {
            "flag": flag,
            "detail": detail,
            "covered_by": covered_by,
            "dismiss_form": dismiss_forms.get(flag.pk) or _dismiss_form(flag),
            "matched": [_plain_matched(text) for text in flag.matched],
        }
        if flag.is_review_item:
            where, words = services.item_words(flag.item)
            row |= {
                "where": where,
                "words": words,
                "suggested": [titles[c] for c in flag.suggestions if c in titles],
                "resolved_title": titles.get(flag.resolved_rule, flag.resolved_rule),
                "resolve_form": resolve_forms.get(flag.pk) or _resolve_form(flag),
            }
        rows.append(row)
    return rows


_CONDITION_LINE = re.compile(r"^condition( \(acute\))?: (\S+)(.*)$")
_NOTES_LINE = re.compile(r"^condition notes \(([^)]*)\): (.*)$")


def _plain_matched(text: str) -> str:
    """Return a 'what matched' line in plain words (the engine's lines name codes and paths)."""
    if m := _NOTES_LINE.match(text):
        return f"notes on {m.group(1).replace('_', ' ')}: {m.group(2)}"
    if m := _CONDITION_LINE.match(text):
        acute = ", acute now" if m.group(1) else ""
        return f"condition{acute}: {m.group(2).replace('_', ' ')}{m.group(3)}"
    if text.startswith("red flag: "):
        return f"warning sign ticked: {vocabulary.label('intake_red_flag', text[10:]).lower()}"
    field, sep, rest = text.partition(": ")
    if sep and (field == "free_text" or field.endswith("]") or field.endswith(".notes")):
        return f"{services.field_words(field)}: {rest}"
    return text


def _mention_rows(screening: Screening) -> list[dict]:
    """Return the mentions not counted, each with its rule title, reason and counted state."""
    catalogue = services.current_catalogue()
    counted = {
        flag.item: flag
        for flag in screening.flags.filter(origin=Origin.COUNTED).select_related("added_by")
    }
    rows = []
    for index, mention in enumerate(screening.result.get("mentions_not_counted") or []):
        rule = catalogue.find_rule(mention["code"])
        rows.append(
            {
                "index": index,
                "title": rule.title if rule else mention["code"].replace("_", " "),
                "code": mention["code"],
                "text": mention["text"],
                "where": services.field_words(mention["field"]),
                "reason": REASONS.get(mention["reason"], mention["reason"]),
                "counted": counted.get(f"{mention['field']}: {mention['text']}"[:600]),
                "countable": rule is not None and rule.order >= 0,
            }
        )
    return rows


def _record_read(request, client: Client, what: str) -> None:
    record_health_read(request, client, what)


@require_POST
@therapist_required
def form_reviewed(request, visit_id: int):
    """Record that the therapist reviewed the health form the client submitted by link."""
    visit = get_object_or_404(Visit, pk=visit_id)
    link = visit.intake_links.filter(status="answered", review_needed=True).first()
    if link is not None and form_review.mark_reviewed(link=link, by=request.user):
        messages.success(request, "Health form marked as reviewed.")
    return redirect("intake:visit_detail", visit_id=visit.pk)
