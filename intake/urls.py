from __future__ import annotations

from django.urls import path

from intake import client_views, views

app_name = "intake"

urlpatterns = [
    # The client's health form: no login, a link token and their date of birth instead.
    path("i/<str:token>/", client_views.start, name="link"),
    path("i/<str:token>/opt-out/", client_views.opt_out, name="link_opt_out"),
    path("i/<str:token>/done/", client_views.done, name="link_done"),
    path("i/<str:token>/<slug:slug>/", client_views.step, name="link_step"),
    path("today/", views.today, name="today"),
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create, name="client_create"),
    path("clients/<int:client_id>/", views.client_detail, name="client_detail"),
    path("clients/<int:client_id>/intakes/new/", views.intake_create, name="intake_create"),
    path("clients/<int:client_id>/visits/new/", views.visit_create, name="visit_create"),
    path("intakes/<int:intake_id>/", views.intake_detail, name="intake_detail"),
    path("intakes/<int:intake_id>/changes/", views.intake_diff, name="intake_diff"),
    path("visits/<int:visit_id>/", views.visit_detail, name="visit_detail"),
    path("visits/<int:visit_id>/plan/", views.visit_plan, name="visit_plan"),
    path("visits/<int:visit_id>/complete/", views.visit_complete, name="visit_complete"),
    path("visits/<int:visit_id>/defer/", views.visit_defer, name="visit_defer"),
    path("visits/<int:visit_id>/cancel/", views.visit_cancel, name="visit_cancel"),
]
