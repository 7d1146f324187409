"""Inpainting benchmark: the shipped model against the classical fills on held-out photo crops.

Protocol (issue 4): 256x256 crops of the held-out photographs (``imggan.data.sources.heldout_crops``, never
trained on); (a) free-form strokes covering 10-30% with brushes 6-22 px wide, (b) one rectangle covering
4-11%; masks drawn from fixed seeds. Metrics on 8-bit RGB, no border crop: PSNR inside the hole,
whole-image SSIM, hole sharpness (mean Sobel magnitude inside the 3x3-eroded hole / the original's).
Time per image is wall clock after one warm-up image, on the machine named in the table's caption.

Usage:
    python benchmarks/inpaint.py [--count 24] [--model NAME|PATH] [--threads N] [--json out.json]
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

from imggan.data.sources import heldout_crops
from imggan.metrics import hole_sharpness, psnr, ssim
from imggan_inpaint.masks import rect_mask, stroke_mask

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (BGR uint8, bool hole) -> BGR uint8


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


def pyramid(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """imggan-inpaint's classical pyramid fill alone (the generator's starting point)."""
    from imggan.tensors import image_to_tensor, tensor_to_image
    from imggan_inpaint.fill import pyramid_fill

    with torch.inference_mode():
        h = torch.from_numpy(hole)[None, None].float()
        out = tensor_to_image(pyramid_fill(image_to_tensor(image), h, iterations=8))
    out[~hole] = image[~hole]
    return out


def shipped(model: str | None) -> Method:
    """The inpainting model (shipped default, or ``model``) through the package's API."""
    from imggan_inpaint.api import inpaint_bgr, load_model

    generator = load_model(model)
    return lambda image, hole: inpaint_bgr(generator, image, hole)


def protocol_masks(count: int, size: int = 256) -> dict[str, list[np.ndarray]]:
    """The fixed masks of the protocol: one stroke mask and one rectangle per crop."""
    rng_s, rng_r = np.random.default_rng(1234), np.random.default_rng(5678)
    return {
        "strokes": [stroke_mask(size, size, rng_s, (0.10, 0.30), (6, 22)) > 0 for _ in range(count)],
        "rectangle": [rect_mask(size, size, rng_r, (0.04, 0.11)) > 0 for _ in range(count)],
    }


def evaluate(method: Method, crops: list[np.ndarray], masks: list[np.ndarray]) -> dict[str, float]:
    """Mean metrics and time per image (after a warm-up call) of one method on one mask family."""
    method(crops[0], masks[0])
    scores: dict[str, list[float]] = {"psnr_hole": [], "ssim": [], "sharpness": []}
    elapsed = 0.0
    for image, hole in zip(crops, masks, strict=True):
        start = time.perf_counter()
        out = method(image, hole)
        elapsed += time.perf_counter() - start
        assert out.shape == image.shape and out.dtype == np.uint8
        scores["psnr_hole"].append(psnr(image[..., ::-1], out[..., ::-1], hole))
        scores["ssim"].append(ssim(image[..., ::-1], out[..., ::-1]))
        scores["sharpness"].append(hole_sharpness(image, out, hole.astype(np.uint8)))
    result = {k: float(np.mean(v)) for k, v in scores.items()}
    result["ms"] = 1000.0 * elapsed / len(crops)
    return result


def machine() -> str:
    """One line naming this machine (CPU model, cores, torch threads)."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads"


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print a markdown table; returns the figures."""
    ap = argparse.ArgumentParser(description="Inpainting benchmark (issue 4 protocol).")
    ap.add_argument("--count", type=int, default=24, help="held-out crops (spread over the photos)")
    ap.add_argument("--model", default=None, help="model name or .safetensors path (default: shipped)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--methods", default="biharmonic,telea,ns,pyramid,model")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    crops = [image for _, image in heldout_crops(count=args.count)]
    families = protocol_masks(args.count)
    available: dict[str, Callable[[], Method]] = {
        "biharmonic": lambda: biharmonic,
        "telea": lambda: telea,
        "ns": lambda: navier_stokes,
        "pyramid": lambda: pyramid,
        "model": lambda: shipped(args.model),
    }
    labels = {
        "biharmonic": "skimage inpaint_biharmonic",
        "telea": "cv2.inpaint Telea (r=5)",
        "ns": "cv2.inpaint NS (r=5)",
        "pyramid": "imggan-inpaint pyramid fill (classical)",
        "model": f"imggan-inpaint model ({args.model or 'shipped default'})",
    }
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for name in args.methods.split(","):
        method = available[name]()
        figures[name] = {family: evaluate(method, crops, masks) for family, masks in families.items()}

    print(f"Inpainting, {args.count} held-out 256x256 crops; {machine()}\n")
    print("| method | strokes PSNR hole | strokes SSIM | strokes sharpness | strokes ms | "
          "box PSNR hole | box SSIM | box sharpness | box ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name, fam in figures.items():
        s, r = fam["strokes"], fam["rectangle"]
        print(
            f"| {labels[name]} | {s['psnr_hole']:.2f} | {s['ssim']:.4f} | {s['sharpness']:.2f} | {s['ms']:.1f} "
            f"| {r['psnr_hole']:.2f} | {r['ssim']:.4f} | {r['sharpness']:.2f} | {r['ms']:.1f} |"
        )
    result = {"machine": machine(), "count": args.count, "figures": figures}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
