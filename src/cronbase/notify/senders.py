"""How a notification reaches its channel, per kind of channel: the one interface every
kind implements.

A sender is a function `send(channel, notification, timeout) -> Attempt`: one try, with
`notification.payload` as the body (link included), finished within `timeout` seconds. It
never raises for what the receiver does (refusal, timeout, unreachable host): that is an
Attempt with an error, which the deliverer retries. `channel.signing_secrets` holds the
channel's secrets in clear for this try (the current one first).

`senders(settings)` gives the sender of each kind this deployment can deliver to; a kind
missing from it is refused when a channel of that kind is created, and its notifications
fail with a clear error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from cronbase.config import Settings
from cronbase.notify import email, slack, webhook
from cronbase.notify.model import Attempt, Channel, ChannelKind, Notification

Sender = Callable[[Channel, Notification, float], Attempt]


def senders(settings: Settings) -> Mapping[ChannelKind, Sender]:
    """The sender of each kind of channel, configured from `settings`: HTTP kinds to public
    addresses unless CRONBASE_ALLOW_PRIVATE_WEBHOOKS; email only with CRONBASE_SMTP_URL."""
    allow = settings.allow_private_webhooks
    kinds: dict[ChannelKind, Sender] = {
        ChannelKind.WEBHOOK: partial(webhook.send, allow_private=allow),
        ChannelKind.SLACK: partial(slack.send, allow_private=allow),
    }
    if settings.smtp_url:
        server = email.SmtpServer.from_url(settings.smtp_url)
        kinds[ChannelKind.EMAIL] = email.sender_for(server, settings.smtp_from)
    return kinds
