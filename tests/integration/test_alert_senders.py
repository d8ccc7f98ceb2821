"""The slack and email senders against real servers: an HTTP receiver and an SMTP server
(aiosmtpd) started in the test."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from cronbase.config import Settings
from cronbase.notify.model import Channel, ChannelKind, Notification, NotificationStatus
from cronbase.notify.senders import senders
from tests.acceptance.cli import free_port

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PAYLOAD: dict[str, Any] = {
    "event": "run.failed",
    "time": "2026-11-30T12:00:00Z",
    "job": {
        "id": "0b5c7a52-8f5e-4f43-9d67-1d0e3f1f2a11",
        "name": "Nightly <export> & sync",
        "tenant_id": None,
        "function_name": "exportAll",
        "schedule": "daily",
    },
    "run": {
        "id": "5f0e1d9c-2b7a-4a55-8f8e-6c1b1a9d0c22",
        "scheduled_for": "2026-11-30T00:00:00Z",
        "attempt": 3,
        "status": "failed",
        "error": "KeyError: 'missing'",
        "duration": 1.25,
        "log_tail": "INFO exporting 12 accounts",
        "traceback_tail": "  File \"export.py\", line 9, in _read\nKeyError: 'missing'",
    },
    "folded": {"count": 59, "since": "2026-11-30T11:01:00Z"},
    "link": "https://cron.example.com/jobs/0b5c7a52-8f5e-4f43-9d67-1d0e3f1f2a11",
}


def channel(kind: ChannelKind, url: str) -> Channel:
    return Channel(uuid4(), None, "ops", kind, url, ["run.failed"], None, NOW, NOW)


def notification(payload: dict[str, Any] = PAYLOAD) -> Notification:
    return Notification(
        uuid4(), uuid4(), None, None, None, "run.failed", payload, NOW,
        NotificationStatus.PENDING, 1, NOW,
    )  # fmt: skip


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real incoming-webhook endpoint on 127.0.0.1 keeping the JSON bodies it got."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/services/T0/B0/x", bodies
    server.shutdown()
    server.server_close()


def test_a_slack_message_has_text_and_blocks_with_the_details(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, bodies = receiver
    send = senders(Settings(allow_private_webhooks=True))[ChannelKind.SLACK]
    attempt = send(channel(ChannelKind.SLACK, url), notification(), 5.0)
    assert attempt.delivered, attempt.error
    [body] = bodies
    # Mattermost and others show `text`; Slack shows the blocks.
    assert body["text"] == (
        "cronbase: Nightly <export> & sync failed (and 59 more failures since 2026-11-30T11:01:00Z)"
    )
    header, details, error = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "cronbase: Nightly <export> & sync failed"},
    }
    text = details["text"]["text"]
    assert "*Job:* Nightly &lt;export&gt; &amp; sync (exportAll, daily)" in text  # no markup
    assert "*Status:* failed, attempt 3" in text
    assert "*Repeats:* and 59 more failures since 2026-11-30T11:01:00Z" in text
    assert "*Link:* https://cron.example.com/jobs/" in text
    assert error["text"]["text"].startswith('```  File "export.py", line 9, in _read')
    assert "KeyError: 'missing'```" in error["text"]["text"]


def test_a_slack_url_on_a_private_address_is_refused_at_delivery(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, bodies = receiver
    send = senders(Settings())[ChannelKind.SLACK]
    attempt = send(channel(ChannelKind.SLACK, url), notification(), 5.0)
    assert not attempt.delivered
    assert attempt.permanent
    assert "refused: the URL localhost resolves to 127.0.0.1, which is a loopback address" in (
        attempt.error or ""
    )
    assert "CRONBASE_ALLOW_PRIVATE_WEBHOOKS=1" in (attempt.error or "")
    assert bodies == []


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


def _only_ops(
    _server: Any, _session: Any, _envelope: Any, _mechanism: str, auth: Any
) -> AuthResult:
    ok = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (b"ops", b"p@ss")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on 127.0.0.1 that asks for a login (ops / p@ss)."""
    inbox = Inbox()
    port = free_port()
    # Plain-text AUTH is what aiosmtpd warns about; here it never leaves the machine.
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_only_ops,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield port, inbox
    controller.stop()


def test_an_email_goes_through_the_smtp_server_with_the_details_and_the_json(
    smtp_server: tuple[int, Inbox],
) -> None:
    port, inbox = smtp_server
    settings = Settings(
        smtp_url=f"smtp://ops:p%40ss@127.0.0.1:{port}", smtp_from="cron@example.com"
    )
    send = senders(settings)[ChannelKind.EMAIL]
    sent = notification()
    attempt = send(channel(ChannelKind.EMAIL, "ops@example.com, oncall@example.com"), sent, 5.0)
    assert attempt.delivered, attempt.error
    [(sender, recipients, message)] = inbox.messages
    assert sender == "cron@example.com"
    assert recipients == ["ops@example.com", "oncall@example.com"]
    assert message["Subject"] == "cronbase: Nightly <export> & sync failed"
    assert message["Message-ID"] == f"<{sent.id}@cronbase>"  # the same on every attempt
    body = message.get_content().replace("\r\n", "\n")  # SMTP's line ends
    assert "Job: Nightly <export> & sync (exportAll, daily)" in body
    assert "Repeats: and 59 more failures since 2026-11-30T11:01:00Z" in body
    assert "KeyError: 'missing'" in body
    assert 'Traceback:   File "export.py", line 9, in _read\nKeyError' in body
    assert "Log: INFO exporting 12 accounts" in body
    assert json.loads(body.split("The notification as JSON:\n", 1)[1]) == PAYLOAD


def test_a_wrong_login_or_a_server_away_is_an_attempt_that_failed(
    smtp_server: tuple[int, Inbox],
) -> None:
    port, inbox = smtp_server
    wrong = senders(Settings(smtp_url=f"smtp://ops:nope@127.0.0.1:{port}"))[ChannelKind.EMAIL]
    attempt = wrong(channel(ChannelKind.EMAIL, "ops@example.com"), notification(), 5.0)
    assert attempt.error is not None
    assert attempt.error.startswith("SMTP 535")
    away = senders(Settings(smtp_url=f"smtp://127.0.0.1:{free_port()}"))[ChannelKind.EMAIL]
    attempt = away(channel(ChannelKind.EMAIL, "ops@example.com"), notification(), 5.0)
    assert attempt.error is not None
    assert "ConnectionRefusedError" in attempt.error
    assert not attempt.permanent  # retried: the server may come back
    assert inbox.messages == []


def test_email_needs_an_smtp_url_and_the_url_is_checked() -> None:
    assert ChannelKind.EMAIL not in senders(Settings())
    with pytest.raises(ValueError, match="must start with smtp://, smtp\\+starttls:// or smtps://"):
        Settings(smtp_url="http://mail.example.com")
