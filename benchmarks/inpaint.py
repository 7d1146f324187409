"""Inpainting benchmark: imggan's models against six classical fills, on textured crops nobody trained on.

Protocol (issue 12): 256x256 crops, each the most textured (gradient energy) of 24 candidates of one image,
strongly periodic candidates skipped (:func:`imggan.data.splits.textured_crops`), from a split:

- ``--split test`` (the benchmark): ``ROOT/test``, whole packages and sequences never trained on or tuned on
  (Debian ``nexuiz-textures``, ViSP's ``castel`` sequence and ``faces``), object holes from held-out stamps;
  images that repeat a training picture give no crop (``imggan.data.splits.TRAIN_DUPLICATES``: the second
  Solvay photograph, Nexuiz textures that OpenArena ships too);
- ``--split val`` (choosing checkpoints and weights only): ``ROOT/heldout``, the four wallpaper photos.

Three mask kinds per crop, from fixed seeds: free-form strokes covering 10-30 % (brushes 6-22 px), one
rectangle covering 4-11 %, one object-shaped hole covering 15-30 % (a tuxpaint silhouette of the split).
Metrics on 8-bit RGB, no border crop: hole PSNR (per image, capped at 60 dB, then averaged), whole-image
SSIM, hole texture distance (multi-scale patch SWD inside the hole, lower = better) and pattern score
(fine-detail autocorrelation at 8-16 px in the eroded hole; photos ~0.03-0.045, bar <= 0.06). Time per
image is wall clock after one warm-up call; ``--time-512`` also times a few 512x512 crops. Contact sheets
(masked input | best classical | imggan | original) go to ``benchmarks/results/inpaint_<split>_<kind>.png``.

Usage:
    python benchmarks/inpaint.py --split test [--count 36] [--methods all] [--model NAME|PATH]
        [--extra-model label=PATH] [--threads N] [--json out.json] [--time-512 3] [--sheets] [--exclude NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from _machine import cpu_model

from imggan.data.splits import load_silhouettes, object_mask, split_crops
from imggan.metrics import hole_texture_distance, pattern_score, psnr, ssim
from imggan_inpaint.masks import rect_mask, stroke_mask

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (BGR uint8, bool hole) -> BGR uint8
RESULTS = Path(__file__).parent / "results"
KINDS = ("strokes", "rectangle", "object")
PSNR_CAP = 60.0  # a per-image hole PSNR is capped before averaging (an exact fill would be infinite)
CLASSICAL = ("biharmonic", "telea", "ns", "fsr_fast", "fsr_best", "shiftmap")


def biharmonic(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """scikit-image's biharmonic inpainting."""
    from skimage.restoration import inpaint_biharmonic

    out = inpaint_biharmonic(image, hole, channel_axis=-1)
    return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)


def telea(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """OpenCV's Telea fast marching, radius 5."""
    return cv2.inpaint(image, hole.astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)


def navier_stokes(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """OpenCV's Navier-Stokes inpainting, radius 5."""
    return cv2.inpaint(image, hole.astype(np.uint8) * 255, 5, cv2.INPAINT_NS)


def xphoto(algorithm: str) -> Method:
    """OpenCV contrib ``xphoto.inpaint`` (FSR_FAST, FSR_BEST on BGR; SHIFTMAP on CIELab, as it expects)."""
    code = getattr(cv2.xphoto, f"INPAINT_{algorithm}")

    def run(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        valid = np.where(hole, 0, 255).astype(np.uint8)  # xphoto: non-zero = known pixel
        src = cv2.cvtColor(image, cv2.COLOR_BGR2LAB) if algorithm == "SHIFTMAP" else image
        dst = np.zeros_like(src)
        cv2.xphoto.inpaint(src, valid, dst, code)
        out = cv2.cvtColor(dst, cv2.COLOR_LAB2BGR) if algorithm == "SHIFTMAP" else dst
        out[~hole] = image[~hole]
        return out

    return run


def pyramid(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """imggan-inpaint's classical pyramid fill alone (the generator's starting point)."""
    from imggan.tensors import image_to_tensor, tensor_to_image
    from imggan_inpaint.fill import pyramid_fill

    with torch.inference_mode():
        h = torch.from_numpy(hole)[None, None].float()
        out = tensor_to_image(pyramid_fill(image_to_tensor(image), h, iterations=8))
    out[~hole] = image[~hole]
    return out


def model_method(model: str | None) -> Method:
    """An inpainting model (shipped default, a name or a ``.safetensors`` path) through the package's API."""
    from imggan_inpaint.api import inpaint_bgr, load_model

    generator = load_model(model)
    return lambda image, hole: inpaint_bgr(generator, image, hole)


def protocol_masks(count: int, split: str, size: int = 256, root: Path | None = None) -> dict[str, list[np.ndarray]]:
    """The fixed holes of the protocol (bool HxW), one per crop and kind; seeds differ per split."""
    base = {"val": 100, "test": 200}[split]
    rng_s, rng_r, rng_o = (np.random.default_rng(base + i) for i in range(3))
    silhouettes = load_silhouettes(split, root)
    return {
        "strokes": [stroke_mask(size, size, rng_s, (0.10, 0.30), (6, 22)) > 0 for _ in range(count)],
        "rectangle": [rect_mask(size, size, rng_r, (0.04, 0.11)) > 0 for _ in range(count)],
        "object": [object_mask(silhouettes, size, rng_o, (0.15, 0.30)) > 0 for _ in range(count)],
    }


def evaluate(method: Method, crops: list[np.ndarray], holes: list[np.ndarray]) -> tuple[dict, list[np.ndarray]]:
    """Mean metrics and time per image (after a warm-up call) of one method on one mask kind; and outputs."""
    method(crops[0], holes[0])
    outputs, elapsed = [], 0.0
    for image, hole in zip(crops, holes, strict=True):
        start = time.perf_counter()
        out = method(image, hole)
        elapsed += time.perf_counter() - start
        if out.shape != image.shape or out.dtype != np.uint8:
            raise RuntimeError(f"method returned {out.shape} {out.dtype} for {image.shape} uint8")
        outputs.append(out)
    rgb = [o[..., ::-1] for o in outputs]
    ref = [c[..., ::-1] for c in crops]
    result = {
        "psnr_hole": float(np.mean([min(psnr(r, o, h), PSNR_CAP) for r, o, h in zip(ref, rgb, holes, strict=True)])),
        "ssim": float(np.mean([ssim(r, o) for r, o in zip(ref, rgb, strict=True)])),
        "texture": hole_texture_distance(rgb, ref, holes),
        "pattern": pattern_score(outputs, holes),
        "pattern_original": pattern_score(crops, holes),
        "ms": 1000.0 * elapsed / len(crops),
    }
    return result, outputs


def time_512(method: Method, count: int, seed: int = 7) -> float:
    """Milliseconds per 512x512 textured test crop with a stroke hole (after a warm-up call)."""
    crops = [c for _, c in split_crops("test", count=count + 1, size=512, seed=seed)]
    rng = np.random.default_rng(seed)
    holes = [stroke_mask(512, 512, rng, (0.10, 0.30), (6, 22)) > 0 for _ in crops]
    method(crops[0], holes[0])
    start = time.perf_counter()
    for image, hole in zip(crops[1:], holes[1:], strict=True):
        method(image, hole)
    return 1000.0 * (time.perf_counter() - start) / max(1, len(crops) - 1)


def contact_sheet(path: Path, columns: list[tuple[str, list[np.ndarray]]], rows: int = 6, thumb: int = 192) -> None:
    """A PNG grid: one row per example, one labelled column per image list (all the same length)."""
    n = len(columns[0][1])
    pick = np.linspace(0, n - 1, min(rows, n)).round().astype(int)
    header = []
    for label, _ in columns:
        cell = np.full((24, thumb, 3), 255, np.uint8)
        cv2.putText(cell, label[:24], (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        header.append(cell)
    lines = [np.hstack(header)]
    for i in pick:
        lines.append(
            np.hstack([cv2.resize(images[i], (thumb, thumb), interpolation=cv2.INTER_AREA) for _, images in columns])
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", np.vstack(lines))
    if ok:
        path.write_bytes(buf.tobytes())


def machine() -> str:
    """One line naming this machine (CPU model, cores, torch threads)."""
    cpu = cpu_model(platform.processor() or "unknown CPU")
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads"


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print a markdown table per mask kind, write contact sheets; returns the figures."""
    ap = argparse.ArgumentParser(description="Inpainting benchmark (issue 12 protocol).")
    ap.add_argument("--split", choices=("test", "val"), default="test", help="test = benchmark, val = choosing")
    ap.add_argument("--count", type=int, default=36, help="crops (one per image while images last)")
    ap.add_argument("--model", default=None, help="model name or .safetensors path (default: shipped)")
    ap.add_argument("--extra-model", action="append", default=[], help="LABEL=PATH: another model to compare")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--methods", default="all", help=f"comma list of {','.join(CLASSICAL)},pyramid,model or all")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--time-512", type=int, default=0, help="also time this many 512x512 crops per method")
    ap.add_argument("--sheets", action="store_true", help="write contact sheets to benchmarks/results/")
    ap.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="drop the crops whose source name contains this (repeatable); the other crops keep their masks",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    named = split_crops(args.split, count=args.count)
    holes = protocol_masks(len(named), args.split)
    keep = [i for i, (name, _) in enumerate(named) if not any(part in name for part in args.exclude)]
    if args.exclude:
        print(f"excluded {len(named) - len(keep)} crops: {[named[i][0] for i in range(len(named)) if i not in keep]}")
    crops = [named[i][1] for i in keep]
    holes = {kind: [masks[i] for i in keep] for kind, masks in holes.items()}
    kinds = args.kinds.split(",")
    available: dict[str, Callable[[], Method]] = {
        "biharmonic": lambda: biharmonic,
        "telea": lambda: telea,
        "ns": lambda: navier_stokes,
        "fsr_fast": lambda: xphoto("FSR_FAST"),
        "fsr_best": lambda: xphoto("FSR_BEST"),
        "shiftmap": lambda: xphoto("SHIFTMAP"),
        "pyramid": lambda: pyramid,
        "model": lambda: model_method(args.model),
    }
    labels = {
        "biharmonic": "skimage inpaint_biharmonic",
        "telea": "cv2.inpaint Telea (r=5)",
        "ns": "cv2.inpaint NS (r=5)",
        "fsr_fast": "cv2.xphoto FSR_FAST",
        "fsr_best": "cv2.xphoto FSR_BEST",
        "shiftmap": "cv2.xphoto SHIFTMAP",
        "pyramid": "imggan pyramid fill (classical)",
        "model": f"imggan-inpaint ({args.model or 'shipped default'})",
    }
    for spec in args.extra_model:
        label, path = spec.split("=", 1)
        available[label] = lambda p=path: model_method(p)
        labels[label] = f"imggan-inpaint {label}"
    names = list(available) if args.methods == "all" else args.methods.split(",")
    names += [spec.split("=", 1)[0] for spec in args.extra_model if spec.split("=", 1)[0] not in names]
    figures: dict[str, dict] = {}
    outputs: dict[str, dict[str, list[np.ndarray]]] = {}
    for name in names:
        method = available[name]()
        figures[name], outputs[name] = {}, {}
        for kind in kinds:
            figures[name][kind], outputs[name][kind] = evaluate(method, crops, holes[kind])
            print(f"{name} {kind}: {figures[name][kind]}", flush=True)
        if args.time_512:
            figures[name]["ms_512"] = time_512(method, args.time_512)

    print(f"\nInpainting, split {args.split}, {len(crops)} textured 256x256 crops; {machine()}\n")
    for kind in kinds:
        print(f"\n{kind}: | method | hole PSNR | SSIM | texture SWD | pattern | ms/256² |")
        print("|---|---|---|---|---|---|")
        for name in names:
            f = figures[name][kind]
            print(f"| {labels[name]} | {f['psnr_hole']:.2f} | {f['ssim']:.4f} | {f['texture']:.3f} | "
                  f"{f['pattern']:.3f} | {f['ms']:.1f} |")  # fmt: skip
        print(f"(original crops' own pattern score in these holes: {figures[names[0]][kind]['pattern_original']:.3f})")
    if args.time_512:
        print("\nms per 512x512 image: " + ", ".join(f"{n} {figures[n]['ms_512']:.0f}" for n in names))
    if args.sheets:
        ours = next((n for n in names if n not in CLASSICAL and n != "pyramid"), None)
        classical = [n for n in names if n in CLASSICAL]
        if ours and classical:
            for kind in kinds:
                best = max(classical, key=lambda n: figures[n][kind]["psnr_hole"])
                masked = [np.where(h[..., None], np.uint8(255), c) for c, h in zip(crops, holes[kind], strict=True)]
                columns = [("masked input", masked), (f"{labels[best]}", outputs[best][kind]),
                           (labels[ours], outputs[ours][kind]), ("original", crops)]  # fmt: skip
                contact_sheet(RESULTS / f"inpaint_{args.split}_{kind}.png", columns)
    result = {"split": args.split, "machine": machine(), "count": len(crops), "labels": labels, "figures": figures}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
