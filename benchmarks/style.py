"""Style-transfer benchmark: the default path and a trained style against histogram matching.

For every (content, style) pair: content = a held-out photograph (never trained on), 512x512 centre crop;
style = a reference never trained on or tuned on, resized to the pixel area of 512x512 (what the optimiser
works at). Figures:

- style distance: ``imggan.metrics.multiscale_swd`` (ProGAN's: 3-level Laplacian pyramid, 7x7 patches,
  normalised by the reference's patch statistics) between an image and the reference, for the content
  itself, ``skimage.exposure.match_histograms(content, style, channel_axis=-1)`` and ``imggan stylize``;
- content kept: SSIM between the Gaussian-blurred (sigma 2) grayscale output and content;
- colour blobs: the share of pixels more saturated (Lab chroma) than the reference's most saturated 1% by
  more than 10 (``oversaturated``);
- seconds per 512x512 image (``--quality fast``; ``best`` on one pair), and for the trained style.

``--split val`` runs the same figures on the validation pairs (``VAL_STYLES`` x other photographs), the only
pairs any setting of the optimiser or checkpoint of a trained style is chosen on; ``--split test`` (the
default) is the benchmark, run once with the chosen settings. Outputs are cached in ``--work`` (delete it
to recompute). Writes ``benchmarks/results/style.json`` and the
contact sheet ``benchmarks/results/style_grid.png`` (rows: pairs; columns: content, reference, histogram
matching, imggan default, trained style); ``--split val``: ``style_val.json`` and ``style_val_grid.png``.

Usage:
    python benchmarks/style.py --threads 1 [--split val|test] [--contents 2] [--best-pairs 1]
        [--trained swamp,mountains]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np

from imggan.data.style_refs import DEFAULT_REFS

DATA = Path.home() / ".cache" / "imggan" / "data"
HELDOUT = DATA / "heldout"
REFS = DEFAULT_REFS  # made by `imggan data fetch --style-refs` (imggan.data.style_refs: packages, licences)
STYLES = {  # never trained on, never used to tune the optimiser
    "wesnoth-mountains01": "bench-mountains01.jpg",  # Wesnoth story art (Debian wesnoth-1.16-data, GPL-2+)
    "plasma-autumn": "bench-autumn.jpg",  # Plasma wallpaper "Autumn" (plasma-workspace-wallpapers; LGPL-3)
    "plasma-shell": "bench-shell.jpg",  # Plasma wallpaper "Shell" (plasma-workspace-wallpapers; CC-BY-SA-4.0)
}
# The validation split: every setting of the optimiser and every trained style's checkpoint is chosen on
# it, disjoint from the test split above in contents and styles. Styles (written into REFS from the same
# packages by `imggan data fetch --style-refs`): Plasma "Kay" (smooth low-poly, like Shell), "PastelHills" (smooth
# gradients), "SafeLanding" (painterly, like Autumn), Wesnoth story art "landscape-hills-01" (like
# mountains-01). Contents: the two held-out photographs the test split leaves out (Path: a dark forest path,
# Volna: smooth sky and water), one training photograph (BytheWater), which the optimiser never learns
# from, and two pictures from packages nothing trains on, written into REFS by the same command
# (VAL_CONTENTS): Maldives (a photograph, mostly smooth pale sky and sea) and Maui (a dark, smooth blue
# gradient, an artwork: a dark content with almost no texture). Trained styles are validated on Path and
# Volna only (they trained on BytheWater).
VAL_STYLES = {
    "plasma-kay": "val-kay.jpg",  # Kay/contents/images/5120x2880.png, re-encoded as JPEG (quality 95)
    "plasma-pastelhills": "val-pastelhills.jpg",  # PastelHills/contents/images/3200x2000.jpg
    "plasma-safelanding": "val-safelanding.jpg",  # SafeLanding/contents/images/5120x2880.jpg
    "wesnoth-hills01": "val-hills01.jpg",  # data/core/images/story/landscape-hills-01.jpg
    # where histogram matching is already strong (imggan.data.style_refs: for each val content, the unused
    # reference it brings closest, under 0.17): the regime of the test split's tightest pair
    "plasma-eveningglow": "val-eveningglow.jpg",  # EveningGlow/contents/images/2560x1600.jpg (for BytheWater)
    "wesnoth-hills02": "val-hills02.jpg",  # data/core/images/story/landscape-hills-02.jpg (for Maldives)
    "plasma-icecold": "val-icecold.jpg",  # IceCold/contents/images/5120x2880.png, JPEG 95 (for Maui)
    "plasma-onestandsout": "val-onestandsout.jpg",  # OneStandsOut/contents/images/2560x1600.jpg (for Path)
}
VAL_CONTENTS = {  # val contents kept in REFS (imggan.data.style_refs: package, licence, SHA-256)
    "Maldives": "val-content-maldives.jpg",  # sddm-theme-maldives background.jpg (photo, CC-BY-3.0)
    "Maui": "val-content-maui.png",  # sddm-theme-maui background.png (GPL-2+)
}
SPLITS = {
    "test": {"contents": ["ColorfulCups", "Kite"], "trained_contents": ["ColorfulCups", "Kite"], "styles": STYLES},
    "val": {
        "contents": ["Volna", "Path", "plasma-BytheWater", "Maldives", "Maui"],
        "trained_contents": ["Volna", "Path"],
        "styles": VAL_STYLES,
    },
}
RESULTS = Path(__file__).resolve().parent / "results"


def photo_path(name: str) -> Path:
    """A content picture by name: held-out (``DATA/heldout``) or, for the val split, a training photograph or
    one of :data:`VAL_CONTENTS` (in ``REFS``, made by ``imggan data fetch --style-refs``)."""
    if name in VAL_CONTENTS:
        return REFS / VAL_CONTENTS[name]
    for folder in (HELDOUT, DATA / "train"):
        if (folder / f"{name}.png").is_file():
            return folder / f"{name}.png"
    raise SystemExit(f"no photograph {name!r} in {HELDOUT} or {DATA / 'train'} (run `imggan data fetch`)")


def reference_file(style: object) -> Path | None:
    """The file a trained style's card names as its ``style``: a path, or a file name in the refs folder
    (what the shipped cards hold, made by ``imggan data fetch --style-refs``); None when neither exists."""
    if not style:
        return None
    for path in (Path(str(style)).expanduser(), REFS / Path(str(style)).name):
        if path.is_file():
            return path
    return None


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(
            f"cannot read {path} (photographs: run `imggan data fetch`; "
            "style references: run `imggan data fetch --style-refs`)"
        )
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


def oversaturated(image: np.ndarray, reference: np.ndarray) -> float:
    """Share of ``image``'s pixels more saturated than the reference's own most saturated 1% by more than 10
    (Lab chroma C*): colour blobs invented on smooth regions, which no histogram of the reference asks for."""

    def chroma(x: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(x.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
        return np.hypot(lab[..., 1], lab[..., 2])

    return float((chroma(image) > np.percentile(chroma(reference), 99) + 10).mean())


def style_distance(image: np.ndarray, reference: np.ndarray) -> float:
    return style_levels(image, reference)[1]


def style_levels(image: np.ndarray, reference: np.ndarray) -> tuple[list[float], float]:
    """``multiscale_swd`` of one image against the reference: per level (finest first) and the mean."""
    from imggan.metrics import multiscale_swd

    result = multiscale_swd([image], [reference])
    return [round(float(v), 4) for v in result["levels"]], float(result["mean"])


def to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def run_default(content: np.ndarray, style: np.ndarray, quality: str, cache: Path) -> tuple[np.ndarray, float, float]:
    """The default path's output (cached), its wall-clock seconds and its process CPU seconds.

    On a shared machine the wall clock measures the other jobs too; with one torch thread the process's
    CPU time is what the same run takes on an idle core.
    """
    from imggan_style.optimize import PRESETS, stylize_array

    digest = hashlib.sha1(repr(PRESETS[quality]).encode()).hexdigest()[:8]  # a changed preset recomputes
    cache = cache.with_name(f"{cache.stem}-{digest}{cache.suffix}")
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


def load_trained(name: str):
    """A shipped style, an export or run folder (``imggan_style.inference.load_model``), or a training
    checkpoint ``RUN/checkpoints/step-N.safetensors`` (its EMA generator; how checkpoints are compared on
    the val split before one is exported). Returns a ``LoadedModel`` whose card names the ``style``.
    """
    from imggan_style.inference import LoadedModel, load_model

    path = Path(name).expanduser()
    if not (path.suffix == ".safetensors" and path.parent.name == "checkpoints"):
        return load_model(name)
    from imggan.weights import load_weights
    from imggan_style.recipes import _arch, _build_style_net

    config = json.loads(path.with_suffix(".json").read_text())["config"]
    tensors, _ = load_weights(path)
    net = _build_style_net(config)  # the colour stage from the reference, as the export builds it
    net.load_state_dict({k[len("G_ema/") :]: v for k, v in tensors.items() if k.startswith("G_ema/")})
    return LoadedModel(path.stem, net.eval(), {"style": config["style"], "arch": _arch(config)})


def run_trained(name: str, contents: list[np.ndarray]) -> tuple[list[np.ndarray], float, dict]:
    import torch

    from imggan_style.inference import apply

    model = load_trained(name)
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
    parser.add_argument(
        "--trained", default="swamp,mountains", help="shipped styles (or run folders), comma-separated; the first "
        "fills the grid's last column"
    )  # fmt: skip
    parser.add_argument("--split", choices=sorted(SPLITS), default="test", help="test: the reported benchmark; val: "
                        "the pairs every setting and checkpoint is chosen on (results/style_val.json)")  # fmt: skip
    parser.add_argument("--work", type=Path, default=None, help="cache of outputs, keyed by the preset's settings "
                        "(default: ~/.cache/imggan/runs/style/bench-SPLIT)")  # fmt: skip
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from skimage.exposure import match_histograms

    split = SPLITS[args.split]
    work = args.work or Path.home() / ".cache" / "imggan" / "runs" / "style" / f"bench-{args.split}"
    names = split["contents"][: args.contents] if args.split == "test" else split["contents"]
    contents = {name: centre_crop(read_rgb(photo_path(name))) for name in names}
    styles = {name: at_area(read_rgb(REFS / file)) for name, file in split["styles"].items()}
    rows, pairs = [], []
    for cname, content in contents.items():
        for sname, style in styles.items():
            out, seconds, cpu = run_default(content, style, "fast", work / f"{cname}-{sname}-fast.png")
            hist = match_histograms(content, style, channel_axis=-1).astype(np.uint8)
            hist_levels, hist_mean = style_levels(hist, style)
            out_levels, out_mean = style_levels(out, style)
            row = {
                "content": cname,
                "style": sname,
                "swd_content": style_distance(content, style),
                "swd_hist": hist_mean,
                "swd_default": out_mean,
                "levels_hist": hist_levels,
                "levels_default": out_levels,
                "ssim_hist": blurred_gray_ssim(hist, content),
                "ssim_default": blurred_gray_ssim(out, content),
                "oversaturated_hist": oversaturated(hist, style),
                "oversaturated_default": oversaturated(out, style),
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
        out, seconds, cpu = run_default(content, style, "best", work / f"{cname}-{sname}-best.png")
        fast = next(r for r in rows if (r["content"], r["style"]) == (cname, sname))
        best.append({"content": cname, "style": sname, "seconds_best": seconds, "cpu_seconds_best": cpu,
                     "swd_best": style_distance(out, style), "swd_fast": fast["swd_default"],
                     "ssim_best": blurred_gray_ssim(out, content)})  # fmt: skip
        print(json.dumps(best[-1]), flush=True)
    trained: dict = {}
    trained_outs: dict[str, np.ndarray] = {}
    for index, name in enumerate(n for n in args.trained.split(",") if n and n != "none"):
        try:
            trained_contents = {k: v for k, v in contents.items() if k in split["trained_contents"]}
            outs, seconds, card = run_trained(name, list(trained_contents.values()))
        except Exception as exc:  # noqa: BLE001 - a trained column is optional
            print(f"trained style {name!r} skipped: {exc}")
            continue
        style_file = reference_file(card.get("style"))
        reference = at_area(read_rgb(style_file)) if style_file is not None else None
        entry = {"cpu_seconds_per_512": seconds, "rows": []}
        for (cname, content), out in zip(trained_contents.items(), outs, strict=True):
            if index == 0:
                trained_outs[cname] = out
            if reference is not None:
                hist = match_histograms(content, reference, channel_axis=-1).astype(np.uint8)
                entry["rows"].append({
                    "content": cname,
                    "swd_content": style_distance(content, reference),
                    "swd_hist": style_distance(hist, reference),
                    "swd_trained": style_distance(out, reference),
                    "levels_hist": style_levels(hist, reference)[0],
                    "levels_trained": style_levels(out, reference)[0],
                    "ssim_trained": blurred_gray_ssim(out, content),
                })  # fmt: skip
        trained[name] = entry
        print(json.dumps({name: entry}), flush=True)
    summary = {
        "split": args.split,
        "machine": f"{os.cpu_count()}-core CPU, torch {torch.__version__}, {args.threads} thread(s)",
        "load_average": os.getloadavg(),
        "pairs": rows,
        "best": best,
        "trained": trained,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    val = args.split == "val"
    (RESULTS / ("style_val.json" if val else "style.json")).write_text(json.dumps(summary, indent=2) + "\n")
    thumb = 160 if val else 192
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
    sheet = RESULTS / ("style_val_grid.png" if val else "style_grid.png")
    cv2.imwrite(str(sheet), cv2.cvtColor(np.vstack(grid), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
