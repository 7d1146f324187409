"""Benchmark of imggan-generate: the shipped digits and faces generators against real data and a classical model.

Protocol (issue 14). Splits are fixed (``imggan_generate.data``): digits 1,259 train / 179 val / 359 test
(stratified), lfw 160 train / 40 test, lfw-faces 70 train / 10 val / 20 test. Nothing here was trained or chosen
on a test split (checkpoints are chosen on val with ``benchmarks/generate_select.py``).

* digits (conditional, 16 px): a CNN classifier (``imggan.metrics.generation.train_classifier``, 1,500 steps)
  trained on the real train split; its test accuracy; the label accuracy of 100 samples per requested class,
  averaged over the 10 classes; CAS = accuracy on the real test split of the same classifier trained on 1,000
  generated digits (100 per class); KID x 10^3 in the real classifier's features against the test split (the
  features put in the test split's units: centred, one RMS scale; cubic kernel, gamma 1/d, coef 1); multi-scale
  SWD (``imggan.metrics.multiscale_swd``) against the test split, next to SWD(train, test).
* faces (unconditional, 32 px): SWD(generated, test) of the runs with and without DiffAugment/ADA (same
  steps, same seeds), SWD(train, test) as the reference; for ``skimage:lfw-faces`` also every row's face rate
  (``imggan.metrics.faces``, the detector of ``generate_select.face_detector``: trained on the train faces
  against train non-faces and made textures) beside the rates of the real test faces, of textures made from them
  and of the test non-faces. The splits are those of the source the model was
  trained on (its card's ``config.data``: ``skimage:lfw-faces`` or ``skimage:lfw``), or ``--faces-data``;
  ``--faces-train-split`` names the split it trained on (``train``, the default: the shipped ``faces`` trained on
  the 70 train faces; ``trainval`` for the previous ``faces``, trained on the 80 non-test faces);
  ``--faces-other`` (repeatable) and ``--faces-previous`` score other models on the same split.
* classical baseline: a Gaussian in a PCA space (20 components; per class for digits) fitted on the train
  split, sampled and clipped: the strongest simple parametric image model.
* audit (``imggan_generate.audit``): 2,000 samples against the training images, pixels and trained features,
  the test split as the held-out real images of its yardstick (the rate new real images are counted at).

Usage:
    python benchmarks/generate.py [--digits digits] [--faces faces] [--faces-other PATH ...] [--faces-previous M]
        [--faces-data skimage:lfw-faces] [--faces-train-split train] [--json out.json]
        [--results benchmarks/results] [--update-cards]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from _machine import cpu_model
from generate_select import FACES, detector_reference, face_detector

from imggan.metrics import multiscale_swd
from imggan.metrics.generation import classification_accuracy_score, kid, label_accuracy, train_classifier
from imggan_generate import render
from imggan_generate.api import generate, load_generator
from imggan_generate.audit import audit
from imggan_generate.data import load_image_set


def machine() -> str:
    """CPU model and core count."""
    name = cpu_model(platform.machine())
    return f"{name}, {os.cpu_count()} cores"


def gaussian_pca(images: np.ndarray, count: int, components: int = 20, seed: int = 0) -> np.ndarray:
    """Samples of a Gaussian fitted in the top-``components`` PCA space of ``images`` (uint8 NxHxWxC)."""
    rng = np.random.default_rng(seed)
    x = images.reshape(len(images), -1).astype(np.float64)
    mean = x.mean(axis=0)
    _, sing, vt = np.linalg.svd(x - mean, full_matrices=False)
    k = min(components, len(sing))
    std = sing[:k] / np.sqrt(max(1, len(x) - 1))
    coords = rng.standard_normal((count, k)) * std
    out = np.clip(np.rint(coords @ vt[:k] + mean), 0, 255).astype(np.uint8)
    return out.reshape(count, *images.shape[1:])


def swd(a: np.ndarray, b: np.ndarray) -> float:
    """Multi-scale SWD (mean over the pyramid levels) of two uint8 image sets."""
    return float(multiscale_swd(list(a), list(b), levels=3, patches_per_image=128, seed=0)["mean"])


def conditional_methods(clf, train, test, generated: np.ndarray, labels: np.ndarray, baseline: np.ndarray, model: str):
    """The table of a conditional model: rows for the real train split, the class-conditional Gaussian
    (``baseline``, labelled like ``generated``) and the model's ``generated`` images.

    Each row: label accuracy under ``clf`` (mean and per class), CAS on ``test``, KID x 10^3 in ``clf``'s
    features against ``test`` and SWD to ``test``.
    """
    feats_test = clf.features(test.images)

    def describe(name: str, images: np.ndarray, image_labels: np.ndarray) -> dict:
        acc = label_accuracy(clf, images, image_labels)
        return {
            "method": name,
            "label_accuracy": acc["mean"],
            "label_accuracy_per_class": [round(v, 3) for v in acc["per_class"]],
            "cas": classification_accuracy_score(images, image_labels, test.images, test.labels, steps=1500, size=16),
            "kid_test_x1000": kid(clf.features(images), feats_test)["x1000"],
            "swd_test": swd(images, test.images),
        }

    return [
        describe("real train split (reference)", train.images, train.labels),
        describe("class-conditional Gaussian in PCA-20 (classical)", baseline, labels),
        describe(f"imggan generate --model {model}", generated, labels),
    ]


AUDIT_KEYS = (
    "samples", "train_images", "mirror", "pixels", "features", "copies", "closer_than_closest_pair", "flagged",
)  # fmt: skip


def audit_figures(model, train: str, held_out: np.ndarray, out: Path) -> dict:
    """The memorisation audit of 2,000 samples (seed 0) against the ``train`` data spec, ``held_out`` real
    images giving the verdict its reference; the report's figures a benchmark keeps (:data:`AUDIT_KEYS`),
    its pairs sheet and JSON written to ``out``."""
    report = audit(model, train, count=2000, seed=0, out=out, held_out=held_out)
    return {k: report[k] for k in AUDIT_KEYS}


def write_json(out: dict, path: Path | None) -> None:
    """Print ``out`` as JSON and, with ``path``, write it there atomically."""
    from imggan.weights import atomic_write_bytes

    text = json.dumps(out, indent=2)
    print(text)
    if path:
        atomic_write_bytes(path, (text + "\n").encode())


def update_card(name: str, figures: dict, machine_name: str, protocol: str) -> None:
    """Write ``figures`` as the ``benchmark`` of the shipped generator ``name``'s card (atomically)."""
    from imggan.weights import atomic_write_bytes, read_card, resolve_model
    from imggan_generate.zoo import shipped_models

    entry = resolve_model("generate", name, shipped_models())
    card = read_card(entry.path)
    card["benchmark"] = {"machine": machine_name, "protocol": protocol, **figures}
    atomic_write_bytes(entry.path.with_suffix(".json"), (json.dumps(card, indent=2, sort_keys=True) + "\n").encode())


def digits_rows(model_name: str, results: Path) -> dict:
    """All digits figures."""
    model = load_generator(model_name)
    res = model.resolution
    train = load_image_set("sklearn:digits:train", res)
    test = load_image_set("sklearn:digits:test", res)
    t0 = time.perf_counter()
    clf = train_classifier(train.images, train.labels, steps=1500, size=16, seed=0)
    clf_seconds = time.perf_counter() - t0
    per = 100
    gen = np.concatenate([generate(model, per, label=k, seed=10_000 + 1000 * k) for k in range(10)])
    gen_labels = np.repeat(np.arange(10), per)
    rows: dict = {
        "classifier_test_accuracy": clf.accuracy(test.images, test.labels),
        "classifier_train_seconds": clf_seconds,
    }
    baseline = np.concatenate([gaussian_pca(train.images[train.labels == k], per, seed=k) for k in range(10)])
    rows["methods"] = conditional_methods(clf, train, test, gen, gen_labels, baseline, model_name)
    rows["swd_ratio"] = rows["methods"][2]["swd_test"] / rows["methods"][0]["swd_test"]
    grid = render.grid(
        render.zoom(np.concatenate([generate(model, 10, label=k, seed=k * 10) for k in range(10)]), 4), columns=10
    )
    render.write_png(results / "generate_digits_grid.png", grid)
    render.write_png(
        results / "generate_digits_baseline.png", render.grid(render.zoom(baseline[:: per // 10], 4), columns=10)
    )
    rows["audit"] = audit_figures(model, "sklearn:digits:train", test.images, results / "generate_digits_audit")
    return rows


def _augment(model) -> str:
    config = model.card.get("config", {})
    augs = config.get("augment") or []
    if not augs:
        return "no augmentation"
    p = config.get("augment_p")
    return f"DiffAugment {'+'.join(augs)}" + (f", p = {p}" if p is not None else ", ADA")


def faces_source(model, data: str | None) -> str:
    """The packaged faces source whose splits score ``model``: ``data``, else the one its card names."""
    if data:
        return data
    card = model.card
    named = [card.get("config", {}).get("data"), card.get("sources"), card.get("command"), card.get("commands")]
    trained_on = json.dumps(named)
    return "skimage:lfw-faces" if "skimage:lfw-faces" in trained_on else "skimage:lfw"


def faces_rows(
    model_name: str,
    other_paths: list[str] | None,
    results: Path,
    data: str | None = None,
    previous: str | None = None,
    train_split: str = "train",
) -> dict:
    """All faces figures, on the ``train_split`` / test splits of ``faces_source(model, data)``."""
    model = load_generator(model_name)
    res = model.resolution
    source = faces_source(model, data)
    train = load_image_set(f"{source}:{train_split}", res)
    test = load_image_set(f"{source}:test", res)
    n = 1000
    rows: dict = {"data": source, "train_images": len(train.images), "test_images": len(test.images)}
    rows["methods"] = [{"method": "real train split (reference)", "swd_test": swd(train.images, test.images)}]
    drawn = [train.images]  # the images behind each method row, for the face rate
    drawn.append(gaussian_pca(train.images, n))
    rows["methods"].append({"method": "Gaussian in PCA-20 (classical)", "swd_test": swd(drawn[-1], test.images)})
    gen = generate(model, n, seed=20_000)
    drawn.append(gen)
    rows["methods"].append(
        {"method": f"imggan generate --model {model_name} ({_augment(model)})", "swd_test": swd(gen, test.images)}
    )
    for i, path in enumerate(other_paths or []):
        other = load_generator(path)
        drawn.append(generate(other, n, seed=20_000))
        rows["methods"].append(
            {
                "method": f"a run of the same config and steps with {_augment(other)}",
                "model": str(path),
                "swd_test": swd(drawn[-1], test.images),
            }
        )
        suffix = "" if i == 0 else f"_{i + 1}"
        render.write_png(
            results / f"generate_faces_other_grid{suffix}.png",
            render.grid(render.zoom(generate(other, 64, seed=0), 3), columns=8),
        )
    if previous:
        before = load_generator(previous)
        trained_on = faces_source(before, None)
        drawn.append(generate(before, n, seed=20_000))
        rows["methods"].append(
            {
                "method": f"previous model {previous} ({_augment(before)}, trained on {trained_on})",
                "swd_test": swd(drawn[-1], test.images),
            }
        )
    if source == FACES:
        detector = face_detector(res)
        for row, images in zip(rows["methods"], drawn, strict=True):
            row["face_rate"] = detector.face_rate(images)
        rows["face_rate_reference"] = {k: v["face_rate"] for k, v in detector_reference(detector, res, "test").items()}
    render.write_png(results / "generate_faces_grid.png", render.grid(render.zoom(generate(model, 64, seed=0), 3), 8))
    from imggan_generate.api import explore, interpolate

    walk = interpolate(model, 3, 11, steps=10)
    render.write_png(results / "generate_faces_walk.png", render.grid(render.zoom(walk, 3), len(walk)))
    render.write_animation(results / "generate_faces_walk.gif", render.zoom(walk, 3))
    found = explore(model, components=5, columns=7, seed=0)
    rows["explore_explained_variance"] = [round(float(v), 4) for v in found.explained]
    flat = found.images.reshape(-1, *found.images.shape[2:])
    render.write_png(results / "generate_faces_explore.png", render.grid(render.zoom(flat, 3), 7))
    rows["audit"] = audit_figures(model, f"{source}:{train_split}", test.images, results / "generate_faces_audit")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", default="digits")
    parser.add_argument("--faces", default="faces")
    parser.add_argument(
        "--faces-other", action="append", default=None, help="a run with another augmentation (repeatable)"
    )
    parser.add_argument("--faces-previous", default=None, help="an earlier faces model, scored on the same split")
    parser.add_argument(
        "--faces-data", default=None, help="packaged faces source of the splits (default: the one its card names)"
    )
    parser.add_argument(
        "--faces-train-split",
        default="train",
        help="the split the faces model trained on (train, as the shipped faces; trainval: the 80 non-test faces)",
    )
    parser.add_argument("--only", choices=["digits", "faces"], default=None)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--update-cards", action="store_true", help="write the figures into the shipped cards")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    args.results.mkdir(parents=True, exist_ok=True)
    out: dict = {"machine": machine(), "torch": torch.__version__, "threads": 1}
    if args.only in (None, "digits"):
        out["digits"] = digits_rows(args.digits, args.results)
    if args.only in (None, "faces"):
        out["faces"] = faces_rows(
            args.faces, args.faces_other, args.results, args.faces_data, args.faces_previous, args.faces_train_split
        )
    kept = dict(out)
    if args.json and args.only and args.json.exists():  # one part rerun: keep the other part's figures
        kept = {**json.loads(args.json.read_text()), **out}
    write_json(kept, args.json)
    if args.update_cards:
        for key, name in (("digits", args.digits), ("faces", args.faces)):
            if key in out:
                update_card(name, out[key], out["machine"], "benchmarks/generate.py")


if __name__ == "__main__":
    main()
