"""Colour helpers and the guided upsampling that brings working-resolution results to full size."""

import cv2
import numpy as np

from imggan_style.color import chroma_difference, match_histograms, preserve_color
from imggan_style.upsample import guided_upsample


def test_match_histograms_takes_the_reference_values(photo, painting):
    out = match_histograms(photo, painting)
    for ch in range(3):
        assert abs(np.median(out[..., ch]) - np.median(painting[..., ch])) < 0.02
    assert np.corrcoef(out[..., 1].ravel(), photo[..., 1].ravel())[0, 1] > 0.9  # same order of values


def test_preserve_color_takes_the_lightness_of_the_result(photo, painting):
    styled = cv2.resize(painting, (photo.shape[1], photo.shape[0]))
    out = preserve_color(styled, photo)
    assert chroma_difference(out, photo) < 2.0
    lightness = lambda x: cv2.cvtColor(x, cv2.COLOR_RGB2Lab)[..., 0]  # noqa: E731
    assert np.abs(lightness(out) - lightness(styled)).mean() < np.abs(lightness(photo) - lightness(styled)).mean()


def test_guided_upsample_is_seamless_and_keeps_the_content_detail():
    rng = np.random.default_rng(0)
    content = rng.random((101, 143, 3), dtype=np.float32)  # fine detail everywhere
    small = cv2.resize(content, (36, 25), interpolation=cv2.INTER_AREA) * 0.5 + 0.25  # a "stylised" tone change
    out = guided_upsample(small, content)
    assert out.shape == content.shape
    detail = content - cv2.GaussianBlur(content, (0, 0), 3)
    out_detail = out - cv2.GaussianBlur(out, (0, 0), 3)
    assert np.corrcoef(detail.ravel(), out_detail.ravel())[0, 1] > 0.8
    # one global operation: the error has no block structure (rows and columns alike everywhere)
    error = np.abs(out - cv2.resize(small, (143, 101), interpolation=cv2.INTER_CUBIC)).mean(axis=(1, 2))
    assert error.std() < 0.2 * error.mean()
