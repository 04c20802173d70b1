from django.urls import path

from followup import views

app_name = "followup"

urlpatterns = [
    # Client pages: no login, a link token instead.
    path("f/<str:token>/", views.answer, name="answer"),
    path("f/<str:token>/opt-out/", views.opt_out, name="opt_out"),
    # Staff pages.
    path("followup/escalations/", views.escalation_queue, name="escalation_queue"),
    path(
        "followup/escalations/<int:pk>/acknowledge/",
        views.escalation_acknowledge,
        name="escalation_acknowledge",
    ),
    path(
        "followup/escalations/<int:pk>/resolve/",
        views.escalation_resolve,
        name="escalation_resolve",
    ),
    path("followup/no-response/", views.no_response, name="no_response"),
    path("followup/no-response/<int:pk>/called/", views.mark_called, name="mark_called"),
    path("followup/visits/<int:pk>/pain-chart/", views.pain_chart, name="pain_chart"),
]
