"""The webhook guard: no address of the platform itself or of a non-public network, unless allowed."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.kit.destinations import Resolver, networks, refusal

NONE = networks([])


NON_PUBLIC = ("127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16", "::1/128", "fe80::/10", "fc00::/7")


@given(st.one_of(*(st.ip_addresses(network=n) for n in NON_PUBLIC)))
def test_non_public_addresses_are_refused_however_written(address: ipaddress.IPv4Address | ipaddress.IPv6Address
                                                           ) -> None:
    written = f"[{address}]" if address.version == 6 else str(address)
    assert refusal(f"http://{written}:8080/hook", NONE) is not None
    if address.version == 4:  # the same address as IPv6 (::ffff:a.b.c.d) is the same address
        assert refusal(f"http://[::ffff:{address}]/", NONE) is not None


@given(st.ip_addresses(network="10.0.0.0/8"))
def test_an_allowed_network_is_reached(address: ipaddress.IPv4Address) -> None:
    assert refusal(f"https://{address}/hook", networks(["10.0.0.0/8"])) is None
    assert refusal(f"https://{address}/hook", networks(["192.168.0.0/16"])) is not None


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    def resolver(answers: list[str]) -> Resolver:
        return lambda host, port: answers

    assert refusal("https://hooks.example.org/x", NONE, resolver=resolver(["93.184.216.34"])) is None
    mixed = refusal("https://hooks.example.org/x", NONE, resolver=resolver(["93.184.216.34", "127.0.0.1"]))
    assert mixed == "hooks.example.org resolves to 127.0.0.1, the server itself"
    assert refusal("https://hooks.example.org/x", NONE, resolver=None) is None  # judged before sending instead
    assert refusal("http://LOCALHOST./", NONE, resolver=None) is not None
    assert refusal("http:///nohost", NONE) == "the URL names no host"


def test_a_malformed_network_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0/33'"):
        networks(["10.0.0/33"])
