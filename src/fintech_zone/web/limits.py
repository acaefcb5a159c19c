"""Guards in front of every handler: request bodies over the configured size (413), and URLs carrying control
characters (400), which no id, filter or search term of ours may contain."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length up front and counts streamed (chunked) bodies as they arrive.

    ``batch_paths`` take up to ``batch_max_bytes`` instead: a ledger batch of 8,190 events is several megabytes.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, batch_paths: tuple[str, ...] = (), batch_max_bytes: int = 0
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.batch_paths = frozenset(batch_paths)
        self.batch_max_bytes = max(batch_max_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.batch_max_bytes if scope.get("path") in self.batch_paths else self.default_max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(scope, send, max_bytes)
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
            if size > max_bytes:
                await self._reject(scope, send, max_bytes)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _reject(self, scope: Scope, send: Send, max_bytes: int) -> None:
        detail = f"the request body exceeds the limit of {max_bytes} bytes"
        await send_problem(send, scope, 413, "payload-too-large", "Request body too large", detail, close=True)


_CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")


class RejectControlCharactersInUrl:
    """400 for a path or query with control characters: PostgreSQL cannot even compare text containing NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "").encode("utf-8", "surrogateescape")
            query = unquote_to_bytes(scope.get("query_string", b""))
            if _CONTROL_BYTES.search(path) or _CONTROL_BYTES.search(query):
                await send_problem(
                    send, scope, 400, "bad-request", "Bad request", "the URL contains control characters"
                )
                return
        await self.app(scope, receive, send)


async def send_problem(
    send: Send, scope: Scope, status: int, slug: str, title: str, detail: str, close: bool = False
) -> None:
    """A problem+json answer sent straight from ASGI middleware, before the application is reached."""
    body = json.dumps(
        {
            "type": f"/problems/{slug}",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
        }
    ).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
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
