"""The HTTP server's limits, over real sockets: header size, header and body time, open
connections."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import pytest

from cronbase.api import create_app
from cronbase.config import Settings
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.api.conftest import LiveServer

MAX_HEADER_BYTES = 4096
HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 5


@dataclass
class Server:
    host: str
    port: int
    live: LiveServer

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=10)

    def open_connections(self) -> int:
        return len(self.live.server.server_state.connections)


@pytest.fixture
def serve(
    store: SqlStore, clock: FakeClock, registry: JobRegistry
) -> Iterator[Callable[..., Server]]:
    """serve(header_timeout=...) starts cronbase with small limits on a free loopback port."""
    with ExitStack() as running:

        def start(header_timeout: float = HEADER_TIMEOUT) -> Server:
            settings = Settings(
                database_url=str(store.engine.url),
                http_max_header_bytes=MAX_HEADER_BYTES,
                http_header_timeout_seconds=header_timeout,
                http_body_timeout_seconds=BODY_TIMEOUT,
                http_max_connections=MAX_CONNECTIONS,
            )
            app = create_app(settings, store=store, clock=clock, registry=registry)
            live = LiveServer(app, settings)
            host, port = running.enter_context(live).removeprefix("http://").split(":")
            return Server(host, int(port), live)

        yield start


@pytest.fixture
def server(serve: Callable[..., Server]) -> Server:
    return serve()


def read_until_closed(sock: socket.socket, seconds: float = 10) -> bytes:
    """What the server sends until it closes the connection; fails if it stays open."""
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return received
        if not data:
            return received
        received += data
    pytest.fail(f"the server kept the connection open for {seconds} s; got {received!r}")


def is_closed(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(65536) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def healthz_seconds(server: Server) -> float:
    started = time.monotonic()
    response = httpx.get(server.url + "/healthz", timeout=30)
    assert response.status_code == 200
    return time.monotonic() - started


def test_headers_over_the_limit_get_431(server: Server) -> None:
    fits = httpx.get(server.url + "/healthz", headers={"X-Pad": "a" * (MAX_HEADER_BYTES // 2)})
    assert fits.status_code == 200
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8000 + b"\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer


def test_an_endless_header_is_cut_off_while_other_requests_go_on(server: Server) -> None:
    megabyte = b"a" * 1_000_000
    sent = 0
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        while sent < 200 and not select.select([sock], [], [], 0)[0]:
            sock.sendall(megabyte)
            sent += 1
            assert healthz_seconds(server) < 2
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer
    # Socket buffers hold a few MB; without the limit all 200 MB would have gone through.
    assert sent < 20


def test_headers_not_sent_in_time_get_408(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer

    with server.connect() as silent:
        assert read_until_closed(silent) == b""  # connected and said nothing: closed quietly

    # On a kept-alive connection, the clock starts with the next request's first byte.
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408 ")


def test_a_body_not_sent_in_time_gets_408_while_other_requests_go_on(server: Server) -> None:
    body = b'{"name": "Slow", "schedule": "daily", "function_name": "echo"}'
    head = (
        b"POST /api/cron/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with server.connect() as sock:
        started = time.monotonic()
        sock.sendall(head + body[:10])  # and then a byte now and then, never the end
        while time.monotonic() - started < BODY_TIMEOUT + 0.5:
            if select.select([sock], [], [], 0.1)[0]:
                break  # answered
            sock.sendall(b" ")
            assert healthz_seconds(server) < 2
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"the request body took longer than 1 s" in answer
    assert time.monotonic() - started < BODY_TIMEOUT + 3

    # A body sent in time on the same kind of connection is read as usual.
    with server.connect() as sock:
        sock.sendall(head + body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 401 ")  # no token, but read and answered


def test_open_connections_are_bounded_and_idle_ones_give_way(
    serve: Callable[..., Server],
) -> None:
    server = serve(header_timeout=60)  # the stalled connections stay until they give way
    stalled = [server.connect() for _ in range(4 * MAX_CONNECTIONS)]
    try:
        for sock in stalled:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        deadline = time.monotonic() + 5
        while server.open_connections() < MAX_CONNECTIONS and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.open_connections() == MAX_CONNECTIONS
        # A real request still gets through: the connection that waited longest makes room.
        assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
        # Each newcomer past the limit closed the oldest stalled one; the newest stay.
        evicted = len(stalled) - MAX_CONNECTIONS + 1
        closed = [is_closed(sock) for sock in stalled]
        assert closed == [True] * evicted + [False] * (len(stalled) - evicted)
        assert server.open_connections() <= MAX_CONNECTIONS
    finally:
        for sock in stalled:
            sock.close()


def test_uvicorn_command_line_takes_the_protocol_and_its_limits(
    store: SqlStore, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env = {
        "CRONBASE_DATABASE_URL": str(store.engine.url.render_as_string(hide_password=False)),
        "CRONBASE_HTTP_MAX_HEADER_BYTES": "2048",
        "PATH": "/usr/bin:/bin",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--http",
        "cronbase.api.server:HttpProtocol",
        "--factory",
        "cronbase.api.app:create_app_from_env",
        "--port",
        "0",
    ]
    cwd = tmp_path_factory.mktemp("uvicorn")
    with subprocess.Popen(command, env=env, cwd=cwd, stderr=subprocess.PIPE, text=True) as process:
        try:
            url = ""
            assert process.stderr is not None
            for line in process.stderr:
                if "running on" in line:
                    url = line.split("running on ")[1].split()[0]
                    break
            assert url, "uvicorn did not start"
            assert httpx.get(url + "/healthz").status_code == 200
            big = httpx.get(url + "/healthz", headers={"X-Pad": "a" * 4000})
            assert big.status_code == 431
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_when_every_connection_is_busy_a_new_one_gets_503(server: Server) -> None:
    # Each busy connection has sent its headers and is still sending the body it announced.
    busy = [server.connect() for _ in range(MAX_CONNECTIONS)]
    try:
        for sock in busy:
            sock.sendall(
                b"POST /api/cron/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{"
            )
        # A loaded machine can take seconds to accept them all: wait, then say if it did not.
        deadline = time.monotonic() + 30
        while server.open_connections() < MAX_CONNECTIONS and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.open_connections() == MAX_CONNECTIONS, (
            "the busy connections were not all open"
        )
        with server.connect() as newcomer:
            newcomer.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_until_closed(newcomer).startswith(b"HTTP/1.1 503 ")
        assert not any(is_closed(sock) for sock in busy)  # none of the busy ones was dropped
    finally:
        for sock in busy:
            sock.close()
    deadline = time.monotonic() + 5
    while server.open_connections() > 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
