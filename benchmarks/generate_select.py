"""Choose a generation run's checkpoint on the validation split (never the test split), as the shipped cards say.

For every checkpoint of a run (``RUN/checkpoints/step-*.safetensors``, the EMA generator) this scores
1,000 samples against the run's ``:val`` split with the benchmark's multi-scale SWD (``benchmarks/generate.py``:
3 levels, 128 patches per image, seed 0) and, for a conditional run, their label accuracy under a classifier
trained on the train split (1,500 steps, as in the benchmark). ``--audit`` adds the memorisation audit's pixel
figure against the train split (2,000 samples; the train split is what the audit is about, no held-out image is
used). The rule the cards name:

* ``digits``: the lowest val SWD among checkpoints whose val label accuracy is at least ``--min-label-acc``;
* ``faces`` (unconditional): the lowest val SWD among checkpoints with no sample closer to a training image than
  the closest training pair (``--audit``), else the lowest val SWD.

Usage:
    python benchmarks/generate_select.py RUN [RUN ...] [--audit] [--min-label-acc 0.97] [--every 1000]
        [--json out.json]
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


def score_run(run: Path, with_audit: bool, classifiers: dict, every: int = 1) -> list[dict]:
    """One row per checkpoint of ``run``: step, val SWD, val label accuracy, audit pixel fraction."""
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
        val = load_image_set(f"{base}:val", res, model.card["arch"]["channels"])
        labels = torch.arange(1000) % model.num_classes if model.num_classes else None
        with torch.no_grad():
            fake = to_uint8(draw_samples(model.net, 1000, SAMPLE_SEED, labels))
        row = {"run": run.name, "step": int(path.stem.split("-")[1]), "val_swd": swd(fake, val.images)}
        if model.num_classes:
            key = (base, res)
            if key not in classifiers:
                train = load_image_set(f"{base}:train", res)
                classifiers[key] = train_classifier(train.images, train.labels, steps=1500, size=16, seed=0)
            row["val_label_accuracy"] = label_accuracy(classifiers[key], fake, labels.numpy())["mean"]
        if with_audit:
            report = audit(model, f"{base}:train", count=2000, seed=0, features=False)
            row["audit_pixels_closer"] = report["pixels"]["fraction_closer_than_closest_pair"]
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def choose(rows: list[dict], min_label_acc: float) -> dict | None:
    """The rule of the module docstring."""
    ok = [r for r in rows if r.get("val_label_accuracy", 1.0) >= min_label_acc]
    clean = [r for r in ok if r.get("audit_pixels_closer", 0.0) == 0.0]
    pool = clean or ok
    return min(pool, key=lambda r: r["val_swd"]) if pool else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--audit", action="store_true", help="also the audit's pixel figure on the train split")
    parser.add_argument("--min-label-acc", type=float, default=0.97)
    parser.add_argument("--every", type=int, default=1, help="score only the checkpoints at multiples of this step")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    classifiers: dict = {}
    rows = [row for run in args.runs for row in score_run(run, args.audit, classifiers, args.every)]
    chosen = choose(rows, args.min_label_acc)
    per_run = {run.name: choose([r for r in rows if r["run"] == run.name], args.min_label_acc) for run in args.runs}
    out = {"rows": rows, "chosen": chosen, "chosen_per_run": per_run, "rule": __doc__.split("The rule")[1].strip()}
    print(json.dumps({"chosen": chosen, "chosen_per_run": per_run}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
