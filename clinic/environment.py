"""Read settings from the environment, each value checked and each error naming its variable.

One line in clinic/settings.py per variable:

    SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
    LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", LOG_LEVELS, case_sensitive=False)

A bad value raises ImproperlyConfigured("NAME: reason"), which stops the process at start.
Values that may hold secrets (keys, passwords in URLs) are never repeated in a message.
A variable that is set to an empty string counts as set: `env_str` returns "" and the
numeric readers refuse it, so a half-filled `.env` line is an error rather than a default.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable
from typing import NoReturn, TypeVar

import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

T = TypeVar("T")

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def fail(name: str, reason: str) -> NoReturn:
    """Stop with `NAME: reason`."""
    raise ImproperlyConfigured(f"{name}: {reason}")


def is_set(name: str) -> bool:
    """Return whether the variable is present in the environment (even if empty)."""
    return name in os.environ


def env_str(name: str, default: str, *, required: bool = False, choices: Iterable[str] = ()) -> str:
    """Read a string (stripped); `required` refuses an empty value."""
    value = os.environ.get(name, default).strip()
    if required and not value:
        fail(name, "must not be empty")
    allowed = tuple(choices)
    if allowed and value not in allowed:
        fail(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def env_choice(
    name: str, default: str, choices: Iterable[str], *, case_sensitive: bool = True
) -> str:
    """Read one of `choices`; with `case_sensitive=False` return the choice as spelled there."""
    allowed = tuple(choices)
    value = os.environ.get(name, default).strip()
    for choice in allowed:
        if value == choice or (not case_sensitive and value.lower() == choice.lower()):
            return choice
    fail(name, f"{value!r} is not one of {', '.join(allowed)}")


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean: 1/0, true/false, yes/no, on/off; anything else is an error."""
    value = os.environ.get(name, "1" if default else "0").strip().lower()
    if value not in TRUE_WORDS | FALSE_WORDS:
        fail(name, f"{value!r} is not a boolean (use 1/0, true/false, yes/no or on/off)")
    return value in TRUE_WORDS


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Read a whole number within [minimum, maximum]."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        fail(name, f"{raw.strip()!r} is not a whole number")
    _check_range(name, value, minimum, maximum)
    return value


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """Read a number (decimals allowed) within [minimum, maximum]."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        fail(name, f"{raw.strip()!r} is not a number")
    if value != value or value in (float("inf"), float("-inf")):  # nan, inf
        fail(name, f"{raw.strip()!r} is not a finite number")
    _check_range(name, value, minimum, maximum)
    return value


def _check_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        fail(name, f"{value:g} is below the minimum of {minimum:g}")
    if maximum is not None and value > maximum:
        fail(name, f"{value:g} is above the maximum of {maximum:g}")


def env_list(
    name: str,
    default: Iterable[T],
    *,
    item: Callable[[str, str], T] | None = None,
) -> list[T]:
    """Read a comma-separated list; `item(name, entry)` checks and converts each entry."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    return [item(name, entry) if item else entry for entry in entries]


def env_pairs(name: str, *, value: Callable[[str, str], T] | None = None) -> dict[str, T]:
    """Read `key=value,key=value`; `value(name, raw)` checks and converts each value."""
    pairs: dict[str, T] = {}
    for entry in env_list(name, []):
        key, sep, raw = entry.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            fail(name, f"{entry!r} is not a key=value pair")
        if key in pairs:
            fail(name, f"{key!r} is given twice")
        pairs[key] = value(name, raw) if value else raw
    return pairs


def env_import_path(name: str, default: str) -> str:
    """Read a dotted path to a class (a backend) and check that it imports."""
    path = env_str(name, default, required=True)
    try:
        import_string(path)
    except ImportError as exc:
        fail(name, f"{path!r} cannot be imported ({exc})")
    return path


def env_absolute_path(name: str, default: str) -> str:
    """Read a filesystem path that must be absolute."""
    path = env_str(name, default, required=True)
    if not os.path.isabs(path):
        fail(name, f"{path!r} is not an absolute path")
    return path


# ---- entry checkers for env_list ---------------------------------------------------------


def ip_network(name: str, entry: str) -> IPNetwork:
    """Check one IPv4/IPv6 address or CIDR (`10.0.0.0/8`, `::1`); an address is a /32 or /128."""
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        fail(name, f"{entry!r} is not an IP address or network (like 172.30.0.0/24 or ::1)")


def url_with_scheme(name: str, entry: str) -> str:
    """Check one origin such as https://clinic.example (Django needs the scheme)."""
    scheme, sep, rest = entry.partition("://")
    if not sep or scheme not in ("http", "https") or not rest or "/" in rest:
        fail(name, f"{entry!r} must look like https://clinic.example (scheme and host)")
    return entry


def international_phone(name: str, entry: str) -> str:
    """Check one phone number written with its country code (+447700900123); return E.164."""
    try:
        number = phonenumbers.parse(entry, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        fail(name, f"{entry!r} is not a phone number with its country code, like +447700900123")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Emergency numbers for the regions a clinic is likely to be in: 999 in the UK, 911 in North
# America, 112 across the EU (and the EEA and Switzerland, where it works too). A region not
# listed needs CLINIC_EMERGENCY_NUMBER set: a wrong number on the emergency advice is worse
# than a start-up error.
EUROPEAN_112 = (
    *("AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR"),
    *("HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO"),
    *("SE", "SI", "SK"),
)
EMERGENCY_NUMBERS = {
    "GB": "999",
    "US": "911",
    "CA": "911",
    **dict.fromkeys(EUROPEAN_112, "112"),
}


def env_region(name: str, default: str) -> str:
    """Read an ISO 3166 country code that the phone-number library knows (GB, US, DE...)."""
    value = os.environ.get(name, default).strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        fail(name, f"{value!r} is not a two-letter country code such as GB, US or DE")
    return value


def env_emergency_number(name: str, region: str, region_name: str) -> str:
    """Read the emergency number, or the region's (999 GB, 112 EU, 911 US) when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        if region not in EMERGENCY_NUMBERS:
            fail(
                name, f"must be set: there is no known emergency number for {region_name}={region}"
            )
        return EMERGENCY_NUMBERS[region]
    if not all(c.isdigit() or c in " +-" for c in value) or not any(c.isdigit() for c in value):
        fail(name, f"{value!r} is not a number to dial, like 999, 112 or 911")
    return value
