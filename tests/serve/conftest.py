"""Fixtures for the server's tests: the installed heads' registry, test clients, small packaged photos.

The core's tests see only the built-in plugins (``tests/conftest.py``); the server's round trips need the
real heads (inpaint, denoise, upscale) and their shipped weights, so ``isolated_plugins`` is replaced here by
a plain reset of the process-wide plugin manager.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

import imggan
import imggan.plugins
from imggan.plugins import Registry, new_plugin_manager
from imggan.task import SideInput, Task

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")

from fastapi.testclient import TestClient  # noqa: E402

from imggan.serve import ServeConfig, create_app  # noqa: E402
from imggan.serve.guards import LOOPBACK_HOSTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "plugins" / "imggan-inpaint" / "imggan_inpaint" / "examples" / "astronaut.jpg"


@pytest.fixture(autouse=True)
def isolated_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """The installed plugins (the real heads) load; the process-wide manager is rebuilt around each test and
    the CLI group's commands are restored after it."""
    from imggan.cli import cli

    monkeypatch.setattr(cli, "commands", dict(cli.commands))
    monkeypatch.setattr(cli, "_plugins_loaded", False)
    imggan.plugins.reset()
    yield []
    imggan.plugins.reset()


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """The packaged astronaut photo (384x384 BGR uint8)."""
    image = cv2.imread(str(EXAMPLE), cv2.IMREAD_COLOR)
    assert image is not None, EXAMPLE
    return image


@pytest.fixture(scope="session")
def crop(photo: np.ndarray) -> np.ndarray:
    """A 96x96 textured crop of the photo (the helmet and face): small enough for CPU round trips."""
    return np.ascontiguousarray(photo[40:136, 150:246])


def png(image: np.ndarray) -> bytes:
    """``image`` encoded as PNG bytes."""
    ok, buffer = cv2.imencode(".png", image)
    assert ok
    return buffer.tobytes()


def jpg(image: np.ndarray, quality: int = 95) -> bytes:
    """``image`` encoded as JPEG bytes."""
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buffer.tobytes()


def decode(data: bytes) -> np.ndarray:
    """Decode response bytes keeping depth and alpha."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "the response is not an image"
    return image


@pytest.fixture(scope="session")
def codec() -> SimpleNamespace:
    """``codec.png(image)``, ``codec.jpg(image, quality)``, ``codec.decode(data)``."""
    return SimpleNamespace(png=png, jpg=jpg, decode=decode)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """A client of a server over the installed plugins (CPU, default limits)."""
    with TestClient(create_app(ServeConfig(device="cpu"))) as test_client:
        yield test_client


class BlockingTasks:
    """A plugin registering ``hold`` (waits for :attr:`release`), ``boom`` (raises), ``blend`` (a colour side
    input) and ``invert`` (a path option) tasks."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def _hold(self, model: Any, items: list, ctx: Any) -> list[np.ndarray]:
        self.started.set()
        assert self.release.wait(30), "the test never released the held task"
        return [item.image for item in items]

    @staticmethod
    def _boom(model: Any, items: list, ctx: Any) -> list[np.ndarray]:
        raise RuntimeError("weights exploded")

    @imggan.hookimpl
    def register_tasks(self, register: Callable[[Task], None]) -> None:
        import click

        register(Task("hold", "Wait, then return the image.", load=lambda ctx: None, process=self._hold))
        register(Task("boom", "Always fails.", load=lambda ctx: None, process=self._boom))
        register(
            Task(
                "blend",
                "Average the image with a reference image.",
                load=lambda ctx: None,
                process=lambda m, items, ctx: [
                    ((i.image.astype(np.uint16) + i.sides["style"][..., :3]) // 2).astype(np.uint8) for i in items
                ],
                side_inputs=[SideInput("style", help="The reference image.", grayscale=False)],
            )
        )
        register(
            Task(
                "invert",
                "Invert colours (optionally only some channels).",
                load=lambda ctx: None,
                process=lambda m, items, ctx: [np.iinfo(i.image.dtype).max - i.image for i in items],
                options=[
                    click.Option(["--amount"], type=click.FloatRange(0, 1), default=1.0, help="How much."),
                    click.Option(["--lut"], type=click.Path(), help="A path option (never exposed over HTTP)."),
                ],
            )
        )


@pytest.fixture
def plugin() -> BlockingTasks:
    """A fresh :class:`BlockingTasks` plugin."""
    return BlockingTasks()


@pytest.fixture
def plugin_client(plugin: BlockingTasks) -> Iterator[Callable[..., TestClient]]:
    """``plugin_client(**config)``: a client of a server whose registry holds the built-ins and ``plugin``."""
    opened: list[TestClient] = []

    def make(**config: Any) -> TestClient:
        pm = new_plugin_manager(entry_points_to_load=[])
        pm.register(plugin, name="blocking-tasks")
        test_client = TestClient(create_app(ServeConfig(device="cpu", **config), registry=Registry(pm)))
        opened.append(test_client.__enter__())
        return test_client

    yield make
    plugin.release.set()
    for test_client in opened:
        test_client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """The app on uvicorn at ``http://127.0.0.1:<free port>/``, in a thread, for the module.

    Its registry holds the installed heads and, registered like any plugin, the test plugin's tasks (``blend``
    takes a colour side input), so the page is shown working with a task it has never heard of.
    """
    import uvicorn

    pm = new_plugin_manager()
    pm.register(BlockingTasks(), name="test-tasks")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(ServeConfig(device="cpu", allowed_hosts=LOOPBACK_HOSTS), registry=Registry(pm))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)
    sock.close()
