"""Form plumbing shared by every staff and client form."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from django import forms
from django.forms.forms import DeclarativeFieldsMetaclass
from django.forms.widgets import ChoiceWidget
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django.utils.translation import gettext


class FixedChoices(BaseChoiceIterator):
    """A choice field's choices that are the same for every form and never change.

    A form copies its fields for every request, and a choice field copies its choices with
    them (Django deep-copies the list and every lazily translated label in it, then
    re-normalises the widget's copy). These are built once, as the class is, and every copy
    of the field shares them: nothing can change them in place. Give a field other choices
    by assigning new ones.
    """

    def __init__(self, choices: Iterable) -> None:
        normalised = normalize_choices(list(choices))
        self._choices = tuple(
            (value, tuple(label) if isinstance(label, list) else label)  # a group's options
            for value, label in normalised
        )

    def __iter__(self):
        return iter(self._choices)

    def __len__(self) -> int:
        return len(self._choices)

    def __copy__(self) -> FixedChoices:
        return self

    def __deepcopy__(self, memo) -> FixedChoices:
        return self

    def __repr__(self) -> str:
        return f"FixedChoices({list(self._choices)!r})"


# The copies Django's own fields and widgets make of themselves (copy_field makes the same).
_FIELD_COPIES = (forms.Field.__deepcopy__, forms.ChoiceField.__deepcopy__)
_WIDGET_COPIES = (forms.Widget.__deepcopy__, ChoiceWidget.__deepcopy__)


def _plainly_copied(obj) -> bool:
    # copy.copy() of such an object is a new one with the same __dict__ (no hooks, no slots).
    cls = type(obj)
    return (
        cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and cls.__getstate__ is object.__getstate__
        and not hasattr(cls, "__setstate__")
        and not hasattr(cls, "__copy__")
        and not hasattr(cls, "__slots__")
    )


def _shallow(obj):
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def copy_field(field: forms.Field, memo: dict) -> forms.Field:
    """Return the copy `copy.deepcopy(field)` makes, built directly.

    For a field and widget whose copies are Django's own (Field's or ChoiceField's, Widget's
    or ChoiceWidget's), this repeats what those do: a new field with the same attributes, its
    own widget with its own `attrs`, its own error messages, validators and choices. Python's
    generic copying made those copies about ten times as slowly. Any other field is
    deep-copied as Django would.
    """
    widget = field.widget
    field_copy, widget_copy = type(field).__deepcopy__, type(widget).__deepcopy__
    if (
        field_copy not in _FIELD_COPIES
        or widget_copy not in _WIDGET_COPIES
        or not _plainly_copied(field)
        or not _plainly_copied(widget)
    ):
        return copy.deepcopy(field, memo)
    new_widget = _shallow(widget)
    new_widget.attrs = widget.attrs.copy()
    if widget_copy is ChoiceWidget.__deepcopy__:
        new_widget.choices = copy.copy(widget.choices)
    new = _shallow(field)
    memo[id(field)] = new
    new.widget = new_widget
    new.error_messages = field.error_messages.copy()
    new.validators = field.validators[:]
    if field_copy is forms.ChoiceField.__deepcopy__:
        new._choices = copy.deepcopy(field._choices, memo)
    return new


class FieldCopies(dict):
    """A form class's fields, which every form of it copies (see copy_field)."""

    def __deepcopy__(self, memo) -> dict:
        return {name: copy_field(field, memo) for name, field in self.items()}


class QuickCopiesMetaclass(DeclarativeFieldsMetaclass):
    """For a form built on every request of a busy page: its fields are copied by copy_field.

    A form copies its class's fields when it is made (so that changing one form's fields
    changes no other form): this makes those copies directly.
    """

    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class.base_fields = FieldCopies(new_class.base_fields)
        return new_class


class SingleValueMixin:
    """Reject a field that arrives twice instead of silently keeping the last value."""

    def full_clean(self):
        super().full_clean()
        if not self.is_bound or not hasattr(self.data, "getlist"):
            return
        for name, field in self.fields.items():
            if getattr(field.widget, "allow_multiple_selected", False):
                continue
            if len(self.data.getlist(self.add_prefix(name))) > 1:
                self.add_error(name, gettext("This field was sent more than once; send one value."))


class TokenForm(SingleValueMixin, forms.Form):
    """A code from the authenticator app (6 digits) or a recovery code."""

    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )
