"""The FastAPI application: the v1 API, the page's static files, the upload size limit, JSON errors.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from imggan.serve.app import create_app
    >>> from imggan.serve.limits import ServeConfig
    >>> client = TestClient(create_app(ServeConfig(device="cpu")))
    >>> client.get("/api/v1/health").json()["status"]
    'ok'
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from imggan import __version__
from imggan.serve.api import router
from imggan.serve.limits import InferenceGate, ServeConfig

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("imggan.serve")


@dataclass
class ServerState:
    """What every request handler reads: settings, the registry, the device and its gate."""

    config: ServeConfig
    registry: Any
    device: str
    gate: InferenceGate


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets 413 before the app (or any decoder) sees it.

    A declared ``Content-Length`` over the limit is refused without reading the body; otherwise the body is
    read up to the limit (a client may lie or stream it chunked) and handed on to the app.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Any, size: str) -> None:
        limit = f"{self.max_bytes / 2**20:.3g} MB"
        body = json.dumps({"detail": f"upload of {size} exceeds the limit of {limit} (imggan serve --max-upload-mb)"})
        body = body.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, f"{int(declared) / 2**20:.3g} MB")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks = []
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(send, f"more than {self.max_bytes / 2**20:.3g} MB")
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def create_app(config: ServeConfig | None = None, registry: Any = None) -> FastAPI:
    """Build the server for ``config`` (device, limits, queue) over ``registry`` (default: installed plugins).

    Args:
        config: the server's settings; defaults as ``imggan serve``.
        registry: anything with ``.tasks`` (name -> Task) and ``.models`` (ModelEntry list); tests pass
            their own.
    """
    from imggan.device import resolve_device
    from imggan.plugins import get_registry

    config = config or ServeConfig()
    app = FastAPI(
        title="imggan",
        version=__version__,
        description="Run imggan's tasks (inpaint, denoise, upscale, and every installed plugin's) over HTTP.",
    )
    app.state.imggan = ServerState(
        config=config,
        registry=registry if registry is not None else get_registry(),
        device=str(resolve_device(config.device)),
        gate=InferenceGate(queue=config.queue),
    )
    app.include_router(router)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # never a traceback to a client
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=config.max_upload_bytes)
    return app
