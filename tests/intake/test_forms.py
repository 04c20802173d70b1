from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict
from django.utils import timezone

from intake.client_forms import ClientForm
from intake.forms import IntakeForm
from intake.visit_forms import VisitForm
from tests.factories import ClientFactory, IntakeFactory
from tests.intake.conftest import intake_post

pytestmark = pytest.mark.django_db


def _query_dict(data: dict) -> QueryDict:
    qd = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            qd.setlist(key, value)
        else:
            qd[key] = value
    return qd


def _form(client, **overrides) -> IntakeForm:
    return IntakeForm(_query_dict(intake_post(client, **overrides)), client=client)


def test_a_complete_intake_builds_the_intake_json(person):
    form = _form(
        person,
        planned_modality="classical",
        focus_regions=["lower back", "neck"],
        other_0_code="Plantar fasciitis",
        other_0_acute="on",
        red_flags=["numbness"],
    )
    assert form.is_valid(), form.errors
    data = form.cleaned_data["intake"]
    assert data.planned_modality == "swedish"
    assert data.focus_regions == ("lumbar", "neck")
    assert [(c.code, c.acute) for c in data.conditions] == [
        ("osteoporosis", False),
        ("plantar_fasciitis", True),
    ]
    assert data.medications == ("ibuprofen 200 mg", "vitamin D")
    assert data.current_pain.score == 4
    assert data.red_flags == ("numbness",)
    assert data.date_of_birth == person.date_of_birth


BAD_INPUT = [
    ("pain_score", {"pain_score": "11"}, "less than or equal to 10"),
    ("pain_score", {"pain_score": "-1"}, "greater than or equal to 0"),
    ("pain_score", {"pain_score": "7.5"}, "whole number"),
    ("pain_score", {"pain_score": "abc"}, "whole number"),
    ("pain_score", {"pain_score": None, "pain_character": "sharp"}, "required"),
    ("planned_modality", {"planned_modality": None}, "required"),
    ("planned_modality", {"planned_modality": "hot stones"}, "Unknown modality"),
    ("focus_regions", {"focus_regions": ["neck", "tail"]}, "Unknown region"),
    ("pain_regions", {"pain_regions": ["wing"]}, "Unknown region"),
    ("visit_date", {"visit_date": None}, "required"),
    ("visit_date", {"visit_date": "2026-02-30"}, "valid date"),
    ("signature_name", {"signature_name": None}, "required"),
    ("signature_name", {"signature_name": "Someone Else"}, "full name"),
    ("consent", {"consent": None}, "required"),
    ("free_text", {"free_text": "x" * 100_000}, "Too long: at most 20000 characters"),
    ("medications", {"medications": "ok\n" + "y" * 600}, "Line 2: too long"),
    ("pregnancy_weeks", {"pregnant": "on", "pregnancy_weeks": "50"}, "less than or equal"),
    ("pregnant", {"pregnancy_weeks": "20"}, "not pregnant"),
    ("red_flags", {"red_flags": ["dizziness"]}, "Unknown red flag"),
    ("pain_character", {"pain_character": "burning"}, "valid choice"),
    ("other_0_code", {"other_0_code": "bad\x07code"}, "control characters"),
]


@pytest.mark.parametrize(("field", "overrides", "message"), BAD_INPUT)
def test_bad_input_is_reported_next_to_its_field(person, field, overrides, message):
    form = _form(person, **overrides)
    assert not form.is_valid()
    assert message in " ".join(form.errors.get(field, [])), form.errors


def test_a_due_date_in_the_past_is_refused_for_a_pregnant_client(person):
    past = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    form = _form(person, pregnant="on", pregnancy_due_date=past)
    assert not form.is_valid()
    assert "before the visit date" in form.errors["pregnancy_due_date"][0]


def test_a_due_date_ahead_is_accepted_for_a_pregnant_client(person):
    ahead = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    form = _form(person, pregnant="on", pregnancy_due_date=ahead)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["intake"].pregnancy.due_date.isoformat() == ahead


@pytest.mark.parametrize("field", ["pain_score", "signature_name", "planned_modality"])
def test_a_field_sent_twice_is_refused_rather_than_taking_the_last(person, field):
    data = _query_dict(intake_post(person))
    data.setlist(field, [data[field], data[field]])
    form = IntakeForm(data, client=person)
    assert not form.is_valid()
    assert "sent more than once" in form.errors[field][0]


def test_a_multiple_choice_field_may_carry_several_values(person):
    form = _form(person, focus_regions=["neck", "lumbar", "feet"])
    assert form.is_valid(), form.errors


def test_the_signature_ignores_case_and_spacing(person):
    form = _form(person, signature_name="  ana   LÓPEZ ")
    assert form.is_valid(), form.errors


def test_markup_in_notes_is_kept_as_text(person):
    form = _form(person, cond_osteoporosis_notes="<script>alert(1)</script>")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["intake"].conditions[0].notes == "<script>alert(1)</script>"


def test_the_previous_intake_prefills_the_form_including_unknown_conditions():
    intake = IntakeFactory(
        conditions=[
            {"code": "dvt", "acute": True, "notes": "2024"},
            {"code": "plantar_fasciitis", "acute": False, "notes": ""},
        ],
        medications=["warfarin 5 mg", "aspirin"],
        pregnant=True,
        pregnancy_weeks=12,
    )
    initial = IntakeForm.initial_from(intake)
    assert initial["cond_thrombosis"] is True
    assert initial["cond_thrombosis_acute"] is True
    assert initial["cond_thrombosis_notes"] == "2024"
    assert initial["other_0_code"] == "plantar_fasciitis"
    assert initial["medications"] == "warfarin 5 mg\naspirin"
    assert initial["pregnancy_weeks"] == 12
    form = IntakeForm(client=intake.client, initial=initial)
    assert form.other_rows >= 2


def test_conditions_are_grouped_by_catalogue_category(person):
    groups = dict(IntakeForm(client=person).condition_groups())
    assert "Blood and circulation" in groups
    assert any(row["rule"].code == "thrombosis" for row in groups["Blood and circulation"])


@pytest.mark.parametrize(
    ("first", "last"), [("Zoë", "Brontë"), ("李", "小龙"), ("مريم", "حداد"), ("נועה", "כהן")]
)
def test_unicode_names_are_accepted(first, last):
    form = ClientForm(
        {
            "first_name": first,
            "last_name": last,
            "date_of_birth": "1990-01-02",
            "email": "x@example.com",
            "phone": "",
            "preferred_channel": "email",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["first_name"] == first


CLIENT_BAD_INPUT = [
    ("date_of_birth", {"date_of_birth": "2999-01-01"}, "future"),
    ("date_of_birth", {"date_of_birth": "yesterday"}, "valid date"),
    ("phone", {"phone": "not a number", "preferred_channel": "sms"}, "Enter a phone number like"),
    ("phone", {"phone": "", "preferred_channel": "sms"}, "mobile number is needed"),
    ("email", {"email": "nope"}, "valid email"),
    ("first_name", {"first_name": ""}, "required"),
    ("first_name", {"first_name": "x" * 101}, "at most 100"),
]


@pytest.mark.parametrize(("field", "overrides", "message"), CLIENT_BAD_INPUT)
def test_bad_client_input_is_reported_next_to_its_field(field, overrides, message):
    data = {
        "first_name": "Ana",
        "last_name": "López",
        "date_of_birth": "1990-01-02",
        "email": "ana@example.com",
        "phone": "+447700900123",
        "preferred_channel": "email",
        **overrides,
    }
    form = ClientForm(data)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field]), form.errors


def test_a_visit_cannot_be_scheduled_in_the_past(therapist):
    form = VisitForm(
        {
            "scheduled_at": "2001-01-01T10:00",
            "therapist": therapist.pk,
            "planned_modality": "swedish",
        }
    )
    assert not form.is_valid()
    assert "past" in form.errors["scheduled_at"][0]


def test_only_therapists_can_be_chosen_for_a_visit(therapist, front_desk):
    choices = list(VisitForm().fields["therapist"].queryset)
    assert therapist in choices
    assert front_desk not in choices


def test_an_unknown_client_uses_a_fresh_form():
    client = ClientFactory()
    form = IntakeForm(client=client)
    assert form.other_rows == 3


def test_intake_forms_share_no_field_or_value(person):
    plain = IntakeForm(
        intake_post(person, cond_osteoporosis=None, cond_osteoporosis_notes=None), client=person
    )
    ticked = IntakeForm(intake_post(person), client=person)

    assert plain["cond_osteoporosis"].field is not ticked["cond_osteoporosis"].field
    assert plain.fields["red_flags"] is not ticked.fields["red_flags"]
    assert plain.is_valid() and ticked.is_valid()
    assert plain.cleaned_data["cond_osteoporosis"] is False
    assert ticked.cleaned_data["cond_osteoporosis"] is True
    assert ticked.cleaned_data["cond_osteoporosis_notes"] == "diagnosed 2019"


def _linked_pairs():
    """Every (box, linked field) pair of the intake form: found from its fields, not listed."""
    form = IntakeForm(client=ClientFactory.build())
    pairs = []
    for name in form.fields:
        for suffix in ("_acute", "_notes"):
            base = name.removesuffix(suffix)
            if name.endswith(suffix) and base != name:
                box = f"{base}_code" if base.startswith("other_") else base
                pairs.append((box, name))
    pairs += [("pregnant", "pregnancy_weeks"), ("pregnant", "pregnancy_due_date")]
    return pairs


LINKED_VALUES = {"_acute": "on", "_notes": "since March", "pregnancy_weeks": "20"}


def _linked_value(field: str) -> str:
    if field == "pregnancy_due_date":
        return (timezone.localdate() + dt.timedelta(days=100)).isoformat()
    return next(v for k, v in LINKED_VALUES.items() if field.endswith(k))


@pytest.mark.parametrize(("box", "field"), _linked_pairs())
def test_a_linked_field_without_its_box_is_never_lost(person, box, field):
    overrides = {"cond_osteoporosis": None, "cond_osteoporosis_notes": None}
    form = _form(person, **(overrides | {field: _linked_value(field)}))
    if box.startswith("cond_"):
        # "Acute now" or notes for a catalogue condition tick it: the condition applies.
        assert form.is_valid(), form.errors
        conditions = form.cleaned_data["intake"].conditions
        assert len(conditions) == 1
        assert conditions[0].acute is field.endswith("_acute")
        assert conditions[0].notes == ("since March" if field.endswith("_notes") else "")
    else:
        assert not form.is_valid()
        assert form.errors[box], form.errors


def test_every_condition_has_its_linked_pairs_checked():
    pairs = _linked_pairs()
    form = IntakeForm(client=ClientFactory.build())
    assert len([p for p in pairs if p[0].startswith("cond_")]) == 2 * len(form.condition_rules)
    assert ("other_0_code", "other_0_acute") in pairs
    assert ("other_0_code", "other_0_notes") in pairs
