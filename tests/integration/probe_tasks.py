"""A probe task the integration worker loads (`celery worker -I`) to prove the harness works.

It sends one email through Django's configured backend, exactly like the app's own tasks do,
so a mail arriving at the SMTP sink proves broker -> worker -> database settings -> SMTP.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="harness.send_probe_mail")
def send_probe_mail(to: str, subject: str, body: str) -> int:
    """Send one email through settings.EMAIL_BACKEND and return how many were sent."""
    from django.core.mail import send_mail

    return send_mail(subject, body, None, [to], fail_silently=False)


@shared_task(name="harness.count_users")
def count_users() -> int:
    """Return how many users the worker sees (it must be the test database's users)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.count()
