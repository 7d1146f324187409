"""The FastAPI application: the v1 API, the page's static files, the request guards, JSON errors.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from imggan.serve.app import create_app
    >>> from imggan.serve.limits import ServeConfig
    >>> client = TestClient(create_app(ServeConfig(device="cpu")))
    >>> client.get("/api/v1/health").json()["status"]
    'ok'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from imggan import __version__
from imggan.serve.api import router
from imggan.serve.guards import BodyLimit, BodyTooLarge, LocalOnly
from imggan.serve.limits import InferenceGate, ServeConfig
from imggan.serve.sources import SourceModels

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("imggan.serve")


@dataclass
class ServerState:
    """What every request handler reads: settings, the registry, the device, its gate and the loaded models of
    tasks that take no input image."""

    config: ServeConfig
    registry: Any
    device: str
    gate: InferenceGate
    source_models: SourceModels = field(default_factory=SourceModels)


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

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=413)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # never a traceback to a client
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=config.max_upload_bytes)
    if config.allowed_hosts is not None:
        app.add_middleware(LocalOnly, hosts=config.allowed_hosts)
    return app
