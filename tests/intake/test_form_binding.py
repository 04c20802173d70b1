"""The intake form binds only the conditions it was sent, and cleans exactly as before.

The form used to bind and clean all three fields of every catalogue condition and of every
"other condition" row; it now binds those of the conditions and rows sent. `EveryCondition`
is the former behaviour; on several hundred
varied forms (ticked, "acute now" alone, notes alone, values a browser never sends, too
long, sent twice, unknown conditions, errors elsewhere) both accept and refuse the same
forms with the same errors and clean to the same data.
"""

from __future__ import annotations

import random

import pytest
from django.http import QueryDict

from intake.forms import IntakeForm
from tests.intake.conftest import intake_post

pytestmark = pytest.mark.django_db

CASES = 200
VALUES = ["on", "", "false", "0", "true", "off", "yes"]


class EveryCondition(IntakeForm):
    """The intake form binding every condition's fields and every row's, sent or not."""

    def _condition_names_to_bind(self):
        return None

    def _other_rows_to_bind(self, sent):
        return list(range(self.other_rows))


def _varied_form(rng: random.Random, person, names: list[str]) -> QueryDict:
    data = intake_post(person, cond_osteoporosis=None, cond_osteoporosis_notes=None)
    if rng.random() < 0.15:
        data.pop(rng.choice(["signature_name", "consent", "visit_date", "planned_modality"]))
    for name in rng.sample(names, rng.randint(0, 6)):
        for key, choices in (
            (name, VALUES),
            (f"{name}_acute", VALUES),
            (f"{name}_notes", ["", "since 2019", " ", "x" * 2_001, "<b>bold</b>"]),
        ):
            if rng.random() < 0.5:
                data[key] = rng.choice(choices)
    if rng.random() < 0.2:
        data[f"cond_not_in_the_catalogue_{rng.randint(0, 9)}"] = "on"
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        i = rng.randint(0, 5)
        for key, choices in (
            (f"other_{i}_code", ["", "plantar fasciitis", "migraine", " ", "x" * 501, "a\x07"]),
            (f"other_{i}_acute", VALUES),
            (f"other_{i}_notes", ["", "left foot", "y" * 2_001]),
        ):
            if rng.random() < 0.6:
                data[key] = rng.choice(choices)
    if rng.random() < 0.2:
        # Keys no browser sends: a padded, a too-high, a non-numeric row, a field no row has.
        data[rng.choice(["other_00_code", "other_51_code", "other_x_code", "other_2_bogus"])] = (
            rng.choice(["migraine", "on", ""])
        )
    query = QueryDict(mutable=True)
    for key, value in data.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    if rng.random() < 0.1 and names:
        query.setlist(rng.choice(names), ["on", "on"])  # sent twice
    return query


def _outcome(form: IntakeForm) -> tuple:
    valid = form.is_valid()
    errors = {field: [e.message for e in errs] for field, errs in form.errors.as_data().items()}
    return valid, errors, form.cleaned_data


def test_binding_only_the_sent_conditions_cleans_as_binding_all(person):
    names = [name for _category, _rule, name in IntakeForm(client=person).condition_rules]
    rng = random.Random(20)
    outcomes = {True: 0, False: 0}

    for _ in range(CASES):
        data = _varied_form(rng, person, names)
        new, old = IntakeForm(data, client=person), EveryCondition(data, client=person)

        assert _outcome(new) == _outcome(old), data
        assert len(new.fields) < len(old.fields)
        outcomes[new.is_valid()] += 1

    assert min(outcomes.values()) > CASES // 10, outcomes  # both kinds of form were tried


def test_a_form_shown_again_shows_every_condition_as_sent(person):
    data = intake_post(person, cond_osteoporosis=None, cond_osteoporosis_notes=None)
    data.update(cond_osteoporosis_notes="x" * 2_001, signature_name="someone else")
    form = IntakeForm(data, client=person)

    assert not form.is_valid()
    rows = [row for _category, group in form.condition_groups() for row in group]

    assert len(rows) == len(form.condition_rules)
    osteoporosis = next(r for r in rows if r["check"].name == "cond_osteoporosis")
    assert osteoporosis["notes"].errors
    assert not any(r["check"].value() for r in rows)


def test_a_form_shown_again_shows_every_other_condition_row_as_sent(person):
    data = intake_post(person, other_1_acute="on", other_4_code="migraine", other_4_notes="weekly")
    data.update(signature_name="someone else")
    form = IntakeForm(data, client=person)

    assert not form.is_valid()
    # Only the rows sent were bound; the page shows every row, the sent ones as sent.
    assert "other_0_code" not in form.fields and "other_1_code" in form.fields
    rows = form.other_conditions()

    assert len(rows) == form.other_rows == 5
    assert [row["code"].value() or "" for row in rows] == ["", "", "", "", "migraine"]
    assert rows[1]["code"].errors  # "acute now" without a name
    assert rows[1]["acute"].value() and rows[4]["notes"].value() == "weekly"
    assert not rows[0]["code"].errors and not rows[0]["acute"].value()
    assert form.cleaned_data["other_0_code"] == "" and form.cleaned_data["other_0_acute"] is False
