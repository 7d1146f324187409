"""Choose an inpainting checkpoint on the validation split (never on the benchmark's test split).

Every checkpoint of a run (its EMA generator) is scored on ``--split val`` crops with the benchmark's three
mask kinds (hole PSNR, SSIM, texture distance, pattern score) and on the two smooth-context checks of the
test suite (ramp: max error in a 64x64 hole; flat image: pattern score). The pick is the checkpoint with
the best mean hole PSNR among those whose pattern score stays <= 0.06 on every kind and whose ramp error is
<= 3 levels; if none has both, among those meeting the pattern bar; if none does, the one with the lowest
worst-kind pattern score. A reference model (the
shipped default unless ``--reference``) is scored the same way, so "beats the shipped model" is one line.

Usage:
    python benchmarks/inpaint_select.py RUN_DIR [--count 24] [--every 1] [--json out.json] [--threads 1]
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
from inpaint import KINDS, evaluate, protocol_masks  # noqa: E402

PATTERN_BAR = 0.06


def smooth_checks(fill) -> dict[str, float]:
    """Max error on a ramp and pattern score on a flat image, both with a 64x64 hole (the tests' setup)."""
    y, x = np.mgrid[0:256, 0:256]
    ramp = np.stack([x * 0.6 + 40, y * 0.5 + 60, (x + y) * 0.3 + 30], -1).round().astype(np.uint8)
    hole = np.zeros((256, 256), bool)
    hole[96:160, 80:144] = True
    flat = np.full((256, 256, 3), (90, 120, 150), np.uint8)
    ramp_err = float(np.abs(fill(ramp, hole).astype(int) - ramp)[hole].max())
    return {"ramp_max_error": ramp_err, "flat_pattern": pattern_score([fill(flat, hole)], [hole])}


def checkpoint_generator(path: Path) -> torch.nn.Module:
    """The EMA generator of one trainer checkpoint."""
    from imggan.train import checkpoint as ckpt
    from imggan_inpaint.recipes import build

    tensors, meta = ckpt.load_checkpoint(path)
    generator = build(meta["config"])
    generator.load_state_dict(ckpt.strip_prefix(tensors, "G_ema/"))
    return generator.eval().requires_grad_(False)


def score(generator, crops, holes) -> dict:
    """Validation figures of one generator."""
    from imggan_inpaint.api import inpaint_bgr

    def fill(image, hole):
        return inpaint_bgr(generator, image, hole)

    figures = {kind: evaluate(fill, crops, holes[kind])[0] for kind in KINDS}
    figures.update(smooth_checks(fill))
    figures["mean_psnr"] = float(np.mean([figures[k]["psnr_hole"] for k in KINDS]))
    figures["worst_pattern"] = float(max(figures[k]["pattern"] for k in KINDS))
    return figures


def main(argv: list[str] | None = None) -> dict:
    """Score every checkpoint of RUN_DIR and the reference; print a table and the pick."""
    ap = argparse.ArgumentParser(description="Choose an inpainting checkpoint on the validation split.")
    ap.add_argument("run", type=Path)
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--every", type=int, default=1, help="score every Nth checkpoint (newest always)")
    ap.add_argument("--reference", default=None, help="model name or path to compare with (default: shipped)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from imggan_inpaint.api import load_model

    crops = [c for _, c in split_crops("val", count=args.count)]
    holes = protocol_masks(len(crops), "val")
    paths = sorted((args.run / "checkpoints").glob("step-*.safetensors"))
    paths = [p for i, p in enumerate(paths) if i % args.every == 0 or p == paths[-1]]
    results = {"reference": score(load_model(args.reference), crops, holes)}
    for path in paths:
        results[path.stem] = score(checkpoint_generator(path), crops, holes)
        print(path.stem, json.dumps({k: v for k, v in results[path.stem].items() if not isinstance(v, dict)}))
    print("| model | " + " | ".join(f"{k} PSNR / SWD / pattern" for k in KINDS) + " | ramp err | flat pattern |")
    print("|---|" + "---|" * (len(KINDS) + 2))
    for name, f in results.items():
        cells = " | ".join(f"{f[k]['psnr_hole']:.2f} / {f[k]['texture']:.3f} / {f[k]['pattern']:.3f}" for k in KINDS)
        print(f"| {name} | {cells} | {f['ramp_max_error']:.0f} | {f['flat_pattern']:.3f} |")
    candidates = [n for n in results if n != "reference"]
    no_grid = [n for n in candidates if results[n]["worst_pattern"] <= PATTERN_BAR]
    ok = [n for n in no_grid if results[n]["ramp_max_error"] <= 3]
    if ok or no_grid:
        pick = max(ok or no_grid, key=lambda n: results[n]["mean_psnr"])
    elif candidates:
        pick = min(candidates, key=lambda n: results[n]["worst_pattern"])
    else:
        pick = None
    print(f"pick: {pick} (qualifying: {ok})")
    out = {"split": "val", "count": len(crops), "results": results, "pick": pick}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
