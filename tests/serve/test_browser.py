"""The page in a real browser: Debian's headless Chromium, driven by Selenium through Debian's chromedriver.

The page is served by uvicorn on 127.0.0.1 (a free port, in a thread: the ``live_server`` fixture). The first
test opens the packaged astronaut photo, paints a stroke with pointer events, runs inpaint and checks the result
the page shows: the input's size, and different from the input only inside the painted stroke; then it
downloads the result in the input's format. A screenshot is kept as an artefact (``IMGGAN_SERVE_SCREENSHOT=path``
saves another copy, which is how docs/serve-screenshot.png is made). The second opens a large photo, chains a
plugin's task on the inpainted result and undoes that step. The third runs a task that takes no input image
(``generate``) with no image opened, upscales its result and undoes that step.

Nothing is downloaded: the browser and driver are the system's (``apt-get install -y chromium
chromium-driver``), Selenium Manager is never started. When they are missing or the browser cannot start,
the tests FAIL with the reason; they are skipped only when ``IMGGAN_SKIP_BROWSER=1`` is set explicitly.
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "plugins" / "imggan-inpaint" / "imggan_inpaint" / "examples" / "astronaut.jpg"
CHROMIUM = os.environ.get("IMGGAN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("IMGGAN_CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL = "install them with: apt-get install -y chromium chromium-driver (or set IMGGAN_SKIP_BROWSER=1 to skip)"


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[object]:
    """Headless Chromium via the system chromedriver; fails (never skips silently) when it cannot start."""
    if os.environ.get("IMGGAN_SKIP_BROWSER") == "1":
        pytest.skip("IMGGAN_SKIP_BROWSER=1: the real-browser test was skipped on request")
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not (Path(path).is_file() and os.access(path, os.X_OK))]
    if missing:
        pytest.fail(f"the browser test needs {' and '.join(missing)}; {INSTALL}", pytrace=False)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common import selenium_manager
    except ImportError as exc:
        pytest.fail(f"the browser test needs selenium ({exc}): pip install -e '.[serve-test]'", pytrace=False)

    def no_manager(*_args: object, **_kwargs: object) -> dict:
        raise AssertionError("Selenium Manager must not run: it would try to download a driver")

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager's own switch, should anything start it anyway
    selenium_manager.SeleniumManager.binary_paths = no_manager
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900",
                "--no-first-run", "--disable-extensions", "--disable-background-networking"):  # fmt: skip
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    except Exception as exc:
        pytest.fail(f"headless Chromium did not start: {type(exc).__name__}: {exc}; {INSTALL}", pytrace=False)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    yield driver
    driver.quit()


def _wait(driver: object, script: str, seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            message = driver.execute_script("return document.getElementById('message').textContent")
            raise AssertionError(f"timed out waiting for {what}; the page says: {message!r}")
        time.sleep(0.05)


_READ_BLOB = """
const [source, done] = arguments;
const blob = source.startsWith('mask') ? window.imggan.lastMask : await (await fetch(source)).blob();
const reader = new FileReader();
reader.onload = () => done(reader.result.split(',')[1]);
reader.readAsDataURL(blob);
"""


def _blob(driver: object, source: str) -> np.ndarray:
    """Decode a Blob the page holds (an image URL, or ``mask`` for the last mask it sent)."""
    script = "(async () => {" + _READ_BLOB + "})()"
    data = base64.b64decode(driver.execute_async_script(script, source))
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, f"the page's {source} is not an image"
    return image


def _set_brush(driver: object, size: int) -> None:
    """Move the brush-size slider as a user would (its input event updates the page)."""
    driver.execute_script(
        "const s = document.getElementById('brush-size'); s.value = arguments[0]; s.dispatchEvent(new Event('input'))",
        size,
    )


def _stroke(driver: object, canvas: object, points: list[tuple[int, int]], width: int, height: int) -> None:
    """Drag the pointer through ``points`` (image pixels) on the mask canvas, however the view is scaled."""
    from selenium.webdriver.common.action_chains import ActionChains

    rect = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", canvas)
    screen = [(round((x - width / 2) * rect[0] / width), round((y - height / 2) * rect[1] / height)) for x, y in points]
    actions = ActionChains(driver, duration=30)
    actions.move_to_element_with_offset(canvas, *screen[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(screen, screen[1:], strict=False):
        actions.move_by_offset(x1 - x0, y1 - y0)
    actions.release().perform()


def test_paint_a_stroke_run_inpaint_and_download(live_server, browser, downloads, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    started = time.monotonic()
    driver = browser
    driver.get(live_server)
    _wait(driver, "return document.body.dataset.ready === '1'", 20, "the task list")
    assert driver.find_element(By.ID, "task-select").get_attribute("value") == "inpaint"
    labels = driver.execute_script("return [...document.querySelectorAll('#task-options input')].map(i => i.name)")
    assert {"invert_mask", "dilate", "max_side"} <= set(labels)  # the task's own options, built from its schema

    driver.find_element(By.ID, "file-input").send_keys(str(EXAMPLE))
    _wait(driver, "const s = window.imggan.steps; return s.length === 1 && s[0].width", 20, "the opened image")
    original = cv2.imdecode(np.fromfile(str(EXAMPLE), np.uint8), cv2.IMREAD_UNCHANGED)
    height, width = original.shape[:2]

    canvas = driver.find_element(By.ID, "mask-canvas")
    # a zig-zag over the mission patch on the suit, in image pixels, with a 60-screen-pixel brush
    path = [(108, 272), (148, 272), (148, 290), (108, 290), (108, 304), (148, 304)]
    _set_brush(driver, 60)
    _stroke(driver, canvas, path, width, height)
    assert driver.execute_script("return window.imggan.strokes.length") == 1
    brush = driver.execute_script("return window.imggan.strokes[0].size")

    driver.find_element(By.ID, "run-btn").click()
    assert driver.execute_script("return document.body.dataset.busy === '1' || document.body.dataset.runs === '1'")
    _wait(driver, "return document.body.dataset.runs === '1'", 45, "the inpaint result")

    result = _blob(driver, driver.find_element(By.ID, "img-current").get_attribute("src"))
    mask = _blob(driver, "mask")
    assert result.shape == original.shape, "the result does not have the input's size"
    shown = driver.execute_script(
        "const i = document.getElementById('img-current'); return [i.naturalWidth, i.naturalHeight]"
    )
    assert shown == [width, height]
    hole = mask > 127 if mask.ndim == 2 else mask[..., 0] > 127
    changed = np.any(result != original, axis=2)
    assert hole.any(), "the page sent an empty mask"
    assert not changed[~hole].any(), f"{int(changed[~hole].sum())} pixels changed outside the painted stroke"
    assert changed[hole].mean() > 0.5, "the painted stroke was not filled"
    # the hole is where the pointer went: inside the path's box grown by the brush radius
    rows, cols = np.nonzero(hole)
    pad = brush / 2 + 2
    xs, ys = [x for x, _ in path], [y for _, y in path]
    assert min(xs) - pad <= cols.min() and cols.max() <= max(xs) + pad
    assert min(ys) - pad <= rows.min() and rows.max() <= max(ys) + pad
    assert hole[290, 128] and hole[272, 110], "the stroke's points are not in the mask"
    assert hole.mean() > 0.02
    assert driver.find_element(By.ID, "img-before").is_displayed()  # the before/after comparison
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history li")) == 2

    # side by side, and a new stroke on the result (over the name tag): the screenshot shows both
    driver.find_element(By.ID, "view-side").click()
    assert driver.find_element(By.ID, "img-side-before").is_displayed()
    assert not driver.find_element(By.ID, "img-before").is_displayed()
    _set_brush(driver, 36)
    _stroke(driver, canvas, [(214, 262), (246, 266)], width, height)
    shot = tmp_path / "serve-page.png"
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("IMGGAN_SERVE_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["IMGGAN_SERVE_SCREENSHOT"])
    print(f"screenshot: {shot}")

    driver.find_element(By.ID, "download-btn").click()
    target = downloads / "astronaut_inpaint.jpg"
    deadline = time.monotonic() + 15
    while not target.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.is_file(), f"no download; found {sorted(p.name for p in downloads.iterdir())}"
    saved = cv2.imdecode(np.fromfile(str(target), np.uint8), cv2.IMREAD_UNCHANGED)
    assert target.read_bytes()[:2] == b"\xff\xd8" and saved.shape == original.shape  # the input's format and size
    assert time.monotonic() - started < 60


def test_a_large_photo_a_plugin_task_and_the_history(live_server, browser, photo, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    big = cv2.resize(photo, (2100, 1400), interpolation=cv2.INTER_CUBIC)
    big_path, style_path = tmp_path / "big photo.jpg", tmp_path / "style.png"
    cv2.imwrite(str(big_path), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
    style = np.ascontiguousarray(big[::-1])
    cv2.imwrite(str(style_path), style)
    original = cv2.imread(str(big_path), cv2.IMREAD_COLOR)

    driver.get(live_server)
    _wait(driver, "return document.body.dataset.ready === '1'", 20, "the task list")
    driver.find_element(By.ID, "file-input").send_keys(str(big_path))
    _wait(driver, "const s = window.imggan.steps; return s.length === 1 && s[0].width", 20, "the opened image")
    canvas = driver.find_element(By.ID, "mask-canvas")
    size = driver.execute_script("return [arguments[0].width, arguments[0].height]", canvas)
    shown = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", canvas)
    window = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    assert size == [2100, 1400], "the mask must have the photo's full resolution"
    assert shown[0] < window[0] and shown[1] < window[1], "the view must scale the photo to the window"

    _set_brush(driver, 24)
    _stroke(driver, canvas, [(1300, 420), (1500, 450)], 2100, 1400)
    driver.find_element(By.ID, "run-btn").click()
    _wait(driver, "return document.body.dataset.runs === '1'", 45, "the inpaint result")
    filled = _blob(driver, driver.find_element(By.ID, "img-current").get_attribute("src"))
    hole = _blob(driver, "mask") > 127
    hole = hole if hole.ndim == 2 else hole[..., 0]
    assert filled.shape == original.shape
    changed = np.any(filled != original, axis=2)
    assert hole.any() and not changed[~hole].any() and changed[hole].mean() > 0.5

    # a plugin's task: its side input gets a file field, and it runs on the previous result
    Select(driver.find_element(By.ID, "task-select")).select_by_value("blend")
    driver.find_element(By.ID, "side-style").send_keys(str(style_path))
    driver.find_element(By.ID, "run-btn").click()
    _wait(driver, "return document.body.dataset.runs === '2'", 45, "the blend result")
    blended = _blob(driver, driver.find_element(By.ID, "img-current").get_attribute("src"))
    assert np.array_equal(blended, ((filled.astype(np.uint16) + style) // 2).astype(np.uint8))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history li")) == 3

    driver.find_element(By.ID, "history-undo").click()
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history li")) == 2
    back = _blob(driver, driver.find_element(By.ID, "img-current").get_attribute("src"))
    assert np.array_equal(back, filled)


def test_generate_without_an_image_then_upscale_the_result(live_server, browser, tmp_path) -> None:
    """A task listed with no inputs runs with no image opened; its result is the start of a new history."""
    import urllib.request

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(live_server)
    _wait(driver, "return document.body.dataset.ready === '1'", 20, "the task list")
    Select(driver.find_element(By.ID, "task-select")).select_by_value("generate")
    button = driver.find_element(By.ID, "run-btn")
    assert button.text == "Generate" and button.is_enabled(), "a generator needs no image to run"
    for name, value in (("count", "20"), ("zoom", "2"), ("seed", "5")):
        field = driver.find_element(By.ID, f"opt-{name}")
        field.clear()
        field.send_keys(value)
    button.click()
    _wait(driver, "return document.body.dataset.runs === '1'", 30, "the generated grid")
    grid = _blob(driver, driver.find_element(By.ID, "img-current").get_attribute("src"))
    assert grid.shape[:2] == (2 * 34 + 2, 10 * 34 + 2)  # 20 digits of 16 px x 2, one class per column, 2 px gaps
    request = urllib.request.Request(live_server + "api/v1/run/generate", data=b"count=20&zoom=2&seed=5")
    with urllib.request.urlopen(request, timeout=30) as response:  # the API gives the very same picture
        direct = cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(grid if grid.ndim == 2 else grid[..., 0], direct)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history li")) == 1

    Select(driver.find_element(By.ID, "task-select")).select_by_value("upscale")
    Select(driver.find_element(By.ID, "opt-scale")).select_by_value("2")
    driver.find_element(By.ID, "run-btn").click()
    _wait(driver, "return document.body.dataset.runs === '2'", 45, "the upscaled grid")
    bigger = _blob(driver, driver.find_element(By.ID, "img-current").get_attribute("src"))
    assert bigger.shape[:2] == (2 * grid.shape[0], 2 * grid.shape[1])
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history li")) == 2
    shot = tmp_path / "serve-generate.png"
    driver.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
    driver.find_element(By.ID, "history-undo").click()
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history li")) == 1
