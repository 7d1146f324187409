"""Fixtures of the enhance head's tests: the packaged 128x128 test photo."""

from pathlib import Path

import cv2
import numpy as np
import pytest

TEST_IMAGE = Path(__file__).resolve().parents[1] / "imggan_enhance" / "data" / "astronaut-128.png"


@pytest.fixture(scope="session")
def clean() -> np.ndarray:
    """The packaged test photo (BGR uint8), never trained on."""
    return cv2.imread(str(TEST_IMAGE), cv2.IMREAD_COLOR)
