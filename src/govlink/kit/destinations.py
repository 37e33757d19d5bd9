"""Where the platform may send a request a user named (a webhook): the server-side request forgery guard.

A URL a user typed must not make the server talk to itself or to its own network: the loopback interface,
link-local addresses (the cloud's metadata service at 169.254.169.254), private networks, multicast and reserved
ranges are refused, unless the operator lists the network as allowed (a government extranet of 10.0.0.0/8, say).
Every address a host name resolves to is checked, so a name that resolves to a refused address is refused too.
A host whose address changes between this check and the connection (DNS rebinding) is not caught here.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Iterable[str]]


def networks(allowed: Iterable[str]) -> list[Network]:
    """Networks as CIDR strings (``10.0.0.0/8``, ``fd00::/8``); raises ValueError naming a malformed one."""
    found: list[Network] = []
    for text in allowed:
        try:
            found.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a network (write it as 10.0.0.0/8): {exc}") from None
    return found


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system's resolver)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _plain(address: Address) -> Address:
    """An IPv4 address written as IPv6 (``::ffff:127.0.0.1``) judged as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_refusal(address: Address, allowed: Sequence[Network]) -> str | None:
    """What ``address`` is when it may not be reached (None: it may): not a public address, nor in ``allowed``."""
    address = _plain(address)
    if any(address.version == network.version and address in network for network in allowed):
        return None
    if address.is_global and not address.is_multicast:
        return None
    return ("the server itself" if address.is_loopback else "a link-local address" if address.is_link_local
            else "in a private network" if address.is_private else "not a public address")


def refusal(url: str, allowed: Sequence[Network], *, resolver: Resolver | None = resolve) -> str | None:
    """Why the platform may not send a request to ``url`` (None: it may).  ``resolver=None`` judges an address
    written in the URL and ``localhost`` only, leaving other host names to the check made before sending."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "the URL names no host"
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            addresses = [ipaddress.ip_address("127.0.0.1")]
        elif resolver is None:
            return None
        else:
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0])
                             for a in resolver(host, parts.port or (443 if parts.scheme == "https" else 80))]
            except OSError as exc:
                return f"{host} does not resolve ({exc})"
    for address in addresses:
        kind = address_refusal(address, allowed)
        if kind is not None:
            return f"{address} is {kind}" if str(address) == host else f"{host} resolves to {address}, {kind}"
    return None
