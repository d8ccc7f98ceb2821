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

from cronbase.config import Settings
from cronbase.notify import webhook
from cronbase.notify.model import Attempt, Channel, ChannelKind, Notification

Sender = Callable[[Channel, Notification, float], Attempt]


def senders(settings: Settings) -> Mapping[ChannelKind, Sender]:  # noqa: ARG001 - for SMTP
    """The sender of each kind of channel, configured from `settings`."""
    return {ChannelKind.WEBHOOK: webhook.send}
