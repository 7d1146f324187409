"""The default path (reference-image optimiser): it moves towards the style, keeps size, colour and seed."""

import numpy as np
import pytest

from imggan.metrics import multiscale_swd
from imggan_style.color import chroma_difference
from imggan_style.optimize import Preset, level_shapes, stylize_array

TINY = Preset(steps=(25, 15), patches=512, projections=32, scales=1, lr=0.02)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def test_a_few_steps_lower_the_style_distance(photo, painting):
    out = stylize_array(photo, painting, quality=TINY, size=48, seed=0, strength=0.8)
    before = multiscale_swd([_u8(photo)], [_u8(painting)], levels=2, patches_per_image=128)["mean"]
    after = multiscale_swd([_u8(out)], [_u8(painting)], levels=2, patches_per_image=128)["mean"]
    assert after < 0.9 * before


@pytest.mark.parametrize("shape", [(37, 53), (29, 17), (60, 61)])
def test_output_size_equals_input_size(painting, shape):
    rng = np.random.default_rng(1)
    content = rng.random((*shape, 3), dtype=np.float32)
    out = stylize_array(content, painting, quality=TINY, size=32, seed=0)  # 60x61 works at 32, then refines up
    assert out.shape == (*shape, 3) and out.dtype == np.float32


def test_level_shapes_coarse_to_fine_and_capped():
    shapes = level_shapes(300, 451, 512, 4)
    assert shapes[-1] == (300, 451)  # never enlarged beyond the input
    assert [s[1] for s in shapes] == sorted(s[1] for s in shapes)
    assert level_shapes(1000, 2000, 512, 2)[-1] == (256, 512)


def test_preserve_color_keeps_the_chroma(photo, painting):
    plain = stylize_array(photo, painting, quality=TINY, size=48, seed=0)
    kept = stylize_array(photo, painting, quality=TINY, size=48, seed=0, preserve_colors=True)
    assert chroma_difference(kept, photo) < 2.0  # mean delta E of (a*, b*)
    assert chroma_difference(plain, photo) > 3 * chroma_difference(kept, photo)


def test_seed_reproduces_and_another_seed_differs(photo, painting):
    a = stylize_array(photo, painting, quality=TINY, size=48, seed=3)
    b = stylize_array(photo, painting, quality=TINY, size=48, seed=3)
    c = stylize_array(photo, painting, quality=TINY, size=48, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_strength_zero_is_the_content_and_more_strength_moves_further(photo, painting):
    assert np.array_equal(stylize_array(photo, painting, strength=0.0), photo)
    weak = stylize_array(photo, painting, quality=TINY, size=48, seed=0, strength=0.2)
    strong = stylize_array(photo, painting, quality=TINY, size=48, seed=0, strength=1.0)
    assert np.abs(strong - photo).mean() > np.abs(weak - photo).mean()
