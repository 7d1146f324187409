"""Face rate (imggan.metrics.faces): a detector trained on faces against made negatives tells held-out faces
from textures that share their spectrum, their tiles or their outline."""

from __future__ import annotations

import cv2
import numpy as np

from imggan.metrics.faces import NEGATIVE_KINDS, face_negatives, face_rates, train_face_detector


def _cartoon_faces(n: int, seed: int, side: int = 16) -> np.ndarray:
    """Grey cartoon faces: a bright oval with two dark eyes and a dark mouth, jittered in place and contrast."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        im = np.full((side, side), rng.uniform(20, 80), np.float32)
        cx, cy = side / 2 + rng.uniform(-1, 1), side / 2 + rng.uniform(-1, 1)
        skin = rng.uniform(150, 230)
        cv2.ellipse(im, (int(cx), int(cy)), (int(side * 0.36), int(side * 0.45)), 0, 0, 360, float(skin), -1)
        dark = skin - rng.uniform(90, 130)
        for ex in (-side * 0.17, side * 0.17):
            cv2.circle(im, (int(cx + ex), int(cy - side * 0.12)), max(1, side // 14), float(dark), -1)
        cv2.line(
            im,
            (int(cx - side * 0.14), int(cy + side * 0.22)),
            (int(cx + side * 0.14), int(cy + side * 0.22)),
            float(dark),
            1,
        )
        out.append(np.clip(im + rng.normal(0, 4, im.shape), 0, 255).astype(np.uint8)[..., None])
    return np.stack(out)


def test_made_negatives_keep_shape_and_statistics_but_not_the_face():
    faces = _cartoon_faces(6, 0)
    made = face_negatives(faces, seed=0)
    assert tuple(made) == NEGATIVE_KINDS
    for kind, images in made.items():
        assert images.shape == faces.shape and images.dtype == np.uint8, kind
        assert not np.array_equal(images, faces), kind
    # the phase-scrambled texture has the face's amplitude spectrum (up to rounding and clipping)
    a = np.abs(np.fft.fft2(faces[0, ..., 0] - faces[0, ..., 0].mean()))
    b = np.abs(np.fft.fft2(made["phase"][0, ..., 0].astype(np.float64) - made["phase"][0, ..., 0].mean()))
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9
    # tile shuffling keeps the pixel values, only moves them
    assert np.array_equal(np.sort(made["blocks"][0].ravel()), np.sort(faces[0].ravel()))


def test_detector_scores_held_out_faces_high_and_their_textures_low():
    train, held_out = _cartoon_faces(40, 1), _cartoon_faces(30, 2)
    noise = np.random.default_rng(3).integers(0, 256, (30, 16, 16, 1), dtype=np.uint8)
    detector = train_face_detector(train, noise[:20], variants=3, steps=120, size=16, seed=0)
    assert set(detector.negatives) == {*NEGATIVE_KINDS, "non_faces"}
    rates = face_rates(detector, {"faces": held_out, "noise": noise[20:], **face_negatives(held_out, seed=5)})
    assert rates["faces"]["face_rate"] >= 0.9
    for kind in ("noise", *NEGATIVE_KINDS):
        assert rates[kind]["face_rate"] <= 0.2, (kind, rates[kind])
    p = detector.probability(held_out)
    assert p.shape == (30,) and ((p >= 0) & (p <= 1)).all()
