"""Redirects answer with a path, never with the Host header the client sent.

Starlette builds the URL of its trailing-slash redirect (and StaticFiles of its directory
redirect) from the request's Host header, so `Host: evil.example` came back as
`Location: http://evil.example/...`: a cache or proxy in front that keys on the path could
hand that redirect to other users. cronbase never sends a caller to another site, so every
absolute Location it makes is rewritten into a relative one (RFC 9110 10.2.2 allows it).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def relative_location(location: bytes) -> bytes:
    parts = urlsplit(location.decode("latin-1"))
    if not parts.scheme and not parts.netloc:
        return location
    relative = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    # "//host/x" would again name a host: collapse leading slashes.
    return ("/" + relative.lstrip("/")).encode("latin-1")


class RelativeRedirects:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = [
                    (name, relative_location(value) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_relative)
