"""One HTTP POST of a notification, as every HTTP kind of channel sends it: bounded in time,
with the receiver's answer read only up to a small limit."""

from __future__ import annotations

import threading
import time

import httpx

from cronbase.notify.destinations import PinnedTransport, RefusedDestination
from cronbase.notify.model import Attempt

# What is kept of a receiver's answer, for the attempt's error: enough to read a message, not
# enough for a hostile receiver to fill memory or the database.
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "cronbase-notifications/1"

_clients: dict[bool, httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_client(*, allow_private: bool) -> httpx.Client:
    """The process's HTTP client (one per `allow_private`), made on first use: making one
    loads the CA bundle, which cost 200 ms on a loaded machine, more than a whole delivery;
    a client is safe across threads.

    Redirects are not followed (a signed alert goes where the channel says, nowhere else), no
    proxy comes from the environment (the pinned transport is the only way out), and no
    connection is kept for the next request: the transport connects to an address, and a
    kept connection could carry another host's alert over a TLS session checked for the first.
    """
    with _clients_lock:
        client = _clients.get(allow_private)
        if client is None:
            transport = PinnedTransport(
                allow_private=allow_private, limits=httpx.Limits(max_keepalive_connections=0)
            )
            client = httpx.Client(follow_redirects=False, transport=transport, trust_env=False)
            _clients[allow_private] = client
        return client


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    *,
    allow_private: bool = False,
) -> Attempt:
    """POST `body` to `url`: delivered on a 2xx answer; else an Attempt with the error. The
    host must resolve to public addresses unless `allow_private` (see destinations.py); the
    request goes to the very address checked."""
    start = time.monotonic()
    headers = {"content-type": "application/json", "user-agent": USER_AGENT, **headers}
    client = shared_client(allow_private=allow_private)
    try:
        with client.stream("POST", url, content=body, headers=headers, timeout=timeout) as response:
            text = _read_some(response, start + timeout)
    except RefusedDestination as exc:
        # A name that now resolves to a private address (DNS rebinding, or a change) is
        # refused for good; one that does not resolve may come back.
        error = f"refused: the URL {exc}"
        return Attempt(None, error, _ms_since(start), permanent=not exc.transient)
    except httpx.TimeoutException:
        return Attempt(None, f"no answer within {timeout:g} s", _ms_since(start))
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:500], _ms_since(start))
    duration = _ms_since(start)
    if 200 <= response.status_code < 300:
        return Attempt(response.status_code, None, duration)
    error = f"HTTP {response.status_code}" + (f": {text}" if text else "")
    return Attempt(response.status_code, error, duration)


def _read_some(response: httpx.Response, deadline: float) -> str:
    """The start of the answer's body, up to MAX_RESPONSE_BYTES and until `deadline`: a
    receiver that answers slowly or endlessly is not waited for."""
    kept = b""
    for chunk in response.iter_bytes():
        kept += chunk
        if len(kept) >= MAX_RESPONSE_BYTES or time.monotonic() > deadline:
            break
    return kept[:MAX_RESPONSE_BYTES].decode("utf-8", "replace").strip()


def _ms_since(start: float) -> int:
    return round((time.monotonic() - start) * 1000)
