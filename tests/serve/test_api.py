"""The v1 API over the installed heads: listings, inpaint/denoise/upscale round trips, depth and alpha rules."""

from __future__ import annotations

import cv2
import numpy as np

from imggan.metrics import psnr


def _by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["name"]: row for row in rows}


def test_health_reports_device_limits_and_queue(client) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["device"] == "cpu"
    assert body["limits"] == {"max_upload_bytes": 50 * 2**20, "max_pixels": body["limits"]["max_pixels"]}
    assert (body["running"], body["waiting"], body["queue"]) == (0, 0, 4)


def test_tasks_are_listed_with_their_declared_options_and_models(client) -> None:
    tasks = _by_name(client.get("/api/v1/tasks").json())
    assert {"inpaint", "denoise", "upscale", "run"} <= set(tasks)
    inpaint = tasks["inpaint"]
    assert inpaint["side_inputs"][0]["name"] == "mask" and inpaint["inputs"] == ["image", "mask"]
    opts = _by_name(inpaint["options"])
    assert opts["invert_mask"]["type"] == "boolean" and opts["invert_mask"]["default"] is False
    assert (opts["dilate"]["type"], opts["dilate"]["minimum"], opts["dilate"]["maximum"]) == ("integer", 0, 256)
    assert opts["max_side"]["default"] == 1024
    assert "inpaint-small" in {m["name"] for m in inpaint["models"]}
    sigma = _by_name(tasks["denoise"]["options"])["sigma"]
    assert (sigma["type"], sigma["minimum"], sigma["maximum"], sigma["default"]) == ("number", 0, 255, None)
    scale = _by_name(tasks["upscale"]["options"])["scale"]
    assert scale["type"] == "choice" and scale["choices"] == ["2", "4"] and scale["default"] == "4"
    assert {"x2", "x4"} <= {m["name"] for m in tasks["upscale"]["models"]}
    steps = _by_name(tasks["run"]["options"])["steps"]
    assert steps["required"] is True and steps["default"] is None


def test_models_are_listed_without_file_system_paths(client) -> None:
    models = client.get("/api/v1/models").json()
    assert {("inpaint", "inpaint-small"), ("upscale", "x4"), ("denoise", "default")} <= {
        (m["task"], m["name"]) for m in models
    }
    assert all(set(m) == {"name", "task", "default", "description", "available"} for m in models)
    assert all(m["available"] for m in models)


def test_openapi_documents_every_route(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/health", "/api/v1/tasks", "/api/v1/models", "/api/v1/run/{task_name}", "/api/v1/convert"} <= set(
        paths
    )
    body = paths["/api/v1/run/{task_name}"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["image"] and "mask" in body["properties"]


def test_inpaint_round_trip_changes_only_hole_pixels(client, crop, codec) -> None:
    mask = np.zeros(crop.shape[:2], np.uint8)
    mask[30:60, 20:70] = 255
    response = client.post(
        "/api/v1/run/inpaint",
        files={"image": ("helmet.png", codec.png(crop), "image/png"), "mask": ("m.png", codec.png(mask), "image/png")},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert "helmet.png" in response.headers["content-disposition"]
    out = codec.decode(response.content)
    assert out.shape == crop.shape and out.dtype == np.uint8
    changed = np.any(out != crop, axis=2)
    assert not changed[mask == 0].any(), "a pixel outside the hole changed"
    assert changed[mask > 0].mean() > 0.5, "the hole was not filled"
    # the fill continues its surroundings: closer to the hidden truth than a flat grey
    truth, fill = crop[mask > 0].astype(float), out[mask > 0].astype(float)
    assert np.abs(fill - truth).mean() < np.abs(128.0 - truth).mean()


def test_inpaint_keeps_the_input_format_and_honours_options(client, crop, codec) -> None:
    mask = np.zeros(crop.shape[:2], np.uint8)
    mask[40:50, 40:50] = 255
    response = client.post(
        "/api/v1/run/inpaint",
        files={"image": ("face.jpg", codec.jpg(crop), "image/jpeg"), "mask": ("m.png", codec.png(mask), "image/png")},
        data={"dilate": "4", "model": "inpaint-small"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert codec.decode(response.content).shape == crop.shape


def test_inpaint_uses_transparency_as_the_hole_without_a_mask(client, crop, codec) -> None:
    rgba = np.dstack([crop, np.full(crop.shape[:2], 255, np.uint8)])
    rgba[20:40, 20:40, 3] = 0
    response = client.post("/api/v1/run/inpaint", files={"image": ("a.png", codec.png(rgba), "image/png")})
    assert response.status_code == 200, response.text
    out = codec.decode(response.content)
    assert out.shape == crop.shape  # the filled result is opaque, as on the command line
    assert np.array_equal(out[:20], crop[:20])


def test_denoise_round_trip_removes_noise(client, crop, codec) -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(crop + rng.normal(0, 25, crop.shape), 0, 255).astype(np.uint8)
    response = client.post(
        "/api/v1/run/denoise", files={"image": ("n.png", codec.png(noisy), "image/png")}, data={"sigma": "25"}
    )
    assert response.status_code == 200, response.text
    out = codec.decode(response.content)
    assert out.shape == crop.shape
    assert psnr(out, crop) > psnr(noisy, crop) + 3


def test_denoise_keeps_16_bit_depth_and_alpha(client, crop, codec) -> None:
    deep = np.dstack([crop.astype(np.uint16) * 257, np.full(crop.shape[:2], 40000, np.uint16)])
    response = client.post("/api/v1/run/denoise", files={"image": ("deep.png", codec.png(deep), "image/png")})
    assert response.status_code == 200, response.text
    assert (response.headers["x-imggan-dtype"], response.headers["x-imggan-channels"]) == ("uint16", "4")
    out = codec.decode(response.content)
    assert out.dtype == np.uint16 and out.shape == deep.shape
    assert np.array_equal(out[..., 3], deep[..., 3])


def test_gray_in_gray_out(client, crop, codec) -> None:
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    response = client.post("/api/v1/run/denoise", files={"image": ("g.png", codec.png(gray), "image/png")})
    assert response.status_code == 200, response.text
    assert codec.decode(response.content).shape == gray.shape


def test_upscale_round_trip_at_both_scales(client, crop, codec) -> None:
    small = crop[:48, :40]
    for scale, expected in (("2", (96, 80, 3)), ("4", (192, 160, 3))):
        response = client.post(
            "/api/v1/run/upscale",
            files={"image": ("s.png", codec.png(small), "image/png")},
            data={"scale": scale, "format": "png"},
        )
        assert response.status_code == 200, response.text
        out = codec.decode(response.content)
        assert out.shape == expected
        back = cv2.resize(out, (40, 48), interpolation=cv2.INTER_AREA)
        assert psnr(back, small) > 30  # the upscale is of this image


def test_convert_reencodes_in_the_asked_format(client, crop, codec) -> None:
    response = client.post(
        "/api/v1/convert", files={"image": ("x.png", codec.png(crop), "image/png")}, data={"format": "jpg"}
    )
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert psnr(codec.decode(response.content), crop) > 35


def test_the_page_and_its_assets_are_served(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("app.js", "style.css"):
        assert f"/static/{asset}" in page.text
        assert client.get(f"/static/{asset}").status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # no CDN: everything is local


def test_a_large_photo_is_worked_on_at_full_size(client, photo, codec) -> None:
    big = cv2.resize(photo, (2400, 1600), interpolation=cv2.INTER_CUBIC)  # 3.8 MP
    mask = np.zeros(big.shape[:2], np.uint8)
    cv2.circle(mask, (1900, 500), 40, 255, -1)
    response = client.post(
        "/api/v1/run/inpaint",
        files={"image": ("big.png", codec.png(big), "image/png"), "mask": ("m.png", codec.png(mask), "image/png")},
    )
    assert response.status_code == 200, response.text
    out = codec.decode(response.content)
    assert out.shape == big.shape
    changed = np.any(out != big, axis=2)
    assert not changed[mask == 0].any() and changed[mask > 0].mean() > 0.5
