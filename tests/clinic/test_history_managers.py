"""Every model's history manager class is built once (clinic.history), and still filters."""

from __future__ import annotations

import pytest
from django.apps import apps
from simple_history.manager import HistoryDescriptor

from clinic.history import CachedHistoryDescriptor
from intake.models import Client
from tests.factories import ClientFactory


def test_every_history_descriptor_is_the_cached_one():
    descriptors = [
        value
        for model in apps.get_models()
        for value in vars(model).values()
        if isinstance(value, HistoryDescriptor)
    ]

    assert descriptors
    assert all(type(d) is CachedHistoryDescriptor for d in descriptors)


@pytest.mark.django_db
def test_the_manager_class_is_built_once_and_each_instance_sees_its_own_history():
    ana, ben = ClientFactory(), ClientFactory()
    ana.first_name = "Ana"
    ana.save()

    assert type(ana.history) is type(ben.history) is type(Client.history)
    assert ana.history.count() == 2
    assert ben.history.count() == 1
    assert Client.history.count() == 3
    assert ana.history.first().first_name == "Ana"
