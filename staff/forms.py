"""Form plumbing shared by every staff and client form."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
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
