"""KID (imggan.metrics.generation.kid): near 0 for two halves of one set, clearly above for a shifted set,
independent of the feature network's scale, in the units published figures use (x 10^3)."""

from __future__ import annotations

import numpy as np
import pytest

from imggan.metrics.generation import kid


def _features(n: int, d: int = 64, seed: int = 0) -> np.ndarray:
    """ReLU-like features in the tens, like a trained classifier's penultimate layer."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d))
    return np.maximum(rng.normal(size=(n, d)) @ mix * 3.0 + 5.0, 0.0)


def test_kid_of_a_set_against_its_other_half_is_near_zero():
    feats = _features(600)
    same = kid(feats[:300], feats[300:])
    shifted = kid(feats[:300] + 2.0, feats[300:])
    assert abs(same["x1000"]) < 5.0  # estimator noise around 0
    assert shifted["x1000"] > 20 * max(abs(same["x1000"]), 1.0)
    assert same["x1000"] == pytest.approx(1000 * same["mean"])


def test_kid_grows_with_the_shift_and_ignores_the_feature_scale():
    feats = _features(400, seed=1)
    a, b = feats[:200], feats[200:]
    values = [kid(a + s, b)["mean"] for s in (0.0, 1.0, 3.0)]
    assert values[0] < values[1] < values[2]
    assert kid(a * 10 + 7, b * 10 + 7)["mean"] == pytest.approx(kid(a, b)["mean"], rel=1e-9, abs=1e-12)


def test_raw_features_in_the_tens_give_huge_values_normalised_ones_do_not():
    feats = _features(400, seed=2)
    a, b = feats[:200] * 1.1, feats[200:]
    raw = kid(a, b, normalize=False)["mean"]
    normed = kid(a, b)["mean"]
    assert raw > 100 * normed > 0


def test_kid_rejects_mismatched_features():
    with pytest.raises(ValueError, match="same d"):
        kid(np.zeros((10, 4)), np.zeros((10, 5)))
