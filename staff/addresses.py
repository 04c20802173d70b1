"""The client's address, the one way every part of the app reads it (rate limits, axes).

`X-Forwarded-For` is believed only from a peer in TRUSTED_PROXIES: then the header is walked
from the right (the entry the trusted peer added) past every trusted hop, and the first
untrusted entry is the client. Anyone else's header is ignored, so a client cannot choose
the address its requests are counted under. IPv6 clients are counted per /64, the block one
subscriber usually holds, so rotating through it does not reset a limit.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPV6_PREFIX = 64

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.5:443"
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def _counted(address: Address) -> str:
    """Return the address as counted: itself for IPv4, its /64 network for IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False).network_address)
    return str(address)


def client_address(request: HttpRequest) -> str:
    """Return the address the request is counted under (see the module's docstring)."""
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    client = peer
    if _trusted(peer):
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:
                break  # garbage from whoever the last trusted hop talked to: stop there
            client = address
            if not _trusted(address):
                break
    return _counted(client)
