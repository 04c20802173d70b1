"""Choices built once and shared by every copy of a form's fields (staff.forms.FixedChoices)."""

from __future__ import annotations

import copy

from django import forms
from django.utils.translation import gettext_lazy

from followup.forms import CheckInAnswerForm
from intake.forms import IntakeForm
from staff.forms import FixedChoices
from tests.intake.pseudo_locale import OPEN, pseudo_language

COLOURS = FixedChoices([("red", "Red"), ("blue", gettext_lazy("Blue"))])


class PaletteForm(forms.Form):
    colour = forms.ChoiceField(choices=COLOURS)
    colours = forms.MultipleChoiceField(choices=COLOURS, required=False)


def test_every_form_shares_the_choices_and_none_can_change_them_in_place():
    first, second = PaletteForm(), PaletteForm()

    assert first.fields["colour"].choices is COLOURS
    assert second.fields["colour"].choices is COLOURS
    assert first.fields["colour"].widget.choices is COLOURS
    assert copy.deepcopy(COLOURS) is COLOURS
    assert isinstance(COLOURS._choices, tuple) and all(
        isinstance(choice, tuple) for choice in COLOURS
    )
    assert not hasattr(COLOURS, "append")


def test_a_form_given_other_choices_changes_only_its_own_copy():
    changed, other = PaletteForm(), PaletteForm()
    changed.fields["colour"].choices = [("green", "Green")]

    assert list(changed.fields["colour"].choices) == [("green", "Green")]
    assert list(other.fields["colour"].choices) == [("red", "Red"), ("blue", "Blue")]
    assert PaletteForm.base_fields["colour"].choices is COLOURS
    assert not PaletteForm({"colour": "green"}).is_valid()
    # Each copy keeps its own widget attributes, as Django copies them.
    changed.fields["colour"].widget.attrs["class"] = "changed"
    assert "class" not in other.fields["colour"].widget.attrs


def test_values_are_checked_against_the_choices():
    assert PaletteForm({"colour": "blue", "colours": ["red", "blue"]}).is_valid()
    form = PaletteForm({"colour": "purple", "colours": ["red", "nope"]})
    assert not form.is_valid()
    assert "purple is not one of the available choices" in form.errors["colour"][0]
    assert "nope is not one of the available choices" in form.errors["colours"][0]
    html = str(PaletteForm({"colour": "blue"})["colour"])
    assert '<option value="blue" selected>Blue</option>' in html


def test_groups_of_options_are_kept_and_cannot_be_changed_in_place():
    grouped = FixedChoices([("Warm", [("red", "Red"), ("amber", "Amber")]), ("blue", "Blue")])
    field = forms.ChoiceField(choices=grouped)

    assert grouped._choices[0] == ("Warm", (("red", "Red"), ("amber", "Amber")))
    assert field.clean("amber") == "amber"
    assert "<optgroup" in forms.Select(choices=grouped).render("c", "red")


def test_labels_are_translated_when_shown_not_when_built():
    with pseudo_language():
        html = str(PaletteForm()["colour"])
        label = dict(IntakeForm.base_fields["pain_character"].choices)["sharp"]
        assert OPEN in str(label)
    assert ">Blue<" not in html and OPEN in html
    assert OPEN not in str(label)


def test_the_hot_forms_share_their_choices_between_requests():
    # The intake form and the check-in answer form are built on every POST of their pages.
    for form_class, names in (
        (IntakeForm, ["planned_modality", "focus_regions", "pain_character", "red_flags"]),
        (CheckInAnswerForm, ["score", "character", "radiating", "red_flags"]),
    ):
        for name in names:
            assert isinstance(form_class.base_fields[name].choices, FixedChoices), name
