"""Is the shipped faces model's feature-audit count copying, or blur? New real faces blurred like its samples.

The shipped ``faces`` samples are blurrier than real faces. A blurred face lacks the fine detail that keeps two
distinct faces apart, so it may come closer to some training face than the closest training pair even when it
copies nothing. This script measures how often *new real* faces blurred to the samples' sharpness are counted:

1. sharpness = the mean squared Laplacian of an image (3x3, on [0, 1] grey values); the Gaussian blur sigma at
   which the 80 training faces (``skimage:lfw-faces:trainval``) match the samples' median sharpness is found on
   a grid;
2. the 80 faces in ``--folds`` folds; each fold's faces, sharp and blurred at that sigma (and at 1 px), are
   audited against the other folds' faces and their mirror images, with the audit's autoencoder trained on
   those (both orientations, 600 steps), as for a model trained on them: the counted fraction against
   2 / (n_fold + 1).

No test face is used. Compare with the previous ``faces``' 10.2 % (features) and 1.2 % (pixels) against 2.47 % expected.

Usage:
    python benchmarks/generate_audit_blur.py [--folds 4] [--json benchmarks/results/generate_audit_blur.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from generate import write_json
from generate_audit_features import blurred

from imggan_generate.api import generate, load_generator
from imggan_generate.audit import audit_samples
from imggan_generate.audit_stats import expected_rate
from imggan_generate.data import load_image_set
from imggan_generate.features import train_autoencoder

SIGMAS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5)


def sharpness(images: np.ndarray) -> np.ndarray:
    """Mean squared 3x3 Laplacian of each uint8 image (grey, on [0, 1])."""
    grey = images[..., 0].astype(np.float32) / 255.0
    return np.array([float((cv2.Laplacian(g, cv2.CV_32F) ** 2).mean()) for g in grey])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="faces")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    faces = load_image_set("skimage:lfw-faces:trainval", 32).images
    samples = generate(load_generator(args.model), 500, seed=0)
    target = float(np.median(sharpness(samples)))
    by_sigma = {s: float(np.median(sharpness(blurred(faces, s)))) for s in SIGMAS}
    matched = min(SIGMAS, key=lambda s: abs(np.log(by_sigma[s] / target)))
    out: dict = {
        "sharpness_median": {"samples": target, "real faces": float(np.median(sharpness(faces)))},
        "sharpness_median_blurred": by_sigma,
        "matched_sigma": matched,
        "folds": args.folds,
    }
    folds = np.array_split(np.random.default_rng(0).permutation(len(faces)), args.folds)
    kinds = {"sharp": None, "sigma 1": 1.0, f"sigma {matched} (matched)": matched}
    counts = {k: {"pixels": 0, "features": 0} for k in kinds}
    images, expected = 0, 0.0
    for k, held in enumerate(folds):
        refs = faces[np.concatenate([f for j, f in enumerate(folds) if j != k])]
        encode = train_autoencoder(np.concatenate([refs, refs[:, :, ::-1]]), steps=600)
        images += len(held)
        expected += len(held) * expected_rate(len(refs))
        for name, sigma in kinds.items():
            probe = faces[held] if sigma is None else blurred(faces[held], sigma)
            r = audit_samples(probe, refs, features=True, mirror=True, encoder=encode)
            for space in ("pixels", "features"):
                counts[name][space] += int(round(r[space]["fraction_closer_than_closest_pair"] * len(held)))
    out["held_out_images"] = images
    out["expected_count"] = expected
    out["counted"] = counts
    write_json(out, args.json)


if __name__ == "__main__":
    main()
