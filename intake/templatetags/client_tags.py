"""A form field on the client's pages: its label, input, help and errors tied together."""

from __future__ import annotations

from django import forms, template

register = template.Library()


@register.inclusion_tag("intake/client/_field.html")
def client_field(field, **attrs):
    """Render one field with its label; errors and help are named by aria-describedby."""
    widget = field.field.widget
    described = []
    if field.errors:
        described.append(f"{field.auto_id}_errors")
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    kind = "text"
    css = "form-control form-control-lg"
    if isinstance(widget, forms.CheckboxInput):
        kind, css = "check", "form-check-input"
    elif isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        kind, css = "choices", "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select form-select-lg"
    widget_attrs = {"class": css + (" is-invalid" if field.errors else ""), **attrs}
    if described and kind != "choices":
        widget_attrs["aria-describedby"] = " ".join(described)
    if field.errors and kind != "choices":
        widget_attrs["aria-invalid"] = "true"
    return {
        "field": field,
        "kind": kind,
        "input": field.as_widget(attrs=widget_attrs) if kind != "choices" else "",
        "described": " ".join(described),
    }
