"""How the faces audit scores images that are *not* copies: real held-out faces and a classical model's draws.

The audit (``imggan_generate.audit``) counts samples closer to a training image than the closest pair of distinct
training images. Whether 0 % is a reachable bar depends on where genuinely new faces land: this script audits
the 30 held-out lfw faces (``skimage:lfw-faces:val`` + ``:test``, never trained on) as if they were samples, and
2,000 draws of the Gaussian in the PCA-20 space of the train faces (``benchmarks/generate.py``'s classical
baseline), both against the 70 train faces and their mirror images (the face runs train with flips), in pixels
and in the features of the autoencoder trained on both orientations (600 steps, seed 0), as
``generate_select.py --audit`` does; each row with the audit's yardstick (the expected rate 2 / 71 of new real
faces and the verdict). No model is chosen on it.

Usage:
    python benchmarks/generate_audit_reference.py [--json benchmarks/results/generate_faces_audit_reference.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from generate import gaussian_pca, write_json

from imggan_generate.audit import audit_samples
from imggan_generate.data import load_image_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    train = load_image_set("skimage:lfw-faces:train", 32).images
    held_out = np.concatenate([load_image_set(f"skimage:lfw-faces:{s}", 32).images for s in ("val", "test")])
    named = {
        "real held-out faces (val + test)": held_out,
        "Gaussian PCA-20 of the train faces": gaussian_pca(train, 2000),
    }
    out = {}
    for name, images in named.items():
        report = audit_samples(images, train, mirror=True)
        keys = ("samples", "train_images", "mirror", "pixels", "features", "copies", "flagged")
        out[name] = {k: report[k] for k in keys}
    write_json(out, args.json)


if __name__ == "__main__":
    main()
