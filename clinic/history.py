"""simple-history's `Model.history` managers, their class built once per model.

simple-history's descriptor builds a new manager class (`from_queryset`) on every access,
and every save with history reads it: a class created per saved row. The class depends only
on the model, so it is built once; the manager itself is still made per access, for the
instance it is read from, as before.
"""

from __future__ import annotations

import functools

from django.apps import apps
from simple_history.manager import HistoryDescriptor


class CachedHistoryDescriptor(HistoryDescriptor):
    """HistoryDescriptor whose manager class is built once."""

    @functools.cached_property
    def _manager_class(self):
        return self.manager_class.from_queryset(self.queryset_class)

    def __get__(self, instance, owner):
        return self._manager_class(self.model, instance)


def cache_history_managers() -> int:
    """Swap every model's history descriptor for the cached one; return how many."""
    swapped = 0
    for model in apps.get_models():
        for name, value in list(vars(model).items()):
            if type(value) is HistoryDescriptor:
                cached = CachedHistoryDescriptor(
                    value.model, manager=value.manager_class, queryset=value.queryset_class
                )
                setattr(model, name, cached)
                swapped += 1
    return swapped
