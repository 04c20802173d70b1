"""Messaging's cast: locmem transports (Django's locmem email backend, LocmemSMSBackend)."""

from __future__ import annotations

import pytest
from django.core import mail

from messaging.channels import LocmemSMSBackend


@pytest.fixture(autouse=True)
def locmem_transports(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "locmem"
    settings.SITE_URL = "https://clinic.example"
    LocmemSMSBackend.outbox.clear()
    mail.outbox = []
    yield settings
    LocmemSMSBackend.outbox.clear()
