"""Fixtures of the style head's tests: the bundled example pair, cut small."""

from pathlib import Path

import cv2
import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / "imggan_style" / "data"


def _rgb(name: str, size: tuple[int, int]) -> np.ndarray:
    image = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """The bundled photo (skimage's chelsea), 48x36 float RGB."""
    return _rgb("chelsea.jpg", (48, 36))


@pytest.fixture(scope="session")
def painting() -> np.ndarray:
    """The bundled reference (a Wesnoth landscape painting), 48x32 float RGB."""
    return _rgb("wesnoth-mountains.jpg", (48, 32))


@pytest.fixture(scope="session")
def painting96() -> np.ndarray:
    """The bundled reference at 96x64, float RGB (its texture at a size a 96-px picture can show)."""
    return _rgb("wesnoth-mountains.jpg", (96, 64))


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """A small photo, the reference, a broken image and a folder of photos on disk."""
    photo = cv2.resize(cv2.imread(str(DATA / "chelsea.jpg")), (41, 30), interpolation=cv2.INTER_AREA)
    style = cv2.resize(cv2.imread(str(DATA / "wesnoth-mountains.jpg")), (48, 32), interpolation=cv2.INTER_AREA)
    paths = {"photo": tmp_path / "photo.png", "style": tmp_path / "style.png", "broken": tmp_path / "broken.png"}
    cv2.imwrite(str(paths["photo"]), photo)
    cv2.imwrite(str(paths["style"]), style)
    paths["broken"].write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"p{i}.png"), np.roll(photo, 7 * i, axis=1))
    paths["photos"] = folder
    return paths
