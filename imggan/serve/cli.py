"""``imggan serve``: the local web page and HTTP API on uvicorn (needs the ``serve`` extra).

Importing this module imports neither FastAPI nor torch, so ``imggan --help`` stays fast; they are imported
when the command runs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import webbrowser

import click

from imggan.errors import ImgganError

HELP = """Serve a local web page to paint a mask and run any task, and its HTTP API.

\b
  imggan serve                     then open http://127.0.0.1:8000
  imggan serve --port 9000 --open  (opens the page in your browser)
\b
The page: open or drop an image, paint the mask (brush, eraser, undo/redo), pick a task and its options
(every installed plugin's task is there), run, compare, chain another task, download at full size.
The API is documented at /docs (OpenAPI); see docs/serve.md. It binds to 127.0.0.1 (this machine only)
unless --host says otherwise: anyone who can reach the port can run models on your machine.
Ctrl-C stops it.
"""


def _check_port(host: str, port: int) -> None:
    """Fail with a clear message when ``host:port`` cannot be bound (in use, or no such address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (try --port N)") from exc


@click.command("serve", help=HELP, short_help="Local web page to paint a mask and run any task, plus an HTTP API.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 = every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="TCP port.")
@click.option(
    "--device", default="auto", show_default=True, help="auto|cpu|cuda[:N]|mps (auto: a CUDA GPU, else MPS, else CPU)."
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default web browser.")
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(0.001),
    default=None,
    help="Refuse request bodies larger than this (default 50).",
)
@click.option("--max-pixels", type=click.IntRange(1), default=None, help="Refuse larger images (default 100M).")
@click.option(
    "--queue",
    type=click.IntRange(0),
    default=4,
    show_default=True,
    help="Requests that may wait while one runs; more get 503 Busy.",
)
@click.option(
    "--tile", type=click.IntRange(0), default=None, help="Tile side passed to every task (default: each task's own)."
)
def serve_command(
    host: str,
    port: int,
    device: str,
    open_browser: bool,
    max_upload_mb: float | None,
    max_pixels: int | None,
    queue: int,
    tile: int | None,
) -> None:
    try:
        import uvicorn

        from imggan.serve.app import create_app
        from imggan.serve.guards import LOOPBACK_HOSTS
        from imggan.serve.limits import ServeConfig
    except ImportError as exc:
        raise click.UsageError(
            f"imggan serve needs the serve extra ({exc.name} is missing): pip install 'imggan[serve]'"
        ) from exc
    config = ServeConfig(device=device, queue=queue, tile=tile)
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        config.allowed_hosts = (*LOOPBACK_HOSTS, host)
    if max_upload_mb is not None:
        config.max_upload_bytes = int(max_upload_mb * 1024 * 1024)
    if max_pixels is not None:
        config.max_pixels = max_pixels
    _check_port(host, port)
    try:
        app = create_app(config)
    except ImgganError as exc:
        raise click.UsageError(str(exc)) from exc
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            click.echo(f"imggan serve: {url} (API docs: {url}docs; device {app.state.imggan.device}; Ctrl-C stops)")
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    # uvicorn shuts down gracefully on Ctrl-C / SIGTERM (open requests answered), then re-raises the signal
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    click.echo("imggan serve: stopped")
