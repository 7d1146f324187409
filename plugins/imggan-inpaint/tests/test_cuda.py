"""The shipped inpainting model on a CUDA device: known pixels exact, holes as on the CPU. Marked ``gpu``."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from imggan_inpaint.api import inpaint

pytestmark = pytest.mark.gpu

EXAMPLE = Path(__file__).resolve().parents[1] / "imggan_inpaint" / "examples" / "astronaut.jpg"


def test_inpaint_on_cuda_keeps_known_pixels_and_matches_the_cpu():
    image = cv2.imread(str(EXAMPLE), cv2.IMREAD_COLOR)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[60:110, 80:150] = 255
    on_cpu, on_gpu = inpaint(image, mask, device="cpu"), inpaint(image, mask, device="cuda")
    known = mask == 0
    assert np.array_equal(on_gpu[known], image[known])
    hole_gap = np.abs(on_gpu.astype(int) - on_cpu.astype(int))[~known]
    assert hole_gap.mean() < 1.0 and hole_gap.max() <= 8
