"""Benchmark of the conditional emoji generator on the emoji test split, beside real data and a classical model.

Data: ``emoji:google`` (``imggan data fetch --emoji``; Noto emoji, 9 classes by category, fixed grouped splits
1,323 train / 190 val / 379 test, docs/data.md "Emoji"). The model was trained on train and its checkpoint chosen
on val (``benchmarks/generate_select.py``); every figure here is on test.

* a CNN classifier (``imggan.metrics.generation.train_classifier``, 1,500 steps at 16 px, seed 0; the one
  ``generate_select.py`` uses) trained on the real train split: its test accuracy (per class too);
* the label accuracy of 100 samples per requested class (seeds 10,000 + 1,000 k), per class and averaged;
* CAS: the same classifier trained on those 900 generated images, scored on the real test split;
* KID x 10^3 in the real classifier's features against the test split; multi-scale SWD (3 levels, 128 patches
  per image, seed 0, as ``benchmarks/generate.py``) against the test split, with SWD(train, test) as reference;
* classical baseline: a Gaussian in the PCA-20 space of each class's train images, sampled and clipped;
* memorisation audit (``imggan_generate.audit``, as ``benchmarks/generate.py`` for digits and faces): 2,000
  samples against the train images, in pixels and in the label classifier's features, the test split as the
  held-out real images of its yardstick. Per space beside the counted fraction: the expected rate of new real
  images 2 / (n + 1), the leave-one-out and held-out counts and the one-sided verdict (``p_value``, ``flagged``).

Usage:
    python benchmarks/generate_emoji.py [--model emoji] [--results benchmarks/results] [--json out.json]
        [--update-card]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from generate import audit_figures, conditional_methods, gaussian_pca, machine, update_card, write_json

from imggan.metrics.generation import train_classifier
from imggan_generate import render
from imggan_generate.api import generate, load_generator
from imggan_generate.data import load_image_set

DATA = "emoji:google"
PER_CLASS = 100


def rows(model_name: str, results: Path) -> dict:
    """All emoji figures (test split)."""
    model = load_generator(model_name)
    res, classes = model.resolution, model.num_classes
    train, test = load_image_set(f"{DATA}:train", res), load_image_set(f"{DATA}:test", res)
    t0 = time.perf_counter()
    clf = train_classifier(train.images, train.labels, steps=1500, size=16, seed=0)
    out: dict = {
        "classes": list(train.class_names),
        "split_sizes": {"train": len(train.images), "test": len(test.images)},
        "classifier_train_seconds": round(time.perf_counter() - t0, 1),
        "classifier_test_accuracy": clf.accuracy(test.images, test.labels),
        "classifier_test_accuracy_per_class": [
            round(clf.accuracy(test.images[test.labels == k], test.labels[test.labels == k]), 3) for k in range(classes)
        ],
    }
    gen = np.concatenate([generate(model, PER_CLASS, label=k, seed=10_000 + 1000 * k) for k in range(classes)])
    gen_labels = np.repeat(np.arange(classes), PER_CLASS)
    baseline = np.concatenate(
        [gaussian_pca(train.images[train.labels == k], PER_CLASS, seed=k) for k in range(classes)]
    )
    out["methods"] = conditional_methods(clf, train, test, gen, gen_labels, baseline, model_name)
    out["swd_ratio"] = out["methods"][2]["swd_test"] / out["methods"][0]["swd_test"]
    zoomed = render.zoom(np.concatenate([generate(model, 10, label=k, seed=k * 10) for k in range(classes)]), 3)
    render.write_png(results / "generate_emoji_grid.png", render.grid(zoomed, columns=10))
    picks = np.concatenate([baseline[gen_labels == k][:10] for k in range(classes)])
    render.write_png(results / "generate_emoji_baseline.png", render.grid(render.zoom(picks, 3), columns=10))
    real = np.concatenate([test.images[test.labels == k][:10] for k in range(classes)])
    render.write_png(results / "generate_emoji_test_real.png", render.grid(render.zoom(real, 3), columns=10))
    out["audit"] = audit_figures(model, f"{DATA}:train", test.images, results / "generate_emoji_audit")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="emoji")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--update-card", action="store_true", help="write the figures into the shipped card")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    args.results.mkdir(parents=True, exist_ok=True)
    out = {"machine": machine(), "torch": torch.__version__, "threads": 1, "emoji": rows(args.model, args.results)}
    write_json(out, args.json)
    if args.update_card:
        update_card(args.model, out["emoji"], out["machine"], "benchmarks/generate_emoji.py")


if __name__ == "__main__":
    main()
