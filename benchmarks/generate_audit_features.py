"""Which feature network makes the faces audit a fair measure? Calibration on the train and val faces only.

A feature space for the memorisation audit must (a) keep copies of a training face next to it, verbatim or
lightly altered (1 px shift, mirror, a little brightness / contrast change and noise), and (b) place *new*
real faces at the rate the exchangeability argument gives, 2 / (n + 1) (``imggan_generate.audit_stats``). (b)
can fail for a network trained on the training faces: it may place new faces nearer to, or farther from, the
training faces than they are to each other. Measured here, per candidate network, with nothing from the test
split:

* copies: the 70 train faces verbatim, and three light alterations of each (210), audited against the train
  faces: the fraction counted (closer than the closest train pair) should be near 100 %;
* cross-fitted held-out faces: the 70 train faces in ``--folds`` folds; each fold's faces are audited against
  the other folds' faces with a network trained on those only (as the audit trains it on its references), so
  every train face is once a new real face: the count over all folds against the sum of 2 / (n_fold + 1);
* the 10 val faces against the 70 train faces (network trained on the 70), and blurred new faces (Gaussian
  sigma 1 px, as the generator's samples are blurry; the val faces, and each fold's held-out faces): a measure
  that counts blurry new faces as copies confuses blur with copying.

All with the mirrored references (the face runs train with flips). Candidates: the audit's autoencoder at 600
and ``--ae-steps`` steps, and the contrastive embedding of ``imggan_generate.features``.

Usage:
    python benchmarks/generate_audit_features.py [--folds 4] [--json benchmarks/results/generate_audit_features.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
from generate import write_json

from imggan_generate.audit import audit_samples
from imggan_generate.audit_stats import expected_rate
from imggan_generate.data import load_image_set
from imggan_generate.features import Alterations, alter, train_autoencoder, train_contrastive

LIGHT = Alterations(shift=1, flip=0.5, brightness=0.05, contrast=0.1, noise=0.02, blur=0.0)


def candidates(ae_steps: int, contrastive_steps: int) -> dict:
    """name -> trainer(images) -> encode; the autoencoders train on both orientations, as the audit does."""

    def both(images: np.ndarray) -> np.ndarray:
        return np.concatenate([images, images[:, :, ::-1]])

    return {
        "autoencoder, 600 steps": lambda im: train_autoencoder(both(im), steps=600),
        f"autoencoder, {ae_steps} steps": lambda im: train_autoencoder(both(im), steps=ae_steps),
        f"contrastive, {contrastive_steps} steps": lambda im: train_contrastive(im, steps=contrastive_steps),
    }


def light_copies(images: np.ndarray, per: int = 3, seed: int = 0) -> np.ndarray:
    """``per`` light alterations of each image (uint8), the kind a copying generator might make."""
    import torch

    rng = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)
    out = torch.cat([alter(x, rng, LIGHT) for _ in range(per)])
    return np.rint((out.numpy().transpose(0, 2, 3, 1) + 1) * 127.5).clip(0, 255).astype(np.uint8)


def blurred(images: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian-blurred copies (uint8)."""
    return np.stack([cv2.GaussianBlur(im, (0, 0), sigma)[..., None] for im in images])


def counted(samples: np.ndarray, refs: np.ndarray, encode) -> tuple[int, int]:
    """(pixel count, feature count) of ``samples`` closer than the closest pair of ``refs`` (mirrored)."""
    r = audit_samples(samples, refs, features=True, mirror=True, encoder=encode)
    n = len(samples)
    return (
        int(round(r["pixels"]["fraction_closer_than_closest_pair"] * n)),
        int(round(r["features"]["fraction_closer_than_closest_pair"] * n)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--ae-steps", type=int, default=2000)
    parser.add_argument("--contrastive-steps", type=int, default=800)
    parser.add_argument("--only", action="append", default=None, help="candidates whose name starts with this")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    train = load_image_set("skimage:lfw-faces:train", 32).images
    val = load_image_set("skimage:lfw-faces:val", 32).images
    folds = np.array_split(np.random.default_rng(0).permutation(len(train)), args.folds)
    out: dict = {"train_faces": len(train), "val_faces": len(val), "folds": args.folds, "networks": {}}
    for name, fit in candidates(args.ae_steps, args.contrastive_steps).items():
        if args.only and not any(name.startswith(prefix) for prefix in args.only):
            continue
        t0 = time.perf_counter()
        row: dict = {}
        encode = fit(train)
        row["verbatim_copies"] = counted(train, train, encode)[1] / len(train)
        copies = light_copies(train)
        px, ft = counted(copies, train, encode)
        row["light_copies"] = {"pixels": px / len(copies), "features": ft / len(copies)}
        px, ft = counted(val, train, encode)
        row["val"] = {"images": len(val), "pixels": px, "features": ft, "expected_rate": expected_rate(len(train))}
        px, ft = counted(blurred(val), train, encode)
        row["val_blurred"] = {"pixels": px, "features": ft}
        cross = {"images": 0, "pixels": 0, "features": 0, "expected_count": 0.0, "blurred": [0, 0]}
        for k, held in enumerate(folds):
            refs = train[np.concatenate([f for j, f in enumerate(folds) if j != k])]
            encode_fold = fit(refs)
            px, ft = counted(train[held], refs, encode_fold)
            bpx, bft = counted(blurred(train[held]), refs, encode_fold)
            cross["blurred"] = [cross["blurred"][0] + bpx, cross["blurred"][1] + bft]  # pixels, features
            cross["images"] += len(held)
            cross["pixels"] += px
            cross["features"] += ft
            cross["expected_count"] += len(held) * expected_rate(len(refs))
        row["cross_fitted_held_out"] = cross
        row["seconds"] = time.perf_counter() - t0
        out["networks"][name] = row
        print(json.dumps({name: row}), flush=True)
    write_json(out, args.json)


if __name__ == "__main__":
    main()
