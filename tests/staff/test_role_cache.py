"""A user's groups are read once per request and cached until they change (staff.role_cache)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from staff import role_cache
from staff.roles import is_therapist, role_of

pytestmark = pytest.mark.django_db


def _group_reads(queries) -> int:
    return sum('FROM "auth_group"' in q["sql"] for q in queries.captured_queries)


def test_a_page_reads_the_groups_once_and_the_next_request_not_at_all(therapist_client):
    url = reverse("intake:today")
    with CaptureQueriesContext(connection) as first:
        assert therapist_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert therapist_client.get(url).status_code == 200

    assert _group_reads(first) == 1  # deny-by-default, the view's check and the nav share it
    assert _group_reads(second) == 0


@pytest.mark.parametrize("how", ["user side", "group side", "group cleared", "group deleted"])
def test_removing_a_role_takes_effect_on_the_next_request(therapist_client, therapist, how):
    url = reverse("intake:today")
    assert therapist_client.get(url).status_code == 200  # cached as a therapist now
    group = Group.objects.get(name="therapist")

    if how == "user side":
        therapist.groups.remove(group)
    elif how == "group side":
        group.user_set.remove(therapist)
    elif how == "group cleared":
        group.user_set.clear()
    else:
        group.delete()

    assert therapist_client.get(url).status_code == 403


def test_a_role_given_takes_effect_on_the_next_request(front_desk_client, front_desk):
    url = reverse("intake:today")
    assert front_desk_client.get(url).status_code == 403

    front_desk.groups.add(Group.objects.get(name="therapist"))

    assert front_desk_client.get(url).status_code == 200


def test_a_renamed_group_no_longer_gives_its_role(therapist_client):
    url = reverse("intake:today")
    assert therapist_client.get(url).status_code == 200
    group = Group.objects.get(name="therapist")

    group.name = "former therapists"
    group.save()

    assert therapist_client.get(url).status_code == 403


def test_a_read_that_raced_the_change_is_not_used_after_the_commit(
    therapist, django_capture_on_commit_callbacks
):
    group = Group.objects.get(name="therapist")
    with django_capture_on_commit_callbacks(execute=True):
        therapist.groups.remove(group)
        # A request that read the groups before the change committed caches them again.
        stale_version = role_cache.cache.get(role_cache._keys(therapist.pk)[0])
        role_cache.cache.set(
            role_cache._keys(therapist.pk)[1], (stale_version, ["therapist"]), timeout=None
        )

    fresh = type(therapist).objects.get(pk=therapist.pk)
    assert role_of(fresh) is None


def test_the_same_user_object_sees_its_own_change(therapist):
    assert is_therapist(therapist)

    therapist.groups.clear()

    assert not is_therapist(therapist)


def test_without_the_cache_the_groups_come_from_the_database(therapist, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(role_cache.cache, "get_many", down)
    monkeypatch.setattr(role_cache.cache, "set_many", down)
    fresh = type(therapist).objects.get(pk=therapist.pk)

    assert role_of(fresh) == "therapist"
    therapist.groups.clear()
    assert role_of(type(therapist).objects.get(pk=therapist.pk)) is None
