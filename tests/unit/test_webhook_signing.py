"""Standard Webhooks signatures as the webhook kind sends them, checked by the reference
verifier (standardwebhooks.Webhook.verify), with one secret and with two during a rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from cronbase.notify.webhook import new_secret, signature_headers

BODY = b'{"event":"run.failed"}'


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert first != second
    # what the verifier decodes from it
    assert len(Webhook(first)._whsecret) == 32


def test_the_signature_verifies_with_each_secret_it_was_signed_with_and_no_other() -> None:
    current, previous, stranger = new_secret(), new_secret(), new_secret()
    now = datetime.now(UTC)
    headers = signature_headers("msg_1", BODY, (current, previous), now)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(current).verify(BODY, headers) == {"event": "run.failed"}
    assert Webhook(previous).verify(BODY, headers) == {"event": "run.failed"}
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(current).verify(BODY + b" ", headers)


def test_a_signature_ten_minutes_old_is_refused_so_each_attempt_signs_afresh() -> None:
    secret = new_secret()
    old = signature_headers("msg_1", BODY, (secret,), datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, old)
