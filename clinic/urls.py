from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from clinic import views

# No sidebar of every model beside each admin page: on a 1366 px laptop it left the visit
# list too narrow for its screening and follow-up columns. The breadcrumbs lead home.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path(
        "favicon.ico",
        RedirectView.as_view(url="/static/favicon.svg", permanent=True),
        name="favicon",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("staff.urls")),
    path("admin/", admin.site.urls),
    path("", include("intake.urls")),
    path("screening/", include("screening.urls")),
    path("", include("followup.urls")),
    path("", include("messaging.urls")),
]
# Uploaded clearance letters are health records: they are never served from MEDIA_URL, only
# through screening's permission-checked download view.

if settings.BENCH_FLOOR:
    urlpatterns.append(path("bench/", include("clinic.bench_views")))
