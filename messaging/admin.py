"""Admin for messaging: the development outbox."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin

from messaging.models import OutboxMessage
from staff.admin import RoleAccessAdmin


@admin.register(OutboxMessage)
class OutboxMessageAdmin(RoleAccessAdmin):
    """The development outbox: visible in the admin only with DEBUG (and to the owner)."""

    list_display = ("created_at", "channel", "to", "subject")
    list_filter = ("channel",)
    search_fields = ("to", "subject")

    def has_module_permission(self, request) -> bool:
        return settings.DEBUG and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return settings.DEBUG and super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
