"""The development outbox: its page and its admin, both only with DEBUG."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_the_dev_outbox_lists_messages_with_clickable_links_only_in_debug(
    therapist_client, settings
):
    OutboxMessage.objects.create(
        channel="sms", to="+447700900123", body="Hi https://clinic.example/f/abc/"
    )
    OutboxMessage.objects.create(
        channel="email",
        to="a@example.com",
        subject="Newer",
        body="x",
        created_at=timezone.now() + datetime.timedelta(minutes=1),
    )

    settings.DEBUG = False
    assert therapist_client.get(reverse("messaging:outbox")).status_code == 404

    settings.DEBUG = True
    content = therapist_client.get(reverse("messaging:outbox")).content.decode()
    assert '<a href="https://clinic.example/f/abc/"' in content
    assert content.index("Newer") < content.index("+447700900123")


def test_the_outbox_is_in_the_admin_only_in_debug(client, superuser, settings):
    client.force_login(superuser)
    OutboxMessage.objects.create(channel="sms", to="+447700900123", body="hi")
    url = reverse("admin:messaging_outboxmessage_changelist")

    settings.DEBUG = False
    assert client.get(url).status_code == 403
    settings.DEBUG = True
    assert client.get(url).status_code == 200
