"""The admin base every registered ModelAdmin uses: it reads staff.access and nothing else.

A role sees a model's admin pages, fields, list columns, filters, search fields and actions
only as far as staff.access declares them; an undeclared query-string lookup is refused with
400. Pages that show health data write a read-log row per client shown (list, change and
history pages alike), through the recorder the intake app installs (`read_recorder`), so
this layer imports no app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import admin
from django.contrib.admin.filters import SimpleListFilter
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from staff import access
from staff.roles import role_of

# Set by the intake app (intake.audit): records that `request.user` read the health data of
# the clients of `objects` on `page`. None until intake is ready; a health page then fails
# closed (403) rather than showing data without a log row.
read_recorder: Callable | None = None


def request_role(request) -> str | None:
    """Return the request user's role, read once per request."""
    if not hasattr(request, "_staff_role"):
        request._staff_role = role_of(request.user)
    return request._staff_role


def _name(item) -> str:
    if isinstance(item, str):
        return item
    return getattr(item, "__name__", None) or getattr(item, "name", "") or str(item)


def _filter_parameter(item) -> str:
    """Return the field path or parameter a list_filter entry filters on."""
    if isinstance(item, list | tuple):
        item = item[0]
    if isinstance(item, type) and issubclass(item, SimpleListFilter):
        return item.parameter_name
    return _name(item)


class RoleAccessMixin:
    """Restrict a ModelAdmin (or inline) to what the user's role declares in staff.access."""

    def declared_access(self, request) -> access.ModelAccess | None:
        return access.model_access(request_role(request), self.model._meta.label)

    def _page(self, request, page: str) -> bool:
        declared = self.declared_access(request)
        return declared is not None and page in declared.pages

    def _allowed(self, request, kind: str, names: Iterable) -> list:
        declared = self.declared_access(request)
        if declared is None:
            return []
        return [item for item in names if declared.allows(kind, _name(item))]

    # -- pages ------------------------------------------------------------------------------

    def has_module_permission(self, request) -> bool:
        return self._page(request, access.LIST) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._page(request, access.VIEW) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return self._page(request, access.ADD) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._page(request, access.CHANGE) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._page(request, access.DELETE) and super().has_delete_permission(request, obj)

    # -- what a page shows --------------------------------------------------------------------

    def get_fields(self, request, obj=None):
        return self._allowed(request, "fields", _flat(super().get_fields(request, obj)))

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            lines = []
            for line in options.get("fields", ()):
                kept = self._allowed(
                    request, "fields", line if isinstance(line, list | tuple) else [line]
                )
                if kept:
                    lines.append(tuple(kept) if isinstance(line, list | tuple) else kept[0])
            if lines:
                fieldsets.append((name, {**options, "fields": lines}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return self._allowed(request, "fields", super().get_readonly_fields(request, obj))

    def get_list_display(self, request):
        return self._allowed(request, "columns", self.offered_list_display(request))

    def offered_list_display(self, request):
        """Return every column the admin offers, before the role's declaration is applied."""
        return super().get_list_display(request)

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if not links:
            return links
        shown = {_name(item) for item in list_display}
        kept = [link for link in links if _name(link) in shown]
        return kept or list(list_display)[:1]

    def get_list_filter(self, request):
        declared = self.declared_access(request)
        if declared is None:
            return []
        if declared.lookups == access.EVERYTHING:
            return super().get_list_filter(request)
        return [
            item
            for item in super().get_list_filter(request)
            if any(
                lookup == _filter_parameter(item)
                or lookup.startswith(f"{_filter_parameter(item)}__")
                for lookup in declared.lookups
            )
        ]

    def get_search_fields(self, request):
        return self._allowed(request, "search", super().get_search_fields(request))

    def get_actions(self, request):
        actions = super().get_actions(request)
        declared = self.declared_access(request)
        if declared is None:
            return {}
        return {name: a for name, a in actions.items() if declared.allows("actions", name)}

    def lookup_allowed(self, lookup, value, request=None):
        """Allow only the query-string parameters the role declares (deny by default)."""
        declared = self.declared_access(request) if request is not None else None
        if declared is None:
            return False
        if declared.lookups == access.EVERYTHING:
            return super().lookup_allowed(lookup, value, request)
        return lookup in declared.lookups

    def get_inline_instances(self, request, obj=None):
        return [
            inline
            for inline in super().get_inline_instances(request, obj)
            if access.model_access(request_role(request), inline.model._meta.label) is not None
        ]

    # -- the read log ---------------------------------------------------------------------

    def shows_health(self, request) -> bool:
        return access.shows_health(request_role(request), self.model._meta.label)

    def record_health_read(self, request, objects, page: str) -> None:
        """Log the read of each object's client on a page that shows health data."""
        if not self.shows_health(request):
            return
        if read_recorder is None:
            raise PermissionDenied("Health data cannot be shown without the read log.")
        read_recorder(request, self.model._meta.label, list(objects), page)


def _flat(fields) -> list:
    flat = []
    for item in fields:
        flat.extend(item if isinstance(item, list | tuple) else [item])
    return flat


class RoleAccessAdmin(RoleAccessMixin, admin.ModelAdmin):
    """A ModelAdmin restricted by staff.access, with its health reads logged."""

    def changelist_view(self, request, extra_context=None):
        if not self._page(request, access.LIST):
            raise PermissionDenied
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None and response.status_code == 200:
            self.record_health_read(request, changelist.result_list, "admin list")
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        if object_id is not None and response.status_code == 200:
            self._record_object_read(request, object_id, "admin change page")
        return response

    def history_view(self, request, object_id, extra_context=None):
        if not self._page(request, access.HISTORY):
            raise PermissionDenied
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            self._record_object_read(request, object_id, "admin history")
        return response

    def _record_object_read(self, request, object_id, page: str) -> None:
        if self.shows_health(request):
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                self.record_health_read(request, [obj], page)


class RoleAccessHistoryAdmin(RoleAccessAdmin, SimpleHistoryAdmin):
    """RoleAccessAdmin for models with a change history (django-simple-history)."""

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Show each version's changes to the fields the role may see, and no others."""
        declared = self.declared_access(request)
        if declared is None:
            return
        included = None
        if declared.fields != access.EVERYTHING:
            included = [f.name for f in self.model._meta.fields if f.name in declared.fields]
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current, foreign_keys_are_objs=foreign_keys_are_objs, included_fields=included
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self._page(request, access.HISTORY):
            raise PermissionDenied
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if response.status_code == 200:
            self._record_object_read(request, object_id, "admin history")
        return response


class RoleAccessInline(RoleAccessMixin):
    """Mixed into inlines: an inline shows only what the role declares of its model."""


def _adopt_registered_admins(site: admin.AdminSite) -> None:
    """Put the admins registered before ours (Django's users and groups, axes' login
    records, the two-factor devices) under staff.access too: the owner's alone."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, RoleAccessMixin):
            continue
        cls = type(model_admin)
        base = (
            RoleAccessHistoryAdmin
            if isinstance(model_admin, SimpleHistoryAdmin)
            else RoleAccessAdmin
        )
        inlines = [
            inline
            if issubclass(inline, RoleAccessInline)
            else type(inline.__name__, (RoleAccessInline, inline), {"__module__": __name__})
            for inline in cls.inlines
        ]
        site.unregister(model)
        attrs = {"__module__": __name__, "inlines": inlines}
        site.register(model, type(cls.__name__, (base, cls), attrs))


_adopt_registered_admins(admin.site)
