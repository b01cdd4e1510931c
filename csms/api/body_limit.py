"""Request bodies capped before they are parsed: 413 with the error envelope.

A body announced larger than the limit (Content-Length) is refused before any of it is read. A
body without a length, or lying about it, is counted as it arrives and refused as soon as it
passes the limit, so no more than the limit is ever held for one request.

(FastAPI's own ``max_body_size`` counts too, but answers an announced-too-large body in plain
text whatever the error handlers say, and the API promises one error shape.)
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from csms.api.errors import BodyTooLarge, error_response

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised to the route reading the body: FastAPI passes HTTP exceptions on
                    # to the error handlers, which answer with the envelope.
                    raise BodyTooLarge(self.max_bytes)
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except BodyTooLarge:
            if started:  # too late for an answer of our own
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"the request body is larger than the limit of {self.max_bytes} bytes",
            {"maxBytes": self.max_bytes},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # Not a number: left to the server (h11 refuses it) and to the count.
            return int(value) if value.isdigit() else None
    return None
