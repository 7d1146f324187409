"""The memorisation audit flags copies and passes new images."""

from pathlib import Path

import numpy as np
import pytest

from imggan.errors import ImgganError
from imggan_generate.audit import audit_samples, nearest


def _blobs(n: int, seed: int) -> np.ndarray:
    """Distinct smooth random images (8x8 grey): a stand-in training set."""
    import cv2

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        small = rng.uniform(0, 255, (3, 3)).astype(np.float32)
        out.append(cv2.resize(small, (8, 8), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)[..., None])
    return np.stack(out)


def test_nearest_skips_self_and_duplicates():
    ref = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    dist, index = nearest(ref, ref, self_match=True)
    assert np.isinf(dist[0]) or dist[0] == 5.0  # its only other neighbour at 0 is a duplicate
    assert dist[2] == 5.0 and index[3] == 2


def test_audit_flags_verbatim_copies(tmp_path: Path):
    train = _blobs(200, 0)
    labels = np.arange(200) % 4
    copies = train[np.random.default_rng(1).integers(0, 200, 300)]
    report = audit_samples(copies, train, labels, features=True, out=tmp_path / "a", pairs=8, zoom=2, feature_steps=30)
    assert report["flagged"] and report["copies"] == 300
    assert report["pixels"]["fraction_closer_than_closest_pair"] == 1.0
    assert report["features"]["fraction_closer_than_closest_pair"] == 1.0
    assert (tmp_path / "a" / "closest-pairs.png").is_file() and (tmp_path / "a" / "audit.json").is_file()
    assert (tmp_path / "a" / "closest-pairs-features.png").is_file()


def test_audit_passes_new_images_and_flags_a_few_copies():
    train = _blobs(200, 0)
    fresh = _blobs(300, 2)  # new draws of the same kind of image
    report = audit_samples(fresh, train, features=False)
    assert not report["flagged"]
    assert report["pixels"]["sample_nn_median"] > report["pixels"]["train_closest_pair"]
    mixed = np.concatenate([fresh, train[:3], train[:1]])
    report = audit_samples(mixed, train, features=False)
    assert report["copies"] == 4
    assert report["pixels"]["counted_nearest"] == {"distinct": 3, "most_common": [[0, 2], [1, 1], [2, 1]]}


def test_mirror_flags_mirrored_copies_that_the_plain_audit_misses():
    train = _blobs(200, 0)
    mirrored = np.ascontiguousarray(train[:5, :, ::-1])
    plain = audit_samples(mirrored, train, features=False)
    both = audit_samples(mirrored, train, features=True, feature_steps=30, mirror=True)
    assert not plain["flagged"]  # a random blob's mirror image is far from every training blob
    assert both["mirror"] and both["copies"] == 5
    assert both["features"]["fraction_closer_than_closest_pair"] == 1.0
    # an image and its own mirror are not two distinct training images: a nearly symmetric one keeps the scale
    train[0] = (train[0].astype(np.int32) + train[0, :, ::-1]) // 2
    train[0, 0, 0, 0] = min(255, int(train[0, 0, 0, 0]) + 1)
    fresh = audit_samples(_blobs(300, 2), train, features=False, mirror=True)
    plain = audit_samples(_blobs(300, 2), train, features=False)
    assert fresh["pixels"]["train_closest_pair"] > 0.5 * plain["pixels"]["train_closest_pair"]


def test_contrastive_features_keep_altered_copies_next_to_their_originals():
    import torch

    from imggan_generate.features import Alterations, alter, train_contrastive

    train = _blobs(40, 0)
    x = torch.from_numpy(train.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)
    light = Alterations(shift=0, flip=1.0, brightness=0.03, contrast=0.05, noise=0.01, blur=0.0)
    altered = alter(x, torch.Generator().manual_seed(0), light).numpy().transpose(0, 2, 3, 1)
    altered = np.rint((altered + 1) * 127.5).clip(0, 255).astype(np.uint8)  # mirrored, re-lit, noised copies
    report = audit_samples(altered, train, features=True, encoder=train_contrastive(train, steps=150))
    # without mirrored references the pixels miss most mirrored copies; the flip-invariant embedding does not
    assert report["pixels"]["fraction_closer_than_closest_pair"] < 0.5
    assert report["features"]["fraction_closer_than_closest_pair"] >= 0.75 and report["features"]["verdict"]["flagged"]
    assert report["flagged"]


def test_held_out_images_must_be_some_and_of_the_training_shape():
    train = np.random.default_rng(0).integers(0, 256, (10, 8, 8, 1), dtype=np.uint8)
    with pytest.raises(ImgganError, match="no held-out images"):
        audit_samples(train[:2], train, features=False, held_out=train[:0])
    with pytest.raises(ImgganError, match="held-out images"):
        audit_samples(train[:2], train, features=False, held_out=np.zeros((3, 4, 4, 1), np.uint8))
    with pytest.raises(ImgganError, match="2 of the 3 held-out images are training images"):
        audit_samples(train[:2], train[:8], features=False, held_out=train[6:9])
