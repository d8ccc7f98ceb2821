"""Notification URLs: http(s) only, and only to public addresses unless allowed, checked again
on the address a delivery connects to (so DNS rebinding cannot get past the check)."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from cronbase.notify.destinations import (
    PinnedTransport,
    RefusedDestination,
    check_destination,
    non_public,
)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT: not global
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_addresses_are_sorted_into_public_and_not(address: str, kind: str | None) -> None:
    assert non_public(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.com/x", "must be an http:// or https:// URL, got ftp scheme"),
        ("file:///etc/passwd", "must be an http:// or https:// URL"),
        ("example.com/hook", "got no scheme"),
        ("https:///path", "must name a host"),
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
        ("http://[::1]/hook", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data", "is a link-local address"),
        ("https://10.0.0.5/hook", "is a private address"),
        ("http://localhost:9/hook", "localhost resolves to"),
        ("http://0.0.0.0/", "is an unspecified address"),
    ],
)
def test_refused_urls_say_why(url: str, says: str) -> None:
    with pytest.raises(RefusedDestination) as refused:
        check_destination(url, allow_private=False)
    assert says in str(refused.value)


def test_a_refused_private_address_says_how_to_allow_it() -> None:
    with pytest.raises(RefusedDestination, match="CRONBASE_ALLOW_PRIVATE_WEBHOOKS=1"):
        check_destination("http://192.168.0.10/hook", allow_private=False)


def test_private_addresses_are_allowed_when_the_setting_says_so() -> None:
    check_destination("http://localhost:9/hook", allow_private=True)
    check_destination("http://10.0.0.5/hook", allow_private=True)
    with pytest.raises(RefusedDestination, match="must be an http"):
        check_destination("gopher://10.0.0.5/", allow_private=True)  # the scheme still counts


def test_a_host_that_does_not_resolve_is_refused_as_transient() -> None:
    with pytest.raises(RefusedDestination, match="does not resolve") as refused:
        check_destination("https://no-such-host.invalid/hook", allow_private=False)
    assert refused.value.transient


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[tuple[str, bytes]]]]:
    """A real HTTP server on 127.0.0.1 that records (Host header, body) of each POST."""
    seen: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            seen.append((self.headers["host"], body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_the_pinned_transport_connects_to_the_checked_address_keeping_the_host_name(
    receiver: tuple[int, list[tuple[str, bytes]]],
) -> None:
    port, seen = receiver
    with httpx.Client(transport=PinnedTransport(allow_private=True)) as client:
        response = client.post(f"http://localhost:{port}/hook", content=b"{}")
    assert response.status_code == 204
    assert seen == [(f"localhost:{port}", b"{}")]


def test_the_pinned_transport_refuses_a_name_that_resolves_to_a_private_address(
    receiver: tuple[int, list[tuple[str, bytes]]],
) -> None:
    # At delivery, after resolution: "localhost" passes for a name, but it is loopback.
    port, seen = receiver
    with (
        httpx.Client(transport=PinnedTransport(allow_private=False)) as client,
        pytest.raises(RefusedDestination, match="localhost resolves to"),
    ):
        client.post(f"http://localhost:{port}/hook", content=b"{}")
    assert seen == []
