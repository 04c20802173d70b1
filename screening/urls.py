from __future__ import annotations

from django.urls import path

from screening import documents, views

app_name = "screening"

urlpatterns = [
    path("visit/<int:visit_id>/", views.report, name="report"),
    path("visit/<int:visit_id>/screen/", views.screen, name="screen"),
    path(
        "visit/<int:visit_id>/clearance-letter/",
        documents.clearance_letter,
        name="clearance_letter",
    ),
    path("visit/<int:visit_id>/summary/", documents.record_summary, name="record_summary"),
    path("visit/<int:visit_id>/clearance/", views.visit_clearance_add, name="visit_clearance_add"),
    path("<int:screening_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("flag/<int:flag_id>/dismiss/", views.dismiss, name="dismiss"),
    path("flag/<int:flag_id>/resolve/", views.resolve, name="resolve"),
    path("<int:screening_id>/mention/<int:index>/count/", views.count_mention, name="count"),
    path("visit/<int:visit_id>/form-reviewed/", views.form_reviewed, name="form_reviewed"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path(
        "client/<int:client_id>/clearance/",
        views.client_clearance_add,
        name="client_clearance_add",
    ),
    path(
        "clearance/<int:clearance_id>/document/",
        views.clearance_document,
        name="clearance_document",
    ),
]
