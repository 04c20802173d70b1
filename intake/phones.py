"""Phone numbers as people type them: national formats of the clinic's country
(CLINIC_REGION, which is also django-phonenumber-field's PHONENUMBER_DEFAULT_REGION) or
with a country code; stored in E.164.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings


def _example():
    return phonenumbers.example_number_for_type(
        settings.CLINIC_REGION, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(settings.CLINIC_REGION)


def example_national() -> str:
    """Return an example mobile number of the clinic's country as people write it."""
    return phonenumbers.format_number(_example(), phonenumbers.PhoneNumberFormat.NATIONAL)


def example_international() -> str:
    """Return the same example with its country code."""
    return phonenumbers.format_number(_example(), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def help_text() -> str:
    """Return the phone field's help: an example of the clinic's country, then abroad."""
    return f"For example {example_national()}, or {example_international()} from abroad."


def invalid_message() -> str:
    """Return the error for a number that is not one, with the same examples."""
    return (
        f"Enter a phone number like {example_national()}, or with its country code "
        f"like {example_international()}."
    )


def search_number(term: str) -> str | None:
    """Return the E.164 form of a search term that reads as a phone number, else None."""
    term = term.strip()
    if sum(c.isdigit() for c in term) < 6:
        return None
    try:
        number = phonenumbers.parse(term, settings.CLINIC_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class RegionalPhoneMixin:
    """Give a form's `phone` field the clinic's examples in its help and its error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("phone")
        if field is not None:
            # The region as configured now, not when the form class was built.
            field.region = settings.CLINIC_REGION
            if hasattr(field.widget, "region"):
                field.widget.region = settings.CLINIC_REGION
            field.help_text = help_text()
            field.error_messages["invalid"] = invalid_message()
            field.widget.attrs.setdefault("autocomplete", "tel")
            field.widget.attrs.setdefault("inputmode", "tel")


class PhoneSearchMixin:
    """Find clients by a phone number typed in any format the clinic's country uses."""

    phone_search_field = "phone"

    def get_search_results(self, request, queryset, search_term):
        results, distinct = super().get_search_results(request, queryset, search_term)
        number = search_number(search_term)
        if number and self.phone_search_field in self.get_search_fields(request):
            results = results | queryset.filter(**{self.phone_search_field: number})
        return results, distinct
