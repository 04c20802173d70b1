"""The client's address: X-Forwarded-For only from TRUSTED_PROXIES, walked from the right,
IPv6 per /64; the check-in rate limit and the login lockout (axes) both use it."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client as WebClient
from django.test import RequestFactory
from django.urls import reverse

from clinic.environment import env_list, ip_network
from followup import views
from staff.addresses import client_address
from tests.factories import UserFactory

PROXY = "10.0.0.5"
PASSWORD = "correct horse battery"


@pytest.fixture
def behind_proxy(settings, monkeypatch):
    settings.TRUSTED_PROXIES = _trusted("10.0.0.0/24, fd00::1", monkeypatch)


def _address(peer: str, forwarded: str | None = None) -> str:
    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # A trusted proxy: the entry it added (the rightmost) is the client.
        (PROXY, "203.0.113.7", "203.0.113.7"),
        # What the client sent itself, left of that, is ignored.
        (PROXY, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        # Past a chain of trusted proxies to the first untrusted entry.
        (PROXY, "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        ("fd00::1", "203.0.113.7", "203.0.113.7"),
        # Every entry trusted: the leftmost.
        (PROXY, "10.0.0.7, 10.0.0.9", "10.0.0.7"),
        # Garbage where an address should be: the walk stops at the last trusted hop.
        (PROXY, "203.0.113.7, not-an-address", PROXY),
        (PROXY, "", PROXY),
        # Ports and brackets as some proxies write them.
        (PROXY, "203.0.113.7:51234", "203.0.113.7"),
        (PROXY, "[2001:db8:1:2::99]:443", "2001:db8:1:2::"),
        # An IPv4 client seen over IPv6.
        ("::ffff:203.0.113.7", None, "203.0.113.7"),
    ],
)
def test_the_client_address_comes_from_a_trusted_proxy_only(
    behind_proxy, peer, forwarded, expected
):
    assert _address(peer, forwarded) == expected


@pytest.mark.parametrize("peer", ["203.0.113.9", "10.0.1.5"])
def test_anyone_elses_forwarded_header_is_ignored(behind_proxy, peer):
    assert _address(peer, "198.51.100.1") == peer


def test_with_no_trusted_proxies_the_header_never_counts(settings):
    settings.TRUSTED_PROXIES = []
    assert _address(PROXY, "198.51.100.1") == PROXY


def test_ipv6_clients_are_counted_per_64(behind_proxy):
    first = _address("2001:db8:aa:bb:1::1")
    other_host_same_64 = _address("2001:db8:aa:bb:ffff:ffff:ffff:ffff")
    next_64 = _address("2001:db8:aa:bc::1")
    assert first == other_host_same_64 == "2001:db8:aa:bb::"
    assert next_64 != first
    assert ipaddress.ip_address(first)  # a valid address: axes stores it as one


@pytest.mark.parametrize("value", ["10.0.0.1,nonsense", "10.0.0.0/33", "fd00::/129"])
def test_a_bad_trusted_proxies_value_stops_the_start(value, monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        _trusted(value, monkeypatch)


def _trusted(value: str, monkeypatch) -> list:
    """Read TRUSTED_PROXIES as settings.py does."""
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    return env_list("TRUSTED_PROXIES", [], item=ip_network)


@pytest.mark.django_db
def test_a_client_cannot_dodge_the_rate_limit_by_sending_its_own_header(client, settings):
    settings.TRUSTED_PROXIES = []  # gunicorn reached directly: the header is the client's
    url = reverse("followup:answer", args=["x" * 43])
    for i in range(views.RATE_LIMIT_REQUESTS):
        response = client.get(url, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}")
        assert response.status_code == 404
    limited = client.get(url, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert limited.status_code == 429


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(client, behind_proxy):
    url = reverse("followup:answer", args=["x" * 43])
    for _ in range(views.RATE_LIMIT_REQUESTS):
        client.get(url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client.get(url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # Another client through the same proxy, and one spoofing the first's address to the
    # left of its own, are counted as themselves.
    assert client.get(url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 404
    spoofing = client.get(url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5, 203.0.113.7")
    assert spoofing.status_code == 404


@pytest.mark.django_db
def test_ipv6_clients_rotating_through_their_64_share_one_limit(client, settings):
    settings.TRUSTED_PROXIES = []
    url = reverse("followup:answer", args=["x" * 43])
    for i in range(views.RATE_LIMIT_REQUESTS):
        client.get(url, REMOTE_ADDR=f"2001:db8:5:6::{i + 1:x}")
    assert client.get(url, REMOTE_ADDR="2001:db8:5:6::ffff").status_code == 429
    assert client.get(url, REMOTE_ADDR="2001:db8:5:7::1").status_code == 404


@pytest.mark.django_db
def test_failed_logins_behind_the_proxy_lock_out_only_that_client(behind_proxy, settings):
    """Axes counts the same address: five bad tries from one client do not lock the
    therapist out for everyone behind the proxy."""
    UserFactory(username="tess", groups=["therapist"])
    url = reverse("login")
    attacker = WebClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(url, {"username": "tess", "password": "wrong"})
    locked = attacker.post(url, {"username": "tess", "password": PASSWORD})
    assert locked.status_code in (403, 429)

    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}
    therapist = WebClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.20")
    response = therapist.post(url, {"username": "tess", "password": PASSWORD})
    assert response.status_code == 302
