"""Tasks that take no input image (``register_sources``): the generation head over HTTP, and a fixture source."""

from __future__ import annotations

from collections.abc import Callable

import click
import numpy as np
import pytest
from fastapi.testclient import TestClient

import imggan
from imggan.plugins import Registry, new_plugin_manager
from imggan.serve import ServeConfig, create_app
from imggan.serve.sources import Source
from imggan.task import Task


def _by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["name"]: row for row in rows}


def test_generate_is_listed_without_inputs(client) -> None:
    tasks = _by_name(client.get("/api/v1/tasks").json())
    generate = tasks["generate"]
    assert generate["inputs"] == [] and generate["side_inputs"] == []
    opts = _by_name(generate["options"])
    assert (opts["count"]["minimum"], opts["count"]["maximum"], opts["count"]["default"]) == (1, 400, 1)
    assert opts["zoom"]["default"] == 4 and opts["label"]["type"] == "string"
    assert "digits" in {m["name"] for m in generate["models"]} and generate["default_model"] == "digits"
    assert tasks["inpaint"]["inputs"] == ["image", "mask"]  # image tasks are unchanged


def test_generate_one_sample_with_options_only(client, codec) -> None:
    response = client.post("/api/v1/run/generate", data={"label": "7", "seed": "3", "zoom": "2"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = codec.decode(response.content)
    assert image.shape == (32, 32)  # the digits model: 16 px grey, zoomed 2x
    assert int(image.max()) - int(image.min()) > 100  # a drawn digit, not a flat image
    assert (image[::2, ::2] == image[1::2, 1::2]).all()  # nearest-neighbour zoom
    again = codec.decode(client.post("/api/v1/run/generate", data={"label": "7", "seed": "3", "zoom": "2"}).content)
    assert (again == image).all()  # one seed names one image
    other = codec.decode(client.post("/api/v1/run/generate", data={"label": "7", "seed": "4", "zoom": "2"}).content)
    assert (other != image).any()


def test_generate_grid_has_the_expected_size(client, codec) -> None:
    response = client.post("/api/v1/run/generate", files={"count": (None, "20")}, data={"zoom": "1"})
    assert response.status_code == 200, response.text
    # 20 digits, one class per column (10 columns, 2 rows), 16 px each with 2 px padding
    assert codec.decode(response.content).shape == (2 * 18 + 2, 10 * 18 + 2)
    assert (response.headers["x-imggan-width"], response.headers["x-imggan-height"]) == ("182", "38")
    columns = client.post("/api/v1/run/generate", data={"count": "6", "columns": "3", "zoom": "1", "label": "2"})
    assert codec.decode(columns.content).shape == (2 * 18 + 2, 3 * 18 + 2)


def test_generate_with_no_body_uses_the_defaults(client, codec) -> None:
    response = client.post("/api/v1/run/generate")
    assert response.status_code == 200, response.text
    assert codec.decode(response.content).shape == (64, 64)  # one sample, zoom 4


def test_generate_then_upscale_the_result(client, codec) -> None:
    sample = client.post("/api/v1/run/generate", data={"label": "3", "zoom": "2", "format": "png"})
    upscaled = client.post("/api/v1/run/upscale", files={"image": ("generate.png", sample.content, "image/png")},
                           data={"scale": "2"})  # fmt: skip
    assert upscaled.status_code == 200, upscaled.text
    assert codec.decode(upscaled.content).shape[:2] == (64, 64)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"count": "0"}, "option 'count'"),
        ({"count": "many"}, "option 'count'"),
        ({"truncation": "0"}, "option 'truncation'"),
        ({"zoom": "99"}, "option 'zoom'"),
        ({"label": "12"}, "classes 0..9"),
        ({"label": "seven"}, "unknown class"),
        ({"mask": "x"}, "unknown option 'mask'"),
        ({"model": "x4"}, "unknown model 'x4' for task 'generate'"),
        ({"format": "gif"}, "format 'gif'"),
    ],
)
def test_generate_bad_options_are_400_with_a_message(client, data, message) -> None:
    response = client.post("/api/v1/run/generate", data=data)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]


def test_generate_refuses_an_image_file_and_oversized_grids() -> None:
    with TestClient(create_app(ServeConfig(device="cpu", max_pixels=100_000))) as small:
        sent = small.post("/api/v1/run/generate", files={"image": ("x.png", b"not read", "image/png")})
        assert sent.status_code == 400 and "takes no input image" in sent.json()["detail"]
        big = small.post("/api/v1/run/generate", data={"count": "400", "zoom": "16"})
        assert big.status_code == 400 and "over the server's limit of 100,000 pixels" in big.json()["detail"]
        assert small.post("/api/v1/run/generate", data={"zoom": "16"}).status_code == 200  # 256x256 fits
    assert (
        TestClient(create_app(ServeConfig(device="cpu")))
        .post("/api/v1/run/generate", content=b"raw", headers={"content-type": "text/plain"})
        .status_code
        == 400
    )


class Checkers:
    """A plugin with one image source, ``checkers`` (a chessboard), built on a task that takes no image."""

    loads = 0

    def _load(self, ctx) -> int:
        Checkers.loads += 1
        return 255

    @imggan.hookimpl
    def register_tasks(self, register: Callable[[Task], None]) -> None:
        register(Task("checkers", "A chessboard.", load=self._load, process=lambda m, items, ctx: []))

    @imggan.hookimpl
    def register_sources(self, register: Callable[[Source], None]) -> None:
        def make(model: int, ctx) -> np.ndarray:
            cell, cells = ctx.options["cell"], 4
            if cell == 13:
                raise RuntimeError("unlucky cell")
            board = (np.indices((cells, cells)).sum(0) % 2 * model).astype(np.uint8)
            return np.kron(board, np.ones((cell, cell), np.uint8))

        register(Source("checkers", [click.Option(["--cell"], type=click.IntRange(1, 64), default=8)], make))
        register(Source("orphan", [], make))  # no task of this name: not served


def test_a_plugin_source_is_served_without_server_changes() -> None:
    Checkers.loads = 0
    pm = new_plugin_manager(entry_points_to_load=[])
    pm.register(Checkers(), name="checkers")
    with TestClient(create_app(ServeConfig(device="cpu"), registry=Registry(pm))) as test_client:
        tasks = _by_name(test_client.get("/api/v1/tasks").json())
        assert tasks["checkers"]["inputs"] == [] and "orphan" not in tasks
        first = test_client.post("/api/v1/run/checkers", data={"cell": "3"})
        assert first.status_code == 200
        assert test_client.post("/api/v1/run/checkers").status_code == 200
        assert Checkers.loads == 1  # the model is loaded once per (task, model, device)
        failed = test_client.post("/api/v1/run/checkers", data={"cell": "13"})
        assert failed.status_code == 500 and "unlucky cell" in failed.json()["detail"]
        assert test_client.get("/api/v1/health").json()["status"] == "ok"
    import cv2

    board = cv2.imdecode(np.frombuffer(first.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert board.shape == (12, 12) and board[0, 0] == 0 and board[0, 3] == 255
