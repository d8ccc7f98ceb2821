"""The `email` kind: a plain-text email through the SMTP server of CRONBASE_SMTP_URL, with
the standard library's smtplib.

    smtp://user:password@mail.example.com:25        plain SMTP (port 25 by default)
    smtp+starttls://user:password@mail.example.com  STARTTLS before logging in (port 587)
    smtps://user:password@mail.example.com          TLS from the start (port 465)

User and password are optional and URL-encoded (`%40` for `@`). A channel's `url` is one
address (the channel API takes one; the sender also reads several, comma-separated).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

from cronbase.notify import messages
from cronbase.notify.model import Attempt, Channel, Notification

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
MAX_RECIPIENTS = 20


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: CRONBASE_SMTP_URL, read."""

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """The server of an smtp://, smtp+starttls:// or smtps:// URL, or ValueError."""
        parts = urlsplit(url.strip())
        if parts.scheme not in _DEFAULT_PORTS:
            raise ValueError(
                "CRONBASE_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, "
                f"got {parts.scheme or 'no'} scheme"
            )
        if not parts.hostname:
            raise ValueError("CRONBASE_SMTP_URL must name a host, e.g. smtp://mail.example.com")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or _DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def connect(self, timeout: float) -> smtplib.SMTP:
        if self.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=timeout)
        try:
            if self.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password or "")
        except BaseException:
            client.close()  # a refused login must not leave the connection open
            raise
        return client


def recipients(text: str) -> list[str]:
    """The addresses of a channel's `url` (comma-separated), or ValueError saying what is
    wrong with them."""
    addresses = [part.strip() for part in text.split(",") if part.strip()]
    if not addresses:
        raise ValueError("must name at least one email address, e.g. ops@example.com")
    if len(addresses) > MAX_RECIPIENTS:
        raise ValueError(f"names {len(addresses)} addresses; at most {MAX_RECIPIENTS}")
    for address in addresses:
        _, parsed = parseaddr(address)
        local, _, domain = parsed.rpartition("@")
        if (
            parsed != address
            or not local
            or "." not in domain
            or any(c in address for c in " \r\n")
        ):
            raise ValueError(f"{address!r} is not an email address such as ops@example.com")
    return addresses


def message(payload: dict[str, Any], sender: str, to: list[str], message_id: str) -> EmailMessage:
    """The email of a notification: the title as subject, the details, then the payload as
    JSON for scripts. Its Message-ID is the notification's, the same on every attempt."""
    email = EmailMessage()
    email["Subject"] = messages.title(payload)
    email["From"] = sender
    email["To"] = ", ".join(to)
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = f"<{message_id}@cronbase>"
    lines = [f"{label}: {text}" for label, text in messages.details(payload)]
    body = "\n".join(lines) + "\n\n-- \nThe notification as JSON:\n"
    email.set_content(body + json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return email


def sender_for(
    server: SmtpServer, from_address: str
) -> Callable[[Channel, Notification, float], Attempt]:
    """The email sender of this deployment (see senders.py for the interface)."""

    def send(channel: Channel, notification: Notification, timeout: float) -> Attempt:
        start = time.monotonic()
        try:
            to = recipients(channel.url)
        except ValueError as exc:
            return Attempt(None, f"the channel's addresses: {exc}", 0, permanent=True)
        email = message(notification.payload, from_address, to, str(notification.id))
        try:
            with server.connect(timeout) as client:
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = "; ".join(
                f"{a}: {code} {text.decode(errors='replace')}"
                for a, (code, text) in exc.recipients.items()
            )
            return Attempt(None, f"the SMTP server refused {refused}", _ms(start))
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            return Attempt(exc.smtp_code, f"SMTP {exc.smtp_code}: {text}"[:500], _ms(start))
        except (smtplib.SMTPException, OSError) as exc:
            where = f"{server.host}:{server.port}"
            return Attempt(
                None, f"SMTP server {where}: {type(exc).__name__}: {exc}"[:500], _ms(start)
            )
        return Attempt(250, None, _ms(start))

    return send


def _ms(start: float) -> int:
    return round((time.monotonic() - start) * 1000)
