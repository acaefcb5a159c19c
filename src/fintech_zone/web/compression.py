"""gzip for the static assets and the exhibition hall's pages only: a chart library is a megabyte uncompressed
(a third of that gzipped), while the API's small JSON answers would spend CPU on compression for nothing."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class CompressPaths:
    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...], minimum_size: int = 1024) -> None:
        self.app = app
        self.prefixes = prefixes
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.prefixes):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
