"""Form plumbing shared by every staff and client form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext


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
