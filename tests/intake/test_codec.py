"""The one map between the intake contract, the model and the forms (intake.codec)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import models

from clinical.intake import IntakeData, parse_intake
from intake import codec
from intake.forms import IntakeForm
from intake.models import Intake

FULL = {
    "date_of_birth": "1980-05-01",
    "visit_date": "2026-11-20",
    "planned_modality": "deep_tissue",
    "focus_regions": ["lumbar", "neck"],
    "conditions": [{"code": "herniated_disc", "acute": False, "notes": "L4-L5"}],
    "pregnancy": {"pregnant": True, "due_date": "2027-03-01", "weeks": 20},
    "medications": ["warfarin 5 mg"],
    "recent_illness": {"name": "influenza", "recovered_on": "2026-11-10"},
    "current_pain": {"score": 0, "regions": ["lumbar"], "character": "dull", "radiating": True},
    "red_flags": ["numbness"],
    "allergies": ["lavender oil"],
    "free_text": "anything the client adds",
}


def test_every_contract_field_and_every_stored_intake_field_is_in_the_table():
    contract = {f.name for f in dataclasses.fields(IntakeData)}
    nested = {"pregnancy", "recent_illness", "current_pain"}
    paths = {f.path.split(".")[0] for f in codec.FIELDS}
    assert paths == contract, "a contract field has no codec line (or the other way round)"
    stored = {
        f.name
        for f in Intake._meta.get_fields()
        if isinstance(f, models.Field) and not f.is_relation and f.concrete
    }
    bookkeeping = {"id", "created_at", "signature_name", "signed_at", "consent_version"}
    bookkeeping |= {"entered_from", "consent_method", "source"}
    assert stored - bookkeeping == {f.name for f in codec.FIELDS}
    assert nested <= contract


def test_a_parsed_intake_survives_the_model_unchanged():
    data = parse_intake(FULL, today=dt.date(2026, 11, 20))
    stored = Intake(**codec.model_values(data))
    assert parse_intake(stored.to_payload(), today=dt.date(2026, 11, 20)) == data
    assert stored.pain_score == 0 and stored.to_payload()["current_pain"]["score"] == 0


@pytest.mark.parametrize(
    ("fields", "group"),
    [
        ({"pregnant": False}, "pregnancy"),
        ({"recent_illness_name": "", "recent_illness_recovered_on": None}, "recent_illness"),
        ({"pain_score": None}, "current_pain"),
    ],
)
def test_an_empty_group_is_null_in_the_contract(fields, group):
    data = parse_intake(FULL, today=dt.date(2026, 11, 20))
    stored = Intake(**{**codec.model_values(data), **fields})
    if group == "pregnancy":
        stored.pregnancy_weeks = stored.pregnancy_due_date = None
    assert stored.to_payload()[group] is None


def test_the_form_shows_an_error_at_the_field_its_path_names():
    assert codec.field_for_path("pregnancy.weeks") == "pregnancy_weeks"
    assert codec.field_for_path("current_pain") == "pain_score"
    assert codec.field_for_path("date_of_birth") is None  # from the client record
    for field in codec.form_fields():
        if field.kind != codec.CONDITIONS:
            assert field.name in IntakeForm.base_fields, field.name


def test_a_previous_intake_fills_the_form_and_comes_back_the_same(db, client_with_intake):
    intake = client_with_intake.latest_intake()
    initial = IntakeForm.initial_from(intake)
    for field in codec.form_fields():
        if field.kind not in (codec.CONDITIONS,) and field.name != "visit_date":
            assert field.name in initial, field.name
