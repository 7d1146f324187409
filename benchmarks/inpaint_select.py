"""Choose an inpainting checkpoint on the validation split (never on the benchmark's test split).

Every checkpoint of a run (its EMA generator) is scored on ``--split val`` crops with the benchmark's three
mask kinds (hole PSNR, SSIM, texture distance, pattern score) and on smooth-context checks: the test suite's
two (ramp: max error in a 64x64 hole; flat image: pattern score) and a noisy ramp (the same ramp with 1-level
noise, max error against the clean ramp). Classical anchors (``--anchors``, default biharmonic and Telea)
are scored on the same crops and holes.

The pick: among checkpoints meeting the issue's bars on val (pattern score <= 0.06 on every kind, ramp error
<= 3 levels and, when biharmonic is an anchor, hole PSNR >= and SSIM >= -0.003 of biharmonic's on every
kind), the lowest mean texture distance; if none meets them all, the best mean hole PSNR among those meeting
the pattern and ramp bars, then the pattern bar alone; if none does, the lowest worst-kind pattern score. A
reference model (the shipped default unless ``--reference``) is scored the same way, so "beats the shipped
model" is one line. ``--strengths`` scores each checkpoint at several texture strengths (the factor on
the texture head's noise, recorded on the exported card). ``--smooth-only`` runs just the smooth checks
(seconds per checkpoint: a quick look while a run trains).

Usage:
    python benchmarks/inpaint_select.py RUN_DIR [--count 24] [--every 1] [--json out.json] [--threads 1]
        [--anchors biharmonic,telea] [--smooth-only] [--strengths 1,0.7,0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from imggan.data.splits import split_crops
from imggan.metrics import pattern_score

sys.path.insert(0, str(Path(__file__).parent))  # the benchmark's protocol, beside this script
from inpaint import KINDS, biharmonic, evaluate, navier_stokes, protocol_masks, telea  # noqa: E402

ANCHORS = {"biharmonic": biharmonic, "telea": telea, "ns": navier_stokes}

PATTERN_BAR = 0.06


def smooth_checks(fill) -> dict[str, float]:
    """Max error on a ramp and pattern score on a flat image, both with a 64x64 hole (the tests' setup)."""
    y, x = np.mgrid[0:256, 0:256]
    ramp = np.stack([x * 0.6 + 40, y * 0.5 + 60, (x + y) * 0.3 + 30], -1).round().astype(np.uint8)
    hole = np.zeros((256, 256), bool)
    hole[96:160, 80:144] = True
    flat = np.full((256, 256, 3), (90, 120, 150), np.uint8)
    ramp_err = float(np.abs(fill(ramp, hole).astype(int) - ramp)[hole].max())
    noise = np.random.default_rng(0).normal(0, 1, ramp.shape)
    noisy = np.clip(ramp + noise, 0, 255).round().astype(np.uint8)
    noisy_err = float(np.abs(fill(noisy, hole).astype(int) - ramp)[hole].max())
    return {
        "ramp_max_error": ramp_err,
        "noisy_ramp_max_error": noisy_err,
        "flat_pattern": pattern_score([fill(flat, hole)], [hole]),
    }


def checkpoint_generator(path: Path) -> torch.nn.Module:
    """The EMA generator of one trainer checkpoint."""
    from imggan.train import checkpoint as ckpt
    from imggan_inpaint.recipes import build

    tensors, meta = ckpt.load_checkpoint(path)
    generator = build(meta["config"])
    generator.load_state_dict(ckpt.strip_prefix(tensors, "G_ema/"))
    return generator.eval().requires_grad_(False)


def score(generator, crops, holes, smooth_only: bool = False) -> dict:
    """Validation figures of one generator."""
    from imggan_inpaint.api import inpaint_bgr

    def fill(image, hole):
        return inpaint_bgr(generator, image, hole)

    figures = smooth_checks(fill)
    if smooth_only:
        return figures
    figures.update({kind: evaluate(fill, crops, holes[kind])[0] for kind in KINDS})
    figures["mean_psnr"] = float(np.mean([figures[k]["psnr_hole"] for k in KINDS]))
    figures["worst_pattern"] = float(max(figures[k]["pattern"] for k in KINDS))
    figures["mean_texture"] = float(np.mean([figures[k]["texture"] for k in KINDS]))
    return figures


def meets_bars(f: dict, anchors: dict) -> bool:
    """Pattern <= 0.06, ramp <= 3 levels and, with a biharmonic anchor, its PSNR and SSIM - 0.003 on every kind."""
    if f["worst_pattern"] > PATTERN_BAR or f["ramp_max_error"] > 3:
        return False
    b = anchors.get("biharmonic")
    return b is None or all(
        f[k]["psnr_hole"] >= b[k]["psnr_hole"] and f[k]["ssim"] >= b[k]["ssim"] - 0.003 for k in KINDS
    )


def choose(results: dict, anchors: dict) -> tuple[str | None, list[str]]:
    """The pick among ``results`` (without the reference) and the checkpoints meeting every bar."""
    candidates = [n for n in results if n != "reference"]
    ok = [n for n in candidates if meets_bars(results[n], anchors)]
    if ok:
        return min(ok, key=lambda n: results[n]["mean_texture"]), ok
    no_grid = [n for n in candidates if results[n]["worst_pattern"] <= PATTERN_BAR]
    ramp = [n for n in no_grid if results[n]["ramp_max_error"] <= 3]
    if ramp or no_grid:
        return max(ramp or no_grid, key=lambda n: results[n]["mean_psnr"]), ok
    if candidates:
        return min(candidates, key=lambda n: results[n]["worst_pattern"]), ok
    return None, ok


def main(argv: list[str] | None = None) -> dict:
    """Score every checkpoint of RUN_DIR and the reference; print a table and the pick."""
    ap = argparse.ArgumentParser(description="Choose an inpainting checkpoint on the validation split.")
    ap.add_argument("run", type=Path)
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--every", type=int, default=1, help="score every Nth checkpoint (newest always)")
    ap.add_argument("--reference", default=None, help="model name or path to compare with (default: shipped)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--anchors", default="biharmonic,telea", help=f"comma list of {','.join(ANCHORS)} (or none)")
    ap.add_argument("--smooth-only", action="store_true", help="only the smooth checks (fast)")
    ap.add_argument(
        "--strengths", default="1", help="comma list of texture_strength values to score each checkpoint at"
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from imggan_inpaint.api import load_model

    smooth = args.smooth_only
    crops = [] if smooth else [c for _, c in split_crops("val", count=args.count)]
    holes = {} if smooth else protocol_masks(len(crops), "val")
    anchors: dict[str, dict] = {}
    for name in [] if smooth or args.anchors == "none" else args.anchors.split(","):
        anchors[name] = {kind: evaluate(ANCHORS[name], crops, holes[kind])[0] for kind in KINDS}
    paths = sorted((args.run / "checkpoints").glob("step-*.safetensors"))
    paths = [p for i, p in enumerate(paths) if i % args.every == 0 or p == paths[-1]]
    results = {"reference": score(load_model(args.reference), crops, holes, smooth)}
    strengths = [float(v) for v in args.strengths.split(",")]
    for path in paths:
        generator = checkpoint_generator(path)
        for strength in strengths:
            name = path.stem if strengths == [1.0] else f"{path.stem}@{strength:g}"
            generator.texture_strength = strength  # a factor on the noise of generators with a texture head
            results[name] = score(generator, crops, holes, smooth)
            print(name, json.dumps({k: v for k, v in results[name].items() if not isinstance(v, dict)}))
    if smooth:
        out = {"split": "none (smooth checks)", "results": results}
        if args.json:
            args.json.write_text(json.dumps(out, indent=2) + "\n")
        return out
    head = " | ".join(f"{k} PSNR / SSIM / SWD / pattern" for k in KINDS)
    print(f"| model (val) | {head} | ramp err | noisy ramp err | flat pattern |")
    print("|---|" + "---|" * (len(KINDS) + 3))
    for name, f in {**anchors, **results}.items():
        cells = " | ".join(
            f"{f[k]['psnr_hole']:.2f} / {f[k]['ssim']:.4f} / {f[k]['texture']:.3f} / {f[k]['pattern']:.3f}"
            for k in KINDS
        )
        extra = " | | |" if name in anchors else (
            f" | {f['ramp_max_error']:.0f} | {f['noisy_ramp_max_error']:.0f} | {f['flat_pattern']:.3f} |"
        )  # fmt: skip
        print(f"| {name} | {cells}{extra}")
    pick, ok = choose(results, anchors)
    reference_ok = meets_bars(results["reference"], anchors)
    print(f"pick: {pick} (meeting every bar on val: {ok}; the reference meets them: {reference_ok})")
    out = {"split": "val", "count": len(crops), "anchors": anchors, "results": results, "pick": pick}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
