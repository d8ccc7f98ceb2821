"""Where HTTP notifications may go: http(s) URLs whose host is a public address.

A channel's URL is typed by a tenant's admin, and the server that sends to it sits inside the
deployment's network: without a check, a webhook to 127.0.0.1, 169.254.169.254 (a cloud's
metadata service) or 10.x would let that admin make the server probe what only it can reach.
So a host that is, or resolves to, a loopback, link-local, private, unspecified, multicast or
otherwise non-global address is refused, unless CRONBASE_ALLOW_PRIVATE_WEBHOOKS=1 (a receiver
on your own network, tests).

The check runs twice: when a channel is created or changed (a clear 422), and at every
delivery, after resolving the name, on the very address the request then connects to
(PinnedTransport), so a name that resolved to a public address at creation and to a private
one later (DNS rebinding) is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_SETTING = "CRONBASE_ALLOW_PRIVATE_WEBHOOKS=1"


class RefusedDestination(ValueError):
    """A notification URL that cronbase will not send to; the message says why and what to do.
    `transient`: the host did not resolve, which may change (a delivery is retried)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def check_form(url: str) -> tuple[str, int]:
    """The (host, port) of an http or https URL, or RefusedDestination."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedDestination(f"is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise RefusedDestination(
            f"must be an http:// or https:// URL, got {parts.scheme or 'no'} scheme"
        )
    if not parts.hostname:
        raise RefusedDestination("must name a host, e.g. https://hooks.example.com/cronbase")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def non_public(address: IPAddress) -> str | None:
    """What kind of non-public address this is, or None for a public (global) one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, test in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
    ):
        if test:
            return kind
    return None if address.is_global else "reserved"


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (itself, for an address), or RefusedDestination."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedDestination(
            f"its host {host!r} does not resolve: {exc}", transient=True
        ) from exc
    # The scope of a link-local IPv6 address (fe80::1%eth0) is cut: it is refused anyway.
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def public_addresses(url: str, *, allow_private: bool) -> tuple[str, list[IPAddress]]:
    """(host, its addresses) of an acceptable URL, or RefusedDestination saying why not. Every
    address must be public: the one a client would pick is not known in advance."""
    host, port = check_form(url)
    addresses = resolve(host, port)
    if not allow_private:
        for address in addresses:
            kind = non_public(address)
            if kind is not None:
                shown = host if host == str(address) else f"{host} resolves to {address}, which"
                raise RefusedDestination(
                    f"{shown} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} address; notifications go to public addresses "
                    f"only (set {ALLOW_SETTING} to allow addresses of your own network)"
                )
    return host, addresses


def check_destination(url: str, *, allow_private: bool) -> None:
    """RefusedDestination unless `url` is an http(s) URL of a public host (see the module)."""
    public_addresses(url, allow_private=allow_private)


class PinnedTransport(httpx.HTTPTransport):
    """An httpx transport that connects only to a checked address: it resolves the request's
    host itself, refuses it as check_destination does, and connects to that address (TLS
    still verifies the certificate for the host's name). A second resolution by the HTTP
    library, which a rebinding DNS server could answer differently, never happens."""

    def __init__(self, *, allow_private: bool, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.allow_private = allow_private

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host, addresses = public_addresses(str(request.url), allow_private=self.allow_private)
        request.url = request.url.copy_with(host=str(addresses[0]))
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        # The Host header was set from the name when the request was built, and stays.
        return super().handle_request(request)
