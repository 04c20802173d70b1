"""The staff groups exist after every migrate and every flush (e.g. the one that ends a
transactional test): staff.apps listens for auth's post_migrate, since Django sends none for
an app without models."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from staff.roles import GROUP_PERMISSIONS

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_flush_leaves_the_staff_groups_with_their_permissions():
    call_command("flush", verbosity=0, interactive=False)
    for name, permissions in GROUP_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        assert group.permissions.count() == len(permissions)
