"""The bench server's URLconf (the site, its floors and the fair floors), for the tests."""

from bench.urls import urlpatterns  # noqa: F401
