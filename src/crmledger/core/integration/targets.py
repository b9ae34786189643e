"""Which URLs a webhook may be sent to.

A webhook is a request the server makes on a customer's behalf, so a subscription must not
reach the server's own network (server-side request forgery): every address a target's
host resolves to must be a public one. The rule is applied to the resolved addresses, not
the host name, so ``localhost``, ``127.1``, ``2130706433``, ``[::ffff:10.0.0.1]`` or a DNS
name pointing inside are all caught; the request then goes to the address that was
checked, so the name cannot resolve differently a moment later::

    >>> refusal("127.0.0.1"), refusal("10.1.2.3"), refusal("169.254.169.254")
    ('loopback', 'private', 'link-local')
    >>> refusal("93.184.216.34") is None
    True
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from crmledger.core.errors import InvalidFieldError

#: NAT64 (RFC 6052) embeds an IPv4 address that a gateway reaches on the caller's behalf.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL = 2000


class UnsafeTargetError(InvalidFieldError):
    """A webhook target is not a plain http(s) URL, or its host resolves to an address the
    server must not reach (loopback, private, link-local, reserved)."""

    def __init__(self, message: str) -> None:
        super().__init__("url", message)


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed webhook URL: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


def parse_target(url: str) -> Target:
    """``url`` as a :class:`Target`; :class:`UnsafeTargetError` unless it is an absolute
    http(s) URL with a host and without credentials or a fragment."""
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeTargetError(f"a webhook URL has at most {MAX_URL} visible characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTargetError("the URL cannot be read") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTargetError("a webhook URL is http:// or https:// with a host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTargetError("a webhook URL carries no user name or password")
    if parts.fragment:
        raise UnsafeTargetError("a webhook URL has no #fragment")
    default = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or default, path)


def _embedded(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


_CHECKS: tuple[tuple[str, str], ...] = (
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_unspecified", "reserved"),
    ("is_multicast", "reserved"),
    ("is_private", "private"),
    ("is_reserved", "reserved"),
)


def refusal(address: str) -> str | None:
    """Why ``address`` must not be reached (``loopback``, ``private``, ``link-local``,
    ``reserved``), or ``None`` for a public address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    inner = _embedded(ip)
    if inner is not None:
        return refusal(str(inner))
    for attribute, why in _CHECKS:
        if getattr(ip, attribute):
            return why
    return None if ip.is_global else "reserved"


def literal_refusal(host: str) -> str | None:
    """For a host written as an IP address, why it must not be reached; ``None`` for a
    public address or a name (names are judged by what they resolve to)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return refusal(host)
