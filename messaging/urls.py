from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    # Under /followup/ since the outbox began there: bookmarks and the demo's help keep working.
    path("followup/outbox/", views.outbox, name="outbox"),
]
