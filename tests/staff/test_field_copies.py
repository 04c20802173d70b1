"""A busy form's fields are copied directly (staff.forms.copy_field), as deepcopy copies them."""

from __future__ import annotations

import copy

import pytest
from django import forms

from followup.forms import CheckInAnswerForm
from intake.client_form import ClientIntakeForm
from intake.forms import IntakeForm
from staff.forms import FieldCopies, FixedChoices, QuickCopiesMetaclass, copy_field

QUICK_FORMS = [IntakeForm, ClientIntakeForm, CheckInAnswerForm]
DJANGO_FIELDS = [
    forms.CharField(max_length=5, widget=forms.Textarea(attrs={"rows": 2})),
    forms.IntegerField(min_value=0, max_value=10, error_messages={"invalid": "Whole number"}),
    forms.DateField(widget=forms.DateInput(format="%Y-%m-%d")),
    forms.BooleanField(required=False),
    forms.EmailField(),
    forms.ChoiceField(choices=[("a", "A"), ("b", "B")]),
    forms.MultipleChoiceField(choices=[("a", "A")], widget=forms.CheckboxSelectMultiple),
    forms.TypedChoiceField(choices=[("1", "1")], coerce=int, widget=forms.RadioSelect),
    forms.ChoiceField(choices=FixedChoices([("x", "X")])),
    forms.ChoiceField(choices=lambda: [("late", "Late")]),
]


def _fields(form_class) -> list[tuple[str, forms.Field]]:
    return list(form_class.base_fields.items())


def _same_copy(made: forms.Field, expected: forms.Field, original: forms.Field) -> None:
    assert type(made) is type(expected) and type(made.widget) is type(expected.widget)
    assert made.__dict__.keys() == expected.__dict__.keys()
    assert made.widget.__dict__.keys() == expected.widget.__dict__.keys()
    for name, value in expected.__dict__.items():
        if name not in ("widget", "_choices"):
            assert made.__dict__[name] == value, name
    assert made.widget.attrs == expected.widget.attrs
    # What each copy owns is its own; the rest is shared as Django shares it.
    assert made is not original and made.widget is not original.widget
    assert made.widget.attrs is not original.widget.attrs
    assert made.error_messages is not original.error_messages
    assert made.validators is not original.validators
    if hasattr(original, "_choices"):
        assert list(made.choices) == list(expected.choices)
        assert list(made.widget.choices) == list(expected.widget.choices)
        if not isinstance(original._choices, FixedChoices):
            assert made._choices is not original._choices


@pytest.mark.parametrize("form_class", QUICK_FORMS, ids=lambda c: c.__name__)
def test_the_busy_forms_copy_their_fields_directly(form_class):
    assert isinstance(form_class.base_fields, FieldCopies)
    assert type(form_class) is QuickCopiesMetaclass
    for _name, field in _fields(form_class):
        _same_copy(copy_field(field, {}), copy.deepcopy(field), field)


@pytest.mark.parametrize("field", DJANGO_FIELDS, ids=lambda f: type(f).__name__)
def test_each_kind_of_field_is_copied_as_deepcopy_copies_it(field):
    _same_copy(copy_field(field, {}), copy.deepcopy(field), field)


def test_a_change_to_one_forms_fields_reaches_no_other_form():
    changed, other = IntakeForm(client=None), IntakeForm(client=None)
    validators = len(other.fields["free_text"].validators)
    changed.fields["free_text"].widget.attrs["class"] = "changed"
    changed.fields["free_text"].error_messages["max_length"] = "changed"
    changed.fields["free_text"].validators.append(lambda value: None)
    changed.fields["visit_date"].label = "changed"
    changed.fields["pain_character"].choices = [("x", "X")]

    for form in (other, IntakeForm(client=None)):
        assert "class" not in form.fields["free_text"].widget.attrs
        assert form.fields["free_text"].error_messages["max_length"] != "changed"
        assert len(form.fields["free_text"].validators) == validators
        assert form.fields["visit_date"].label != "changed"
        assert ("x", "X") not in list(form.fields["pain_character"].choices)
        assert ("x", "X") not in list(form.fields["pain_character"].widget.choices)
    assert IntakeForm.base_fields["visit_date"].label != "changed"


def test_a_field_with_its_own_copy_is_deep_copied_as_django_would():
    class Pair(forms.MultiValueField):
        def __init__(self):
            super().__init__(fields=[forms.CharField(), forms.CharField()])

        def compress(self, values):
            return values

    class CopiedOnce(forms.CharField):
        copies = 0

        def __deepcopy__(self, memo):
            CopiedOnce.copies += 1
            return super().__deepcopy__(memo)

    pair, counted = Pair(), CopiedOnce()
    pair_copy = copy_field(pair, {})
    assert pair_copy.fields[0] is not pair.fields[0]  # MultiValueField's own copy ran
    copy_field(counted, {})
    assert CopiedOnce.copies == 1
