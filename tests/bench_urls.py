"""The site's URLs plus the bench floor views, as the server has them under BENCH_FLOOR=1."""

from django.urls import include, path

from clinic.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("bench/", include("clinic.bench_views"))]
