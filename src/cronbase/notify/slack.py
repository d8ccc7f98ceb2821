"""The `slack` kind: a Slack-compatible incoming-webhook message (Mattermost, Rocket.Chat and
others accept the same JSON: they show `text`, Slack shows `blocks`)."""

from __future__ import annotations

import json
from typing import Any

from cronbase.notify import messages
from cronbase.notify.http import post
from cronbase.notify.model import Attempt, Channel, Notification

# Slack's limits: a header's text, and a section's.
_HEADER_CHARS = 150
_SECTION_CHARS = 3000


def message(payload: dict[str, Any]) -> dict[str, Any]:
    """The incoming-webhook body of a notification's payload."""
    title = messages.title(payload)
    folded = messages.folded_line(payload)
    text = f"{title} ({folded})" if folded else title
    lines = messages.details(payload)
    # The error goes in a code block of its own: the traceback's last lines when there are
    # some (they end with the error), else the error's one line.
    coded = {"Error", "Traceback"}
    fields = [f"*{label}:* {_escape(value)}" for label, value in lines if label not in coded]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:_HEADER_CHARS]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(fields)[:_SECTION_CHARS]}},
    ]
    error = dict(lines).get("Traceback") or dict(lines).get("Error")
    if error:
        code = _escape(error).replace("```", "'''")[: _SECTION_CHARS - 8]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```{code}```"}})
    return {"text": text, "blocks": blocks}


def _escape(text: str) -> str:
    """mrkdwn's three control characters (a job name must not become a link or a mention)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send(
    channel: Channel, notification: Notification, timeout: float, *, allow_private: bool = False
) -> Attempt:
    """One POST of the message to the channel's incoming-webhook URL (to a private address
    only with `allow_private`)."""
    body = json.dumps(message(notification.payload), ensure_ascii=False).encode()
    return post(channel.url, body, {}, timeout, allow_private=allow_private)
