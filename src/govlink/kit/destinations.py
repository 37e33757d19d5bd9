"""Where the platform may send a request a user named (a webhook): the server-side request forgery guard.

A URL a user typed must not make the server talk to itself or to its own network: the loopback interface,
link-local addresses (the cloud's metadata service at 169.254.169.254), private networks, multicast and reserved
ranges are refused, unless the operator lists the network as allowed (a government extranet of 10.0.0.0/8, say).
Every address a host name resolves to is checked, so a name that resolves to a refused address is refused too.
The request is then sent to an address that was checked (:func:`checked_address`), not to the name resolved a
second time: a host whose address changes between the check and the connection (DNS rebinding) reaches only
the address that passed.
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


class Refused(Exception):
    """The platform may not send to this URL; the message says why."""


def _addresses(url: str, resolver: Resolver | None) -> list[Address] | None:
    """The addresses ``url``'s host stands for (None: a name left unresolved, with ``resolver=None``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise Refused("the URL names no host")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1")]
    if resolver is None:
        return None
    try:
        return [ipaddress.ip_address(a.split("%", 1)[0])
                for a in resolver(host, parts.port or (443 if parts.scheme == "https" else 80))]
    except OSError as exc:
        raise Refused(f"{host} does not resolve ({exc})") from None


def _check(url: str, addresses: Sequence[Address], allowed: Sequence[Network]) -> None:
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not addresses:
        raise Refused(f"{host} resolves to no address")
    for address in addresses:
        kind = address_refusal(address, allowed)
        if kind is not None:
            raise Refused(f"{address} is {kind}" if str(address) == host else f"{host} resolves to {address}, {kind}")


def checked_address(url: str, allowed: Sequence[Network], *, resolver: Resolver = resolve) -> Address:
    """The address to send a request for ``url`` to, once every address its host resolves to has passed;
    :class:`Refused` says why none may be used."""
    addresses = _addresses(url, resolver)
    assert addresses is not None
    _check(url, addresses, allowed)
    return addresses[0]


def refusal(url: str, allowed: Sequence[Network], *, resolver: Resolver | None = resolve) -> str | None:
    """Why the platform may not send a request to ``url`` (None: it may).  ``resolver=None`` judges an address
    written in the URL and ``localhost`` only, leaving other host names to the check made before sending."""
    try:
        addresses = _addresses(url, resolver)
        if addresses is not None:
            _check(url, addresses, allowed)
    except Refused as exc:
        return str(exc)
    return None
