"""Under load: one run at a time, a bounded queue, 503 + Retry-After beyond it; a failing model is survived."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from imggan.serve.limits import BusyError, InferenceGate


def _wait_for(predicate, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the server's state"
        time.sleep(0.02)


def test_requests_beyond_the_queue_get_503_with_retry_after(plugin_client, plugin, crop, codec) -> None:
    client = plugin_client(queue=1)
    files = {"image": ("x.png", codec.png(crop), "image/png")}
    health = lambda: client.get("/api/v1/health").json()  # noqa: E731
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.post, "/api/v1/run/hold", files=files)
        assert plugin.started.wait(20), "the first request never started running"
        second = pool.submit(client.post, "/api/v1/run/hold", files=files)
        _wait_for(lambda: health()["waiting"] == 1)
        assert health()["running"] == 1
        third = client.post("/api/v1/run/hold", files=files)
        assert third.status_code == 503
        assert int(third.headers["retry-after"]) >= 1
        assert "busy" in third.json()["detail"]
        # other routes keep answering while the device is busy
        assert client.get("/api/v1/tasks").status_code == 200
        plugin.release.set()
        assert first.result(timeout=30).status_code == 200
        assert second.result(timeout=30).status_code == 200
    assert np.array_equal(codec.decode(first.result().content), crop)
    assert health()["running"] == 0 and health()["waiting"] == 0
    assert client.post("/api/v1/run/hold", files=files).status_code == 200  # the queue is free again


def test_a_failing_model_gets_500_and_the_server_keeps_serving(plugin_client, crop, codec) -> None:
    client = plugin_client(queue=0)
    files = {"image": ("x.png", codec.png(crop), "image/png")}
    for _ in range(2):  # the device is released after each failure (queue=0 would 503 otherwise)
        response = client.post("/api/v1/run/boom", files=files)
        assert response.status_code == 500
        detail = response.json()["detail"]
        assert detail == "task 'boom' failed: RuntimeError: weights exploded"
    assert client.get("/api/v1/health").json()["status"] == "ok"
    response = client.post("/api/v1/run/invert", files=files, data={"amount": "0.5"})
    assert response.status_code == 200
    assert np.array_equal(codec.decode(response.content), 255 - crop)


def test_a_plugin_task_is_served_without_server_changes(plugin_client) -> None:
    client = plugin_client()
    names = [t["name"] for t in client.get("/api/v1/tasks").json()]
    assert {"hold", "boom", "blend", "invert", "run"} <= set(names)
    amount = next(t for t in client.get("/api/v1/tasks").json() if t["name"] == "invert")["options"][0]
    assert (amount["type"], amount["minimum"], amount["maximum"], amount["default"]) == ("number", 0, 1, 1.0)


def test_a_plugin_side_input_arrives_in_colour(plugin_client, crop, codec) -> None:
    client = plugin_client()
    blend = next(t for t in client.get("/api/v1/tasks").json() if t["name"] == "blend")
    assert blend["inputs"] == ["image", "style"] and blend["side_inputs"][0]["grayscale"] is False
    style = np.ascontiguousarray(crop[::-1])
    files = {"image": ("x.png", codec.png(crop), "image/png"), "style": ("s.png", codec.png(style), "image/png")}
    response = client.post("/api/v1/run/blend", files=files)
    assert response.status_code == 200, response.text
    expected = ((crop.astype(np.uint16) + style) // 2).astype(np.uint8)
    assert np.array_equal(codec.decode(response.content), expected)
    files["style"] = ("s.png", codec.png(style[:50]), "image/png")
    response = client.post("/api/v1/run/blend", files=files)
    assert response.status_code == 400 and "the style is 96x50 but the image is 96x96" in response.json()["detail"]


def test_gate_counts_and_refuses() -> None:
    gate = InferenceGate(queue=1)
    with gate.place():
        with gate.place():
            with pytest.raises(BusyError) as busy, gate.place():
                pass
            assert busy.value.retry_after >= 1
            assert gate.state() == {"running": 0, "waiting": 2, "queue": 1}
        with gate.running():
            assert gate.state() == {"running": 1, "waiting": 0, "queue": 1}
    assert gate.state() == {"running": 0, "waiting": 0, "queue": 1}


def test_retry_after_grows_with_recent_run_times() -> None:
    gate = InferenceGate(queue=0)
    gate._recent = [4.2, 3.8]
    with gate.place(), pytest.raises(BusyError) as busy, gate.place():
        pass
    assert busy.value.retry_after == 4
