"""Real receivers for notification tests: an HTTP server on a loopback port that checks each
webhook's Standard Webhooks signature with the reference verifier, as a user's receiver would.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    """One request as the receiver saw it, and whether its signature verified."""

    headers: dict[str, str]
    body: bytes
    verified_with: list[str]  # which of the receiver's secrets verified it (none: forged)
    answered: int

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class WebhookReceiver:
    """Serves on 127.0.0.1 until closed. Answers `fail_first` requests 500, then 204 to those
    whose signature verifies with one of `secrets` (401 otherwise). While `hold` is clear,
    requests wait for it (to catch a sender mid-delivery)."""

    secrets: list[str] = field(default_factory=list)
    fail_first: int = 0
    hold: threading.Event | None = None
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)  # set at each request

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.arrived.set()
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                headers = {key.lower(): value for key, value in self.headers.items()}
                verified = [s for s in receiver.secrets if _verifies(s, body, headers)]
                if len(receiver.received) < receiver.fail_first:
                    status = 500
                else:
                    status = 204 if verified else 401
                receiver.received.append(Received(headers, body, verified, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/cron"

    def delivered(self) -> list[Received]:
        """The requests it accepted (answered 204)."""
        return [r for r in list(self.received) if r.answered == 204]

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True
