"""A staff user's group names, read once per request and cached between requests.

Every staff page asks for the user's role (deny by default, the view's own check, the
navigation bar). The names are kept on the user object for the request and in the cache
under a per-user version: a change to the user's groups (either side of the relation, a
group renamed or deleted) sets a new version, so the next request reads the groups from the
database again. Removing a role therefore takes effect on the next request.

The version is set when the change is made, so later reads in the same transaction see it,
and again when it commits, so a read that raced the commit and cached the old groups under
the first new version is not used either. Each entry also expires after GROUPS_SECONDS. A
cache that does not answer costs the one query it saves, never a wrong role.
"""

from __future__ import annotations

import logging
import secrets

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

GROUPS_SECONDS = 300
_ATTRIBUTE = "_staff_group_names"


def _keys(user_id) -> tuple[str, str]:
    return f"staff:groups-version:{user_id}", f"staff:groups:{user_id}"


def group_names(user) -> frozenset[str]:
    """Return the names of the groups `user` belongs to (empty for anonymous users)."""
    if not user.is_authenticated:
        return frozenset()
    names = getattr(user, _ATTRIBUTE, None)
    if names is None:
        names = _cached(user.pk)
        setattr(user, _ATTRIBUTE, names)
    return names


def _cached(user_id) -> frozenset[str]:
    version_key, groups_key = _keys(user_id)
    try:
        found = cache.get_many([version_key, groups_key])
    except Exception:
        logger.warning("role cache unavailable; reading groups from the database")
        return _from_database(user_id)
    version, entry = found.get(version_key), found.get(groups_key)
    if version is not None and entry is not None and entry[0] == version:
        return frozenset(entry[1])
    names = _from_database(user_id)
    try:
        if version is None:
            # A fresh version: an entry stored under an evicted one can never match it.
            version = secrets.token_hex(8)
            if not cache.add(version_key, version, timeout=None):
                return names
        cache.set(groups_key, (version, sorted(names)), timeout=GROUPS_SECONDS)
    except Exception:
        logger.warning("role cache unavailable; groups not cached")
    return names


def _from_database(user_id) -> frozenset[str]:
    from django.contrib.auth.models import Group

    return frozenset(Group.objects.filter(user__id=user_id).values_list("name", flat=True))


def forget(user_ids, user=None) -> None:
    """Give these users' groups a new version now and again when the transaction commits."""
    ids = [i for i in user_ids if i is not None]
    if user is not None and hasattr(user, _ATTRIBUTE):
        delattr(user, _ATTRIBUTE)
    if not ids:
        return
    _new_versions(ids)
    transaction.on_commit(lambda: _new_versions(ids))


def _new_versions(user_ids) -> None:
    try:
        cache.set_many({_keys(i)[0]: secrets.token_hex(8) for i in user_ids}, timeout=None)
    except Exception:
        # Without the cache nothing stale can be read from it either, but an entry written
        # before it failed would live until GROUPS_SECONDS: say so.
        logger.error("role cache unavailable; group changes may apply only after expiry")


def connect() -> None:
    """Watch every change to group membership (staff.apps calls this once)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_save, pre_delete

    User = get_user_model()
    m2m_changed.connect(_membership_changed, sender=User.groups.through, dispatch_uid="staff-rc")
    post_save.connect(_group_changed, sender=Group, dispatch_uid="staff-rc-group-saved")
    pre_delete.connect(_group_changed, sender=Group, dispatch_uid="staff-rc-group-deleted")


def _membership_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "pre_clear", "post_clear"):
        return
    if not reverse:
        # user.groups.add/remove/clear/set: `instance` is the user.
        forget([instance.pk], user=instance)
    elif action == "pre_clear":
        # group.user_set.clear(): its members, read before they are removed.
        forget(list(instance.user_set.values_list("pk", flat=True)))
    elif pk_set:
        forget(list(pk_set))


def _group_changed(sender, instance, created=False, **kwargs) -> None:
    # A group renamed or deleted changes its members' roles.
    if not created and instance.pk is not None:
        forget(list(instance.user_set.values_list("pk", flat=True)))
