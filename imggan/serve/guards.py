"""ASGI guards in front of the app: the request-size limit and, for a server bound to this machine, the
Host / Origin check.

A server on 127.0.0.1 is still reachable from web pages the user visits: a page elsewhere can send it a
form (a "simple" cross-site POST needs no permission), and a DNS-rebinding page can even read the answers.
:class:`LocalOnly` refuses requests whose ``Host`` is not one of the server's own names, and unsafe methods
whose ``Origin`` is another site.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


async def _refuse(send: Any, status: int, detail: str) -> None:
    """Answer ``status`` with ``{"detail": ...}`` without calling the app."""
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def host_name(value: str) -> str:
    """``"127.0.0.1:8000"`` -> ``"127.0.0.1"``, ``"[::1]:8000"`` -> ``"::1"`` (lower case)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a body without a (truthful) ``Content-Length`` passes the limit; the app
    answers it with 413 (see :func:`imggan.serve.app.create_app`)."""


def _limit_message(size: str, max_bytes: int) -> str:
    return f"upload of {size} exceeds the limit of {max_bytes / 2**20:.3g} MB (imggan serve --max-upload-mb)"


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is refused with 413 before anything decodes it.

    A declared ``Content-Length`` over the limit is refused at once, without reading the body. A body that
    is streamed (chunked) or longer than declared is counted as the app reads it, and reading stops with
    :class:`BodyTooLarge` at the limit. Nothing is buffered here: the app reads the body only once it has a
    place in the queue, so a crowd of uploads is turned away (503) without being read.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send, 413, _limit_message(f"{int(declared) / 2**20:.3g} MB", self.max_bytes))
            return
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(_limit_message(f"more than {self.max_bytes / 2**20:.3g} MB", self.max_bytes))
            return message

        await self.app(scope, counted, send)


class LocalOnly:
    """ASGI middleware: only requests addressed to one of ``hosts``; unsafe methods only from those origins.

    ``Host: evil.example`` (DNS rebinding) gets 400; a POST whose ``Origin`` is another site gets 403. Requests
    without an ``Origin`` (curl, scripts, same-origin GETs) pass.
    """

    def __init__(self, app: Any, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = {h.lower() for h in hosts}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        if host not in self.hosts:
            await _refuse(send, 400, f"host {host or '(none)'!r} is not served here (imggan serve --host)")
            return
        origin = headers.get(b"origin")
        if origin is not None and scope["method"] in UNSAFE_METHODS:
            origin_host = (urlsplit(origin.decode("latin-1")).hostname or "").lower()
            if origin_host not in self.hosts:
                await _refuse(send, 403, f"cross-site request from {origin.decode('latin-1')!r} refused")
                return
        await self.app(scope, receive, send)
