"""Reject request bodies over the configured size with 413, before any handler reads them."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length up front and counts streamed (chunked) bodies as they arrive."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(scope, send)
                    return
        # Buffer the body up to the limit so a chunked upload cannot exceed it either.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._reject(scope, send)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "/problems/payload-too-large",
                "title": "Request body too large",
                "status": 413,
                "detail": f"the request body exceeds the limit of {self.max_bytes} bytes",
                "instance": scope.get("path", ""),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(chunks: list[bytes], first: Message | None, receive: Receive | None = None) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if first is not None:
            if not sent:
                sent = True
                return first
        elif not sent:
            sent = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        if receive is not None:
            return await receive()
        return {"type": "http.disconnect"}

    return replay
