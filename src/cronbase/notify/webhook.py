"""The `webhook` kind: a JSON POST signed as the Standard Webhooks specification says, with
the `standardwebhooks` package.

Headers: `webhook-id` (the notification's id, the same on every attempt, so a receiver can
drop duplicates), `webhook-timestamp` (this attempt's time: every attempt is signed afresh,
as verifiers refuse timestamps more than a few minutes old) and `webhook-signature`,
`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret, space-separated,
while a rotated secret is still in its grace period.
"""

from __future__ import annotations

import json
import secrets
from base64 import b64encode
from datetime import UTC, datetime

from standardwebhooks import Webhook

from cronbase.notify.http import post
from cronbase.notify.model import Attempt, Channel, Notification

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret, `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def body_of(notification: Notification) -> bytes:
    return json.dumps(notification.payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature_headers(
    message_id: str, body: bytes, signing_secrets: tuple[str, ...], at: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers of `body` sent as `message_id` at `at`."""
    text = body.decode()
    signatures = [Webhook(secret).sign(message_id, at, text) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def send(
    channel: Channel, notification: Notification, timeout: float, *, allow_private: bool = False
) -> Attempt:
    """One signed POST of the notification to the channel's URL (to a private address only
    with `allow_private`)."""
    if not channel.signing_secrets:
        return Attempt(None, "the channel has no signing secret", 0, permanent=True)
    body = body_of(notification)
    # The receiver checks the timestamp against its own clock: this is the real time, never
    # the scheduler's (possibly simulated) clock.
    now = datetime.now(UTC).replace(microsecond=0)
    headers = signature_headers(str(notification.id), body, channel.signing_secrets, now)
    return post(channel.url, body, headers, timeout, allow_private=allow_private)
