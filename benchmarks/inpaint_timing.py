"""Interleaved CPU timing of inpainting methods on the benchmark's crops: robust on a shared machine.

``benchmarks/inpaint.py`` times each method in one pass over the crops, one method after another, so a job
that starts on the machine halfway through makes one method look slow. Here, per crop, every method is
called in turn ``--repeats`` times and its fastest call is kept (other jobs only ever add time), then the
median over the crops is reported, as CPU time of this process (``time.process_time``) and wall time.
Same crops and holes as ``benchmarks/inpaint.py``; figures only, never a test.

Usage:
    python benchmarks/inpaint_timing.py [--split test] [--count 36] [--kinds rectangle,strokes,object]
        [--methods biharmonic,model] [--threads 1] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from inpaint import KINDS, biharmonic, machine, model_method, navier_stokes, protocol_masks, pyramid, telea

from imggan.data.splits import split_crops


def main(argv: list[str] | None = None) -> dict:
    """Time the methods interleaved; print one line per kind and method; return the figures."""
    ap = argparse.ArgumentParser(description="Interleaved inpainting timing (per-crop fastest of N calls).")
    ap.add_argument("--split", choices=("test", "val"), default="test")
    ap.add_argument("--count", type=int, default=36)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--methods", default="biharmonic,model", help="biharmonic, telea, ns, pyramid, model")
    ap.add_argument("--model", default=None, help="model name or .safetensors path (default: shipped)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="calls per crop and method; the fastest is kept")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    available = {"biharmonic": biharmonic, "telea": telea, "ns": navier_stokes, "pyramid": pyramid}
    methods = {n: model_method(args.model) if n == "model" else available[n] for n in args.methods.split(",")}
    crops = [c for _, c in split_crops(args.split, count=args.count)]
    holes = protocol_masks(len(crops), args.split)
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for kind in args.kinds.split(","):
        for method in methods.values():  # warm-up
            method(crops[0], holes[kind][0])
        cpu = {n: [] for n in methods}
        wall = {n: [] for n in methods}
        for image, hole in zip(crops, holes[kind], strict=True):
            best_cpu, best_wall = dict.fromkeys(methods, float("inf")), dict.fromkeys(methods, float("inf"))
            for _ in range(args.repeats):
                for name, method in methods.items():
                    c0, w0 = time.process_time(), time.perf_counter()
                    method(image, hole)
                    best_cpu[name] = min(best_cpu[name], 1000 * (time.process_time() - c0))
                    best_wall[name] = min(best_wall[name], 1000 * (time.perf_counter() - w0))
            for name in methods:
                cpu[name].append(best_cpu[name])
                wall[name].append(best_wall[name])
        figures[kind] = {
            n: {"cpu_ms": statistics.median(cpu[n]), "wall_ms": statistics.median(wall[n])} for n in methods
        }
        for name, f in figures[kind].items():
            print(f"{kind} {name}: {f['cpu_ms']:.1f} ms CPU, {f['wall_ms']:.1f} ms wall", flush=True)
    result = {"split": args.split, "machine": machine(), "repeats": args.repeats, "figures": figures}
    print(f"({len(crops)} {args.split} crops; {machine()}; median over crops of the fastest of {args.repeats} calls)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
