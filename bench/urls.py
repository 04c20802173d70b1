"""The bench server's URLconf: the site, its floor views and the bench's fair floors.

The product's URLconf routes the plain floors (clinic/bench_views.py) only under
BENCH_FLOOR=1; the fair floors (bench/fair.py) exist only here, in the bench's own server
(bench/wsgi.py) and in the tests of the bench. Both sit in the `bench_floor` namespace, which
staff.access leaves to the views themselves, so they run through the same middleware as the
pages they are floors for.
"""

from django.urls import include, path

from bench import fair
from clinic import bench_views
from clinic.urls import urlpatterns as site_urlpatterns

floor_urlpatterns = [
    *bench_views.urlpatterns,
    path("fair/intake/<int:client_id>/", fair.intake, name="fair_intake"),
    path("fair/f/<str:token>/", fair.answer, name="fair_answer"),
]

urlpatterns = [
    *(p for p in site_urlpatterns if getattr(p, "namespace", None) != "bench_floor"),
    path("bench/", include((floor_urlpatterns, "bench_floor"))),
]
