"""Style-transfer benchmark: the default path and a trained style against histogram matching.

For every (content, style) pair: content = a held-out photograph (never trained on), 512x512 centre crop;
style = a reference never trained on or tuned on, resized to the pixel area of 512x512 (what the optimiser
works at). Figures:

- style distance: ``imggan.metrics.multiscale_swd`` (ProGAN's: 3-level Laplacian pyramid, 7x7 patches,
  normalised by the reference's patch statistics) between an image and the reference, for the content
  itself, ``skimage.exposure.match_histograms(content, style, channel_axis=-1)`` and ``imggan stylize``;
- content kept: SSIM between the Gaussian-blurred (sigma 2) grayscale output and content;
- seconds per 512x512 image (``--quality fast``; ``best`` on one pair), and for the trained style.

Outputs are cached in ``--work`` (delete it to recompute). Writes ``benchmarks/results/style.json`` and the
contact sheet ``benchmarks/results/style_grid.png`` (rows: pairs; columns: content, reference, histogram
matching, imggan default, trained style).

Usage:
    python benchmarks/style.py --threads 1 [--contents 2] [--best-pairs 1] [--trained swamp]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np

HELDOUT = Path.home() / ".cache" / "imggan" / "data" / "heldout"
REFS = Path.home() / ".cache" / "imggan" / "runs" / "style" / "refs"
STYLES = {  # never trained on, never used to tune the optimiser
    "wesnoth-mountains01": "bench-mountains01.jpg",  # Wesnoth story art (Debian wesnoth-1.16-data, GPL-2+)
    "plasma-autumn": "bench-autumn.jpg",  # KDE Plasma wallpaper "Autumn" (plasma-workspace-wallpapers, GPL-2+)
    "plasma-shell": "bench-shell.jpg",  # KDE Plasma wallpaper "Shell" (plasma-workspace-wallpapers, GPL-2+)
}
RESULTS = Path(__file__).resolve().parent / "results"


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path} (run `imggan data fetch`; see the docstring for the references)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def centre_crop(image: np.ndarray, size: int = 512) -> np.ndarray:
    h, w = image.shape[:2]
    s = size / min(h, w)
    image = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(image[y : y + size, x : x + size])


def at_area(image: np.ndarray, area: int = 512 * 512) -> np.ndarray:
    h, w = image.shape[:2]
    f = math.sqrt(area / (h * w))
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, (max(16, round(w * f)), max(16, round(h * f))), interpolation=interp)


def blurred_gray_ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    def prep(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 2)

    return float(structural_similarity(prep(a), prep(b), data_range=255.0))


def style_distance(image: np.ndarray, reference: np.ndarray) -> float:
    from imggan.metrics import multiscale_swd

    return float(multiscale_swd([image], [reference])["mean"])


def to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def run_default(content: np.ndarray, style: np.ndarray, quality: str, cache: Path) -> tuple[np.ndarray, float, float]:
    """The default path's output (cached), its wall-clock seconds and its process CPU seconds.

    On a shared machine the wall clock measures the other jobs too; with one torch thread the process's
    CPU time is what the same run takes on an idle core.
    """
    from imggan_style.optimize import stylize_array

    if cache.is_file():
        meta = json.loads(cache.with_suffix(".json").read_text())
        return read_rgb(cache), float(meta["seconds"]), float(meta["cpu_seconds"])
    started, cpu = time.perf_counter(), time.process_time()
    out = stylize_array(content.astype(np.float32) / 255, style.astype(np.float32) / 255, quality=quality, seed=0)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    out8 = to_u8(out)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(cache), cv2.cvtColor(out8, cv2.COLOR_RGB2BGR))
    cache.with_suffix(".json").write_text(json.dumps({"seconds": seconds, "cpu_seconds": cpu}))
    return out8, seconds, cpu


def run_trained(name: str, contents: list[np.ndarray]) -> tuple[list[np.ndarray], float, dict]:
    import torch

    from imggan_style.inference import apply, load_model

    model = load_model(name)
    outs, times = [], []
    for content in contents:
        x = torch.from_numpy(content.transpose(2, 0, 1).copy())[None].float() / 255
        apply(model, x)  # warm-up
        started = time.process_time()
        y = apply(model, x)
        times.append(time.process_time() - started)  # CPU seconds (see run_default)
        outs.append(to_u8(y[0].numpy().transpose(1, 2, 0)))
    return outs, float(np.median(times)), model.card


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--contents", type=int, default=2, help="held-out photographs used (of 4)")
    parser.add_argument("--best-pairs", type=int, default=1, help="pairs also timed with --quality best")
    parser.add_argument("--trained", default="swamp", help="a shipped style (or run folder) for the last column")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "imggan" / "runs" / "style" / "bench")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from skimage.exposure import match_histograms

    photos = sorted(HELDOUT.glob("*.png"))[: args.contents]
    contents = {p.stem: centre_crop(read_rgb(p)) for p in photos}
    styles = {name: at_area(read_rgb(REFS / file)) for name, file in STYLES.items()}
    rows, pairs = [], []
    for cname, content in contents.items():
        for sname, style in styles.items():
            out, seconds, cpu = run_default(content, style, "fast", args.work / f"{cname}-{sname}-fast.png")
            hist = match_histograms(content, style, channel_axis=-1).astype(np.uint8)
            row = {
                "content": cname,
                "style": sname,
                "swd_content": style_distance(content, style),
                "swd_hist": style_distance(hist, style),
                "swd_default": style_distance(out, style),
                "ssim_hist": blurred_gray_ssim(hist, content),
                "ssim_default": blurred_gray_ssim(out, content),
                "seconds_fast": seconds,
                "cpu_seconds_fast": cpu,
            }
            row["pass"] = bool(
                row["swd_default"] < row["swd_content"] and row["swd_default"] < row["swd_hist"]
                and row["ssim_default"] >= 0.4
            )  # fmt: skip
            print(json.dumps(row), flush=True)
            rows.append(row)
            pairs.append((content, style, hist, out))
    best = []
    for cname, sname in [(r["content"], r["style"]) for r in rows][: args.best_pairs]:
        content, style = contents[cname], styles[sname]
        out, seconds, cpu = run_default(content, style, "best", args.work / f"{cname}-{sname}-best.png")
        best.append({"content": cname, "style": sname, "seconds_best": seconds, "cpu_seconds_best": cpu,
                     "swd_best": style_distance(out, style), "ssim_best": blurred_gray_ssim(out, content)})  # fmt: skip
        print(json.dumps(best[-1]), flush=True)
    trained: dict = {}
    trained_outs: dict[str, np.ndarray] = {}
    try:
        outs, seconds, card = run_trained(args.trained, list(contents.values()))
        reference = at_area(read_rgb(Path(card["style"]))) if Path(str(card.get("style"))).is_file() else None
        trained = {"model": args.trained, "cpu_seconds_per_512": seconds, "rows": []}
        for (cname, content), out in zip(contents.items(), outs, strict=True):
            trained_outs[cname] = out
            if reference is not None:
                hist = match_histograms(content, reference, channel_axis=-1).astype(np.uint8)
                trained["rows"].append({
                    "content": cname,
                    "swd_content": style_distance(content, reference),
                    "swd_hist": style_distance(hist, reference),
                    "swd_trained": style_distance(out, reference),
                    "ssim_trained": blurred_gray_ssim(out, content),
                })  # fmt: skip
        print(json.dumps(trained), flush=True)
    except Exception as exc:  # noqa: BLE001 - the trained column is optional
        print(f"trained style {args.trained!r} skipped: {exc}")
    summary = {
        "machine": f"{os.cpu_count()}-core CPU, torch {torch.__version__}, {args.threads} thread(s)",
        "load_average": os.getloadavg(),
        "pairs": rows,
        "best": best,
        "trained": trained,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "style.json").write_text(json.dumps(summary, indent=2) + "\n")
    thumb = 192
    blank = np.full((thumb, thumb, 3), 255, np.uint8)

    def tile(x: np.ndarray) -> np.ndarray:
        h, w = x.shape[:2]
        s = thumb / max(h, w)
        small = cv2.resize(x, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        canvas = blank.copy()
        canvas[: small.shape[0], : small.shape[1]] = small
        return canvas

    grid = []
    for (content, style, hist, out), row in zip(pairs, rows, strict=True):
        trained_img = trained_outs.get(row["content"], blank)
        grid.append(np.hstack([tile(content), tile(style), tile(hist), tile(out), tile(trained_img)]))
    cv2.imwrite(str(RESULTS / "style_grid.png"), cv2.cvtColor(np.vstack(grid), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
