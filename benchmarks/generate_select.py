"""Choose a generation run's checkpoint on the validation split (never the test split), as the shipped cards say.

For every checkpoint of a run (``RUN/checkpoints/step-*.safetensors``, the EMA generator) this scores
1,000 samples against the run's ``:val`` split with the benchmark's multi-scale SWD (``benchmarks/generate.py``:
3 levels, 128 patches per image, seed 0) and, for a conditional run, their label accuracy under a classifier
trained on the train split (1,500 steps, as in the benchmark); for a faces run (``skimage:lfw-faces``), their
**face rate** (:mod:`imggan.metrics.faces`: a face / non-face CNN trained here on the 70 train faces against
``lfw_subset()``'s train non-faces and textures made from the train faces; :func:`face_detector`).
``--audit`` adds the memorisation audit against the train split (2,000 samples): pixels, and for faces the
autoencoder's features too (600 steps on both orientations; one network per data set, reused over the
checkpoints; the feature network chosen by ``generate_audit_features.py``), against the
mirrored training images as well when the run trained with flips, with the val images as the held-out real
images of the audit's yardstick (``imggan_generate.audit_stats``: the rate new real images are counted at, and
the verdict whether a checkpoint's count is improbably high for new real images, one-sided p < 0.05).
``--reuse JSON`` takes each checkpoint's val SWD and face rate from an earlier output (same run and step;
they depend on nothing the audit changes) and recomputes the audit only.
The rule the cards name:

* ``digits``: the lowest val SWD among checkpoints whose val label accuracy is at least ``--min-label-acc``
  (and, with ``--audit``, whose pixel audit count is not improbably high for new real digits: the verdict, as
  for faces; ``--literal-audit``: no sample closer to a training digit than the closest training pair);
* ``faces``: the lowest val SWD among checkpoints whose audit count is not improbably high for new real faces,
  in pixels **and** features (the verdict, ``--audit``), and a face rate of at least ``--min-face-rate``;
  none when no checkpoint qualifies (the val SWD of 10 faces alone cannot tell faces from textures).

Usage:
    python benchmarks/generate_select.py RUN [RUN ...] [--audit] [--min-label-acc 0.97] [--min-face-rate 0.9]
        [--every 1000] [--reuse earlier.json] [--literal-audit] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from imggan.metrics import multiscale_swd

SAMPLE_SEED = 50_000  # latents of the selection samples (the benchmark uses other seeds)


def swd(a: np.ndarray, b: np.ndarray) -> float:
    """The benchmark's multi-scale SWD (mean over the pyramid levels) of two uint8 image sets."""
    return float(multiscale_swd(list(a), list(b), levels=3, patches_per_image=128, seed=0)["mean"])


def load_checkpoint_generator(path: Path):
    """The EMA generator of a trainer checkpoint, as a :class:`imggan_generate.api.LoadedGenerator`."""
    from safetensors.torch import load_file

    from imggan_generate.api import LoadedGenerator
    from imggan_generate.models import build_generator, generator_kwargs

    config = json.loads(path.with_suffix(".json").read_text())["config"]
    net = build_generator(config)
    tensors = load_file(str(path))
    state = {k[len("G_ema/") :]: v for k, v in tensors.items() if k.startswith("G_ema/")}
    net.load_state_dict(state)
    net.eval()
    card = {"arch": {"name": "generate", **generator_kwargs(config)}, "config": config}
    classes = int(config.get("num_classes") or 0)
    names = list(config.get("class_names") or [])
    return LoadedGenerator(net, card, path.stem, int(config["z_dim"]), classes, names), config


FACES = "skimage:lfw-faces"
DETECTOR_STEPS = 1000


def face_detector(resolution: int, seed: int = 0):
    """The face-rate detector of :mod:`imggan.metrics.faces` for lfw faces at ``resolution``.

    Positives: the 70 train faces; negatives: the 80 train non-faces of ``lfw_subset()``
    (``skimage:lfw-nonfaces:train``) and the textures made from the train faces. No val or test image is used.
    """
    from imggan.metrics.faces import train_face_detector
    from imggan_generate.data import load_image_set

    faces = load_image_set(f"{FACES}:train", resolution).images
    non_faces = load_image_set("skimage:lfw-nonfaces:train", resolution).images
    return train_face_detector(faces, non_faces, steps=DETECTOR_STEPS, seed=seed)


def detector_reference(detector, resolution: int, split: str) -> dict:
    """Face rates of real ``split`` faces, of the textures made from them and of real ``split`` non-faces."""
    from imggan.metrics.faces import face_negatives, face_rates
    from imggan_generate.data import load_image_set

    faces = load_image_set(f"{FACES}:{split}", resolution).images
    named = {f"real {split} faces": faces, **{f"{k} of {split} faces": v for k, v in face_negatives(faces, 7).items()}}
    non_faces = load_image_set(f"skimage:lfw-nonfaces:{split}", resolution).images
    if len(non_faces):
        named[f"real {split} non-faces"] = non_faces
    return face_rates(detector, named)


def _audit_encoder(base: str, res: int, mirror: bool, cache: dict):
    """The faces audit's autoencoder, trained once per data set on the train split (see the docstring)."""
    key = ("encoder", res, mirror)
    if key not in cache:
        from imggan_generate.data import load_image_set
        from imggan_generate.features import train_autoencoder

        train = load_image_set(f"{base}:train", res).images
        cache[key] = train_autoencoder(np.concatenate([train, train[:, :, ::-1]]) if mirror else train)
    return cache[key]


def score_run(
    run: Path,
    with_audit: bool,
    classifiers: dict,
    every: int = 1,
    reuse: dict | None = None,
) -> list[dict]:
    """One row per checkpoint of ``run``: step, val SWD, val label accuracy or face rate, audit fractions."""
    import torch

    from imggan.metrics.generation import label_accuracy, train_classifier
    from imggan_generate.api import draw_samples, to_uint8
    from imggan_generate.audit import audit
    from imggan_generate.data import load_image_set

    rows = []
    paths = sorted(run.glob("checkpoints/step-*.safetensors"))
    paths = [p for p in paths if int(p.stem.split("-")[1]) % every == 0]
    for path in paths:
        model, config = load_checkpoint_generator(path)
        base = re.sub(r":(train|val|test|all)$", "", str(config["data"]))
        res = model.resolution
        step = int(path.stem.split("-")[1])
        earlier = (reuse or {}).get((run_name(run), step))
        val = load_image_set(f"{base}:val", res, model.card["arch"]["channels"])
        if earlier:
            row = {k: v for k, v in earlier.items() if k.startswith("val_")}  # val_swd and the val rates
            row = {"run": run_name(run), "step": step, **row, "reused": "val_swd, val_*"}
        else:
            labels = torch.arange(1000) % model.num_classes if model.num_classes else None
            with torch.no_grad():
                fake = to_uint8(draw_samples(model.net, 1000, SAMPLE_SEED, labels))
            row = {"run": run_name(run), "step": step, "val_swd": swd(fake, val.images)}
            if model.num_classes:
                key = (base, res)
                if key not in classifiers:
                    train = load_image_set(f"{base}:train", res)
                    classifiers[key] = train_classifier(train.images, train.labels, steps=1500, size=16, seed=0)
                row["val_label_accuracy"] = label_accuracy(classifiers[key], fake, labels.numpy())["mean"]
            if base == FACES:
                if ("detector", res) not in classifiers:
                    classifiers[("detector", res)] = face_detector(res)
                row.update({f"val_{k}": v for k, v in classifiers[("detector", res)].report(fake).items()})
        if with_audit:
            mirror = bool(config.get("flip"))
            faces = base == FACES
            encoder = _audit_encoder(base, res, mirror, classifiers) if faces else None
            report = audit(
                model,
                f"{base}:train",
                count=2000,
                seed=0,
                features=faces,
                mirror=mirror,
                encoder=encoder,
                held_out=val.images,
            )
            row["audit_mirror"] = report["mirror"]
            spaces = {"pixels": report["pixels"], "features": report["features"]}
            for space, figures in spaces.items():
                if figures:
                    verdict = figures["verdict"]
                    row[f"audit_{space}_closer"] = figures["fraction_closer_than_closest_pair"]
                    row[f"audit_{space}_p"] = verdict["p_value"]
                    row[f"audit_{space}_flagged"] = verdict["flagged"]
                    if verdict["held_out"]:
                        row[f"audit_{space}_held_out"] = verdict["held_out"]["count"]
            row["audit_expected_rate"] = report["pixels"]["expected_rate"]
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def run_name(run: Path) -> str:
    """``parent/name`` of a run folder (as earlier outputs name runs)."""
    return f"{run.parent.name}/{run.name}"


def choose(rows: list[dict], min_label_acc: float, min_face_rate: float = 0.9, literal: bool = False) -> dict | None:
    """The rule of the module docstring (``literal``: the digits' audit bar is 0 counted samples)."""
    ok = [r for r in rows if r.get("val_label_accuracy", 1.0) >= min_label_acc]
    if any("val_face_rate" in r for r in rows):  # faces: no fallback to flagged or texture-like checkpoints
        clean = [r for r in ok if not r.get("audit_pixels_flagged", True) and not r.get("audit_features_flagged", True)]
        pool = [r for r in clean if r["val_face_rate"] >= min_face_rate]
    elif literal:
        clean = [r for r in ok if r.get("audit_pixels_closer", 0.0) == 0.0]
        pool = clean or ok
    else:  # rows without an audit (no --audit) count as clean
        clean = [r for r in ok if not r.get("audit_pixels_flagged", False)]
        pool = clean or ok
    return min(pool, key=lambda r: r["val_swd"]) if pool else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--audit", action="store_true", help="also the audit's pixel figure on the train split")
    parser.add_argument("--min-label-acc", type=float, default=0.97)
    parser.add_argument("--min-face-rate", type=float, default=0.9, help="faces: the least face rate of samples")
    parser.add_argument("--every", type=int, default=1, help="score only the checkpoints at multiples of this step")
    parser.add_argument("--reuse", type=Path, default=None, help="earlier output: reuse its val SWD and face rates")
    parser.add_argument(
        "--literal-audit", action="store_true", help="labelled sets: the issue's literal audit bar (0 samples counted)"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    classifiers: dict = {}
    reuse = None
    if args.reuse:
        reuse = {(r["run"], r["step"]): r for r in json.loads(args.reuse.read_text())["rows"]}
    rows = [row for run in args.runs for row in score_run(run, args.audit, classifiers, args.every, reuse)]
    rule = (args.min_label_acc, args.min_face_rate, args.literal_audit)
    chosen = choose(rows, *rule)
    per_run = {run_name(run): choose([r for r in rows if r["run"] == run_name(run)], *rule) for run in args.runs}
    out = {"rows": rows, "chosen": chosen, "chosen_per_run": per_run, "rule": __doc__.split("The rule")[1].strip()}
    detectors = {key[1]: det for key, det in classifiers.items() if key[0] == "detector"}
    if detectors:
        out["face_detector"] = {
            "train": f"{FACES}:train faces vs skimage:lfw-nonfaces:train + textures made from the train faces",
            "steps": DETECTOR_STEPS,
            "negatives": next(iter(detectors.values())).negatives,
            "val_reference": {res: detector_reference(det, res, "val") for res, det in detectors.items()},
        }
        print(json.dumps(out["face_detector"], indent=2))
    print(json.dumps({"chosen": chosen, "chosen_per_run": per_run}, indent=2))
    if args.json:
        from imggan.weights import atomic_write_bytes

        atomic_write_bytes(args.json, (json.dumps(out, indent=2) + "\n").encode())


if __name__ == "__main__":
    main()
