"""The request guards: Host and Origin checks of a server bound to this machine, and their parsing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from imggan.serve import ServeConfig, create_app
from imggan.serve.guards import LOOPBACK_HOSTS, host_name


@pytest.fixture(scope="module")
def local() -> TestClient:
    app = create_app(ServeConfig(device="cpu", allowed_hosts=LOOPBACK_HOSTS))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


def test_requests_to_this_machine_pass(local, crop, codec) -> None:
    assert local.get("/api/v1/health").status_code == 200
    assert local.get("/api/v1/health", headers={"host": "localhost:8000"}).status_code == 200
    files = {"image": ("x.png", codec.png(crop[:16, :16]), "image/png")}
    same_site = local.post("/api/v1/run/run", files=files, data={"steps": "clahe"},
                           headers={"origin": "http://127.0.0.1:8000"})  # fmt: skip
    assert same_site.status_code == 200, same_site.text


def test_another_host_name_is_refused(local) -> None:
    response = local.get("/", headers={"host": "rebound.example:8000"})
    assert response.status_code == 400
    assert response.json()["detail"] == "host 'rebound.example' is not served here (imggan serve --host)"


def test_a_cross_site_post_is_refused(local, crop, codec) -> None:
    files = {"image": ("x.png", codec.png(crop[:16, :16]), "image/png")}
    response = local.post("/api/v1/run/run", files=files, data={"steps": "clahe"},
                          headers={"origin": "https://elsewhere.example"})  # fmt: skip
    assert response.status_code == 403
    assert "cross-site request from 'https://elsewhere.example' refused" in response.json()["detail"]
    assert local.get("/api/v1/tasks", headers={"origin": "https://elsewhere.example"}).status_code == 200


@pytest.mark.parametrize(
    ("header", "name"),
    [("127.0.0.1:8000", "127.0.0.1"), ("LOCALHOST", "localhost"), ("[::1]:8000", "::1"), ("::1", "::1"), ("", "")],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name
