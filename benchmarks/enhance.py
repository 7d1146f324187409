"""Benchmark of imggan-enhance against classical baselines on held-out photo crops (never trained on).

Protocol (issue 5): 256x256 crops of the held-out photographs (``imggan.data.sources.heldout_crops``, seed 0),
8-bit RGB, PSNR/SSIM over the whole image with no border crop.

* denoise: Gaussian noise sigma = 25 added in float, rounded and clipped to 8 bits; the model runs blind
  (no hint). Baselines: BM3D (``bm3d.bm3d_rgb`` with the true sigma; slow, so on the first ``--bm3d-count``
  crops, where the model is scored on the same crops too) and OpenCV ``fastNlMeansDenoisingColored``.
* upscale: antialiased bicubic x4 (x2) downscale, rounded to 8 bits. Baselines: bicubic and Lanczos (OpenCV).
  Also the mean Sobel gradient magnitude (sharpness; the original's is listed). A third table feeds x4 models
  a degraded LR (``imggan_enhance.degrade.ROBUST_BENCH``: blur, downscale, noise, JPEG) for the ``robust`` model.
* jpeg: each crop saved as a JPEG by OpenCV at quality 10 / 30 / 50 and decoded; baseline: scikit-image
  total-variation denoising (Chambolle) at the best of five weights; the model is ``--jpeg-model`` (default:
  the shipped ``jpeg`` model; the row is skipped where it is missing).
* time: CPU milliseconds per image, batch of one, after warm-up, median of ``--repeat`` runs, with
  ``--threads`` torch threads.

Usage:
    python benchmarks/enhance.py [--count 24] [--bm3d-count 4] [--threads 2] [--json out.json]
        [--denoise-model NAME|PATH] [--upscale-model NAME|PATH] [--sharp-model NAME|PATH] [--x2-model ...]
        [--jpeg-model NAME|PATH] [--robust-model NAME|PATH] [--only denoise|upscale|jpeg]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from _machine import cpu_model


def machine() -> str:
    """CPU model and core count of this machine."""
    name = cpu_model(platform.processor() or platform.machine())
    return f"{name}, {os.cpu_count()} cores"


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in ms after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def scores(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Mean PSNR, SSIM and gradient magnitude of ``(reference, output)`` pairs (RGB order irrelevant)."""
    from imggan.metrics import gradient_magnitude, psnr, ssim

    return {
        "psnr": float(np.mean([psnr(r, o) for r, o in pairs])),
        "ssim": float(np.mean([ssim(r, o) for r, o in pairs])),
        "grad": float(np.mean([gradient_magnitude(o).mean() for _, o in pairs])),
    }


def bench_denoise(crops, args) -> list[dict]:
    """Rows of the denoising table."""
    from imggan_enhance.api import denoise
    from imggan_enhance.degrade import noise_image

    rng = np.random.default_rng(0)
    noisy = [noise_image(c, 25.0, rng) for c in crops]
    rows = []

    def add(method, outputs, subset, ms, note=""):
        row = {"method": method, "n": len(outputs), **scores(list(zip(crops[:subset], outputs, strict=True)))}
        row.update(ms=ms, note=note)
        rows.append(row)

    add("noisy input", noisy, len(crops), 0.0)
    nlm = [cv2.fastNlMeansDenoisingColored(n, None, 20, 20, 7, 21) for n in noisy]
    add(
        "OpenCV fastNlMeansDenoisingColored (h=20)",
        nlm,
        len(crops),
        timed(lambda: cv2.fastNlMeansDenoisingColored(noisy[0], None, 20, 20, 7, 21), args.repeat),
    )
    model = args.denoise_model
    ours = [denoise(n, model=model) for n in noisy]
    ms = timed(lambda: denoise(noisy[0], model=model), args.repeat)
    add("imggan denoise (blind)", ours, len(crops), ms)
    hinted = [denoise(n, sigma=25, model=model) for n in noisy]
    add("imggan denoise (--sigma 25)", hinted, len(crops), ms)
    doubled = [denoise(n, model=model, ensemble=2) for n in noisy]
    ms2 = timed(lambda: denoise(noisy[0], model=model, ensemble=2), args.repeat)
    add("imggan denoise (blind, --ensemble 2)", doubled, len(crops), ms2)
    k = min(args.bm3d_count, len(crops))
    if k:
        try:
            import bm3d

            def run_bm3d(image: np.ndarray) -> np.ndarray:
                rgb = image[..., ::-1].astype(np.float64) / 255.0
                out = bm3d.bm3d_rgb(rgb, 25.0 / 255.0)
                return np.clip(np.rint(out[..., ::-1] * 255), 0, 255).astype(np.uint8)

            t = time.perf_counter()
            b = [run_bm3d(n) for n in noisy[:k]]
            bms = (time.perf_counter() - t) * 1000 / k
            add(f"BM3D bm3d_rgb (true sigma), first {k} crops", b, k, bms)
            add(f"imggan denoise (blind), same {k} crops", ours[:k], k, ms)
            add(f"imggan denoise (blind, --ensemble 2), same {k} crops", doubled[:k], k, ms2)
        except ImportError:
            print("bm3d is not installed: pip install bm3d", file=sys.stderr)
    return rows


def bench_upscale(crops, args, scale: int, degraded: bool = False) -> list[dict]:
    """Rows of the upscaling table for ``scale``; ``degraded``: the robust protocol's LR (blur, noise, JPEG)."""
    from imggan_enhance.api import upscale
    from imggan_enhance.degrade import downscale_image, robust_lowres_image

    if degraded:
        lows = [robust_lowres_image(c, scale, np.random.default_rng(i)) for i, c in enumerate(crops)]
    else:
        lows = [downscale_image(c, scale) for c in crops]
    size = crops[0].shape[1], crops[0].shape[0]
    rows = []

    def add(method, outputs, ms):
        rows.append({"method": method, "n": len(outputs), **scores(list(zip(crops, outputs, strict=True))), "ms": ms})

    rows.append(
        {
            "method": "original (reference)",
            "n": len(crops),
            "psnr": float("inf"),
            "ssim": 1.0,
            "grad": float(np.mean([__import__("imggan.metrics").metrics.gradient_magnitude(c).mean() for c in crops])),
            "ms": 0.0,
        }
    )
    for name, flag in (("bicubic (OpenCV)", cv2.INTER_CUBIC), ("Lanczos (OpenCV)", cv2.INTER_LANCZOS4)):
        add(
            name,
            [cv2.resize(lr, size, interpolation=flag) for lr in lows],
            timed(lambda flag=flag: cv2.resize(lows[0], size, interpolation=flag), args.repeat),
        )
    models = [("default", args.x2_model if scale == 2 else args.upscale_model)]
    if scale == 4:
        models += [("sharp", args.sharp_model or "sharp"), ("robust", args.robust_model)]
    for label, model in models:
        try:
            outs = [upscale(lr, scale=scale, model=model) for lr in lows]
        except Exception as exc:  # a model not shipped yet
            print(f"upscale x{scale} {label}: {exc}", file=sys.stderr)
            continue
        add(
            f"imggan upscale x{scale} ({label})",
            outs,
            timed(lambda m=model: upscale(lows[0], scale=scale, model=m), args.repeat),
        )
    return rows


TV_WEIGHTS = (0.01, 0.02, 0.04, 0.08, 0.16)


def bench_jpeg(crops, args, quality: int) -> list[dict]:
    """Rows of the JPEG-artefact table at ``quality``: the JPEG itself, TV denoising, the jpeg model."""
    from skimage.restoration import denoise_tv_chambolle

    from imggan_enhance.api import denoise
    from imggan_enhance.degrade import jpeg_image

    inputs = [jpeg_image(c, quality) for c in crops]
    rows = []

    def add(method, outputs, ms):
        rows.append({"method": method, "n": len(outputs), **scores(list(zip(crops, outputs, strict=True))), "ms": ms})

    add(f"JPEG q={quality} (input)", inputs, 0.0)

    def tv(image: np.ndarray, weight: float) -> np.ndarray:
        out = denoise_tv_chambolle(image.astype(np.float64) / 255.0, weight=weight, channel_axis=-1)
        return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)

    best = None
    for weight in TV_WEIGHTS:  # the classical method gets its best weight on these very crops
        outs = [tv(i, weight) for i in inputs]
        score = scores(list(zip(crops, outs, strict=True)))["psnr"]
        if best is None or score > best[0]:
            best = (score, weight, outs)
    assert best is not None
    add(
        f"skimage denoise_tv_chambolle (weight {best[1]}, best of {len(TV_WEIGHTS)} weights)",
        best[2],
        timed(lambda: tv(inputs[0], best[1]), args.repeat),
    )
    try:
        outs = [denoise(i, model=args.jpeg_model) for i in inputs]
    except Exception as exc:  # the model not shipped yet
        print(f"jpeg model: {exc}", file=sys.stderr)
        return rows
    add("imggan denoise --model jpeg", outs, timed(lambda: denoise(inputs[0], model=args.jpeg_model), args.repeat))
    return rows


def table(title: str, rows: list[dict]) -> str:
    """A markdown table of ``rows``."""
    lines = [
        f"### {title}",
        "",
        "| method | crops | PSNR dB | SSIM | mean grad | ms / image |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['n']} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['grad']:.1f} | {r['ms']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--bm3d-count", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--denoise-model", default=None)
    parser.add_argument("--upscale-model", default=None)
    parser.add_argument("--x2-model", default=None)
    parser.add_argument("--sharp-model", default=None)
    parser.add_argument("--jpeg-model", default="jpeg")
    parser.add_argument("--robust-model", default="robust")
    parser.add_argument("--only", choices=["denoise", "upscale", "jpeg"], default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    from imggan.data.sources import heldout_crops

    torch.set_num_threads(args.threads)
    crops = [c for _, c in heldout_crops(count=args.count, size=256, seed=0)]
    header = (
        f"Machine: {machine()}; torch {torch.__version__}, {args.threads} threads; {len(crops)} held-out "
        f"256x256 crops (seed 0); 8-bit RGB, whole image, no border crop."
    )
    print(header + "\n")
    results: dict[str, object] = {"machine": machine(), "threads": args.threads, "crops": len(crops)}
    if args.only in (None, "denoise"):
        rows = bench_denoise(crops, args)
        results["denoise_sigma25"] = rows
        print(table("Denoise, Gaussian sigma = 25 (blind model)", rows) + "\n", flush=True)
    if args.only in (None, "upscale"):
        for scale in (4, 2):
            rows = bench_upscale(crops, args, scale)
            results[f"upscale_x{scale}"] = rows
            print(table(f"Upscale x{scale} (antialiased bicubic LR)", rows) + "\n", flush=True)
        from imggan_enhance.degrade import ROBUST_BENCH

        rows = bench_upscale(crops, args, 4, degraded=True)
        results["upscale_x4_degraded"] = rows
        title = "Upscale x4, degraded LR (blur {blur} px, then bicubic; noise {noise}; JPEG q {jpeg})"
        print(table(title.format(**ROBUST_BENCH), rows) + "\n", flush=True)
    if args.only in (None, "jpeg"):
        for quality in (10, 30, 50):
            rows = bench_jpeg(crops, args, quality)
            results[f"jpeg_q{quality}"] = rows
            print(table(f"JPEG artefacts, quality {quality} (OpenCV, 4:2:0)", rows) + "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
