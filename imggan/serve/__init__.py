"""``imggan serve``: a local web page to paint a mask and run any registered task, and its HTTP API.

The server (FastAPI + uvicorn, the ``serve`` extra) is built by :func:`imggan.serve.app.create_app`;
``imggan serve`` runs it. Modules: ``app`` (application, upload limit), ``api`` (the v1 routes), ``runner``
(decode, run through :func:`imggan.pipeline.process_image`, encode), ``schema`` (a task's click options as
JSON and back), ``limits`` (settings, one run at a time per device with a bounded queue), ``cli`` (the
command) and ``static/`` (the page: plain HTML, CSS and JavaScript, no build step).

Example:
    >>> from imggan.serve import create_app, ServeConfig
    >>> app = create_app(ServeConfig(device="cpu", queue=2))
    >>> sorted(app.openapi()["paths"])
    ['/api/v1/convert', '/api/v1/health', '/api/v1/models', '/api/v1/run/{task_name}', '/api/v1/tasks']
"""

from __future__ import annotations

from typing import Any

from imggan.serve.limits import ServeConfig

__all__ = ["ServeConfig", "create_app"]


def create_app(config: ServeConfig | None = None, registry: Any = None) -> Any:
    """Build the FastAPI application (see :func:`imggan.serve.app.create_app`)."""
    from imggan.serve.app import create_app as build

    return build(config, registry)
