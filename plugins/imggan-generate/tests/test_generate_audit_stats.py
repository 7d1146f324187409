"""The audit's yardstick: new real images are counted at 2 / (n + 1), and the verdict tells copies from them."""

import numpy as np
import pytest

from imggan_generate.audit import audit_samples
from imggan_generate.audit_stats import expected_rate, leave_one_out, verdict

DIM = 12
SCALE = 60.0 / np.sqrt(np.arange(1, DIM + 1))  # a face-like spectrum: a few strong directions, many weak ones


def _draws(rng: np.random.Generator, n: int) -> np.ndarray:
    """n draws of a continuous distribution (DIM-vectors; no ties)."""
    return rng.standard_normal((n, DIM)) * SCALE


def _counted(samples: np.ndarray, train: np.ndarray) -> int:
    from imggan_generate.audit import nearest

    closest = nearest(train, train, self_match=True)[0].min()
    return int((nearest(samples, train)[0] < closest).sum())


def test_new_draws_are_counted_at_two_over_n_plus_one():
    """Exchangeability, numerically: fresh draws beat the closest training pair at rate 2 / (n + 1)."""
    rng = np.random.default_rng(0)
    n, per, sets = 40, 500, 120
    rates = np.array([_counted(_draws(rng, per), _draws(rng, n)) / per for _ in range(sets)])
    p0 = expected_rate(n)
    assert p0 == pytest.approx(2 / 41)
    assert rates.mean() == pytest.approx(p0, rel=0.15)
    # given one training set the rate is nearly exponential around p0: it exceeds p0 about e^-1 of the time and
    # 3 p0 about e^-3 of the time; a fixed-rate binomial test would flag many of these perfect samplers
    assert 0.25 < (rates > p0).mean() < 0.5
    assert (rates > 3 * p0).mean() < 0.12


def test_verdict_passes_perfect_samplers_and_flags_copies():
    rng = np.random.default_rng(1)
    n, count = 40, 800
    flagged = []
    for _ in range(60):
        train = _draws(rng, n)
        k = _counted(_draws(rng, count), train)
        flagged.append(verdict(k, count, n)["flagged"])
        copies = train[rng.integers(0, n, count)] + rng.normal(0, 1e-3, (count, DIM))  # returns training images
        assert verdict(_counted(copies, train), count, n)["flagged"]
    assert np.mean(flagged) < 0.15  # the 5 % level, with room for 60 draws


def test_verdict_figures():
    v = verdict(0, 2000, 80)
    assert v["expected_rate"] == pytest.approx(2 / 81) and v["reference_rate"] == pytest.approx(2 / 81)
    assert v["p_value"] == 1.0 and not v["flagged"]
    assert v["p_none"] == pytest.approx(1 / (1 + 2000 * 2 / 81))  # the literal bar: rarely met by new real images
    assert v["reference_upper95"] == pytest.approx(np.log(20) * 2 / 81, rel=1e-6)  # exponential's 95 % point
    # held-out real images move the reference: none of 200 counted makes a high sample count less likely
    assert verdict(100, 2000, 80, (0, 200))["p_value"] < verdict(100, 2000, 80)["p_value"]
    assert verdict(100, 2000, 80, (20, 200))["reference_rate"] == pytest.approx(21 / 240.5)
    assert verdict(2000, 2000, 80)["flagged"]


def test_leave_one_out_counts_the_closest_pair():
    """In a symmetric distance exactly the two images of the closest pair are closer than the rest's pair."""
    rng = np.random.default_rng(2)
    train = _draws(rng, 50)
    loo = leave_one_out(train)
    assert loo["count"] == 2 and loo["rate"] == pytest.approx(2 / 50) == loo["expected_rate"]
    # with mirror images (an isometry that maps the distribution to itself) it is still the closest orbit pair
    flip = np.where(np.arange(DIM) % 2 == 0, -1.0, 1.0)
    assert leave_one_out(train, train * flip)["count"] == 2
    assert leave_one_out(_draws(rng, 700))["count"] == 2  # more rows than one block of the distance matrix


def test_audit_reports_the_yardstick():
    import cv2

    rng = np.random.default_rng(3)

    def blobs(n: int) -> np.ndarray:
        small = rng.uniform(0, 255, (n, 3, 3)).astype(np.float32)
        return np.stack([cv2.resize(s, (8, 8), interpolation=cv2.INTER_CUBIC) for s in small]).clip(0, 255)

    train, fresh, held = (blobs(k).astype(np.uint8)[..., None] for k in (60, 400, 100))
    report = audit_samples(fresh, train, features=False, held_out=held)
    px = report["pixels"]
    assert px["expected_rate"] == pytest.approx(2 / 61) and report["distinct_train_images"] == 60
    assert px["leave_one_out"]["count"] >= 2 and px["held_out"]["images"] == 100
    assert px["verdict"]["held_out"] == {"count": px["held_out"]["count"], "images": 100}
    assert not report["flagged"]
    copied = audit_samples(train[rng.integers(0, 60, 400)], train, features=False, held_out=held)
    assert copied["flagged"] and copied["pixels"]["verdict"]["p_value"] < 1e-6
