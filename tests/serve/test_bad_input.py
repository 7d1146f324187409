"""Every bad request gets its status code and a one-line message, never a traceback; no client path is opened."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient

from imggan.serve import ServeConfig, create_app


def _png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR announcing ``width`` x ``height``, then junk: no decoder could return pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 64 + b"IEND"


def _detail(response) -> str:
    assert response.headers["content-type"] == "application/json", response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "Traceback" not in detail
    return detail


@pytest.fixture(scope="module")
def image_png(crop, codec) -> bytes:
    return codec.png(crop)


@pytest.mark.parametrize(
    ("files", "data", "status", "message"),
    [
        ({"image": ("x.png", b"this is not an image", "image/png")}, {}, 400, "not a readable image"),
        ({"image": ("x.png", b"", "image/png")}, {}, 400, "empty upload"),
        ("TRUNCATED", {}, 400, "truncated"),
        ({}, {"sigma": "3"}, 400, "no `image` file"),
        ("IMAGE", {"noise": "3"}, 400, "unknown option 'noise'"),
        ("IMAGE", {"sigma": "loud"}, 400, "option 'sigma'"),
        ("IMAGE", {"sigma": "999"}, 400, "option 'sigma'"),
        ("IMAGE", {"model": "/etc/passwd"}, 400, "unknown model '/etc/passwd'"),
        ("IMAGE", {"model": "../weights/denoise.safetensors"}, 400, "unknown model"),
        ("IMAGE", {"format": "gif"}, 400, "format 'gif'"),
        ("IMAGE", {"jpeg_quality": "0"}, 400, "jpeg_quality"),
    ],
)
def test_bad_denoise_requests(client, crop, codec, image_png, files, data, status, message) -> None:
    if files == "IMAGE":
        files = {"image": ("x.png", image_png, "image/png")}
    elif files == "TRUNCATED":  # a real JPEG cut in the middle of its scan
        whole = codec.jpg(crop)
        files = {"image": ("x.jpg", whole[: len(whole) // 2], "image/jpeg")}
    response = client.post("/api/v1/run/denoise", files=files or {"other": ("o.txt", b"1", "text/plain")}, data=data)
    assert response.status_code == status, response.text
    assert message in _detail(response)


def test_unknown_task_is_404_with_the_installed_names(client, image_png) -> None:
    response = client.post("/api/v1/run/paint", files={"image": ("x.png", image_png, "image/png")})
    assert response.status_code == 404
    assert "unknown task 'paint'" in _detail(response) and "inpaint" in _detail(response)


def test_a_body_that_is_not_multipart_is_400(client) -> None:
    response = client.post("/api/v1/run/denoise", json={"image": "/etc/hosts"})
    assert response.status_code == 400 and "multipart/form-data" in _detail(response)


def test_a_mask_of_another_size_is_400(client, crop, codec, image_png) -> None:
    mask = np.full((10, 12), 255, np.uint8)
    response = client.post(
        "/api/v1/run/inpaint",
        files={"image": ("x.png", image_png, "image/png"), "mask": ("m.png", codec.png(mask), "image/png")},
    )
    assert response.status_code == 400
    assert "the mask is 12x10 but the image is 96x96" in _detail(response)


def test_a_mask_that_is_not_an_image_is_400(client, image_png) -> None:
    response = client.post(
        "/api/v1/run/inpaint",
        files={"image": ("x.png", image_png, "image/png"), "mask": ("m.png", b"GIF? no", "image/png")},
    )
    assert response.status_code == 400 and "m.png: not a readable image" in _detail(response)


def test_inpaint_without_any_mask_is_400(client, image_png) -> None:
    response = client.post("/api/v1/run/inpaint", files={"image": ("x.png", image_png, "image/png")})
    assert response.status_code == 400 and "no mask found" in _detail(response)


def test_a_file_field_the_task_does_not_take_is_400(client, image_png) -> None:
    response = client.post(
        "/api/v1/run/denoise",
        files={"image": ("x.png", image_png, "image/png"), "mask": ("m.png", image_png, "image/png")},
    )
    assert response.status_code == 400 and "takes no file 'mask'" in _detail(response)


def test_a_required_option_left_out_is_400(client, image_png) -> None:
    response = client.post("/api/v1/run/run", files={"image": ("x.png", image_png, "image/png")})
    assert response.status_code == 400 and "option 'steps'" in _detail(response)


def test_an_upload_over_the_byte_limit_is_413_before_decoding(crop, codec) -> None:
    with TestClient(create_app(ServeConfig(device="cpu", max_upload_bytes=20_000))) as small:
        big = codec.png(np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8))
        assert len(big) > 20_000
        response = small.post("/api/v1/run/denoise", files={"image": ("big.png", big, "image/png")})
        assert response.status_code == 413
        assert "exceeds the limit of 0.0191 MB" in _detail(response)
        ok = small.post("/api/v1/run/denoise", files={"image": ("s.png", codec.png(crop[:32, :32]), "image/png")})
        assert ok.status_code == 200, ok.text


def test_an_image_over_the_pixel_limit_is_413_from_its_header() -> None:
    with TestClient(create_app(ServeConfig(device="cpu", max_pixels=1_000_000))) as limited:
        # 60000 x 50000 = 3 GP announced in 100 bytes: refused from the header, no pixel memory touched
        files = {"image": ("huge.png", _png_header(60_000, 50_000), "image/png")}
        response = limited.post("/api/v1/run/denoise", files=files)
        assert response.status_code == 413
        assert "60000x50000 = 3000 MP exceeds the limit of 1 MP" in _detail(response)


def test_a_mask_over_the_pixel_limit_is_413(crop, codec) -> None:
    with TestClient(create_app(ServeConfig(device="cpu", max_pixels=20_000))) as limited:
        files = {
            "image": ("x.png", codec.png(crop), "image/png"),
            "mask": ("m.png", _png_header(1000, 1000), "image/png"),
        }
        response = limited.post("/api/v1/run/inpaint", files=files)
        assert response.status_code == 413 and "m.png" in _detail(response)


def test_path_options_are_hidden_and_refused(plugin_client, image_png) -> None:
    client = plugin_client()
    invert = next(t for t in client.get("/api/v1/tasks").json() if t["name"] == "invert")
    assert [o["name"] for o in invert["options"]] == ["amount"]
    response = client.post(
        "/api/v1/run/invert", files={"image": ("x.png", image_png, "image/png")}, data={"lut": "/etc/passwd"}
    )
    assert response.status_code == 400 and "cannot be set over HTTP" in _detail(response)


def test_client_file_names_only_name_the_image(plugin_client, crop, codec) -> None:
    client = plugin_client()
    response = client.post("/api/v1/run/invert", files={"image": ("../../etc/passwd", codec.png(crop), "image/png")})
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith("''passwd.png")
    assert np.array_equal(codec.decode(response.content), 255 - crop)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ("inpaint:mask=/etc/hosts", "step 'inpaint': mask= names a file"),
        ("denoise:model=/tmp/denoise.safetensors", "step 'denoise': model '/tmp/denoise.safetensors' is not"),
        ("gamma:2;upscale:scale=2,model=../runs/x", "step 'upscale': model '../runs/x' is not"),
    ],
)
def test_a_chain_may_not_name_files(client, image_png, steps, message) -> None:
    response = client.post("/api/v1/run/run", files={"image": ("x.png", image_png, "image/png")}, data={"steps": steps})
    assert response.status_code == 400 and message in _detail(response)


def test_a_chain_of_stages_and_registered_models_runs(client, crop, codec) -> None:
    small = crop[:32, :32]
    response = client.post(
        "/api/v1/run/run",
        files={"image": ("x.png", codec.png(small), "image/png")},
        data={"steps": "gamma:1.2;upscale:scale=2,model=x2"},
    )
    assert response.status_code == 200, response.text
    assert codec.decode(response.content).shape == (64, 64, 3)


def test_a_decoder_that_raises_is_a_400_not_a_500(client, image_png, monkeypatch) -> None:
    import cv2

    import imggan.serve.runner as runner

    def raising(*_args, **_kwargs):
        raise cv2.error("imdecode_: broken stream")

    monkeypatch.setattr(runner, "decode_image", raising)
    response = client.post("/api/v1/run/denoise", files={"image": ("odd.tif", image_png, "image/tiff")})
    assert response.status_code == 400 and _detail(response).startswith("odd.tif: not a readable image")


def test_a_streamed_body_over_the_limit_is_413_while_it_is_read(crop, codec) -> None:
    boundary = "imgganboundary"
    big = codec.png(np.random.default_rng(1).integers(0, 256, (128, 128, 3), dtype=np.uint8))
    body = (
        (
            f'--{boundary}\\r\\nContent-Disposition: form-data; name="image"; filename="big.png"\\r\\n'
            "Content-Type: image/png\\r\\n\\r\\n"
        ).encode()
        + big
        + f"\\r\\n--{boundary}--\\r\\n".encode()
    )

    def chunks():  # no Content-Length: the limit must be enforced while the body is read
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    with TestClient(create_app(ServeConfig(device="cpu", max_upload_bytes=20_000))) as small:
        response = small.post(
            "/api/v1/run/denoise",
            content=chunks(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    assert response.status_code == 413
    assert "upload of more than 0.0191 MB exceeds the limit" in _detail(response)
