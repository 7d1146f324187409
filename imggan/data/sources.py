"""Gather the images imggan may train on (see docs/data.md) into a cache folder outside the repository.

Everything comes out of packages: scikit-image's bundled images, scikit-learn's sample images,
matplotlib's sample portrait (when installed) and the photographs of Debian's
``plasma-workspace-wallpapers`` (GPL-2+), fetched with ``apt-get download``, and the photo and texture
packages of :mod:`imggan.data.packages`. Four of the wallpaper photographs are held out (``heldout/``:
never trained on; the inpainting head chooses checkpoints on them); whole packages and sequences are held
out for the benchmarks (``test/``).

Layout written::

    ROOT/train/<source>-<name>.png     images to train on
    ROOT/heldout/<name>.png            held-out photographs (validation: choosing checkpoints, enhance benchmark)
    ROOT/test/<source>-<name>.png      package-held-out images (inpainting benchmark only)
    ROOT/masks/{train,val,test}/*.png  object silhouettes (tuxpaint stamps' alpha)
    ROOT/SOURCES.json                  where each file came from, with its licence

Example (CLI):
    imggan data fetch --root ~/.cache/imggan/data
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from imggan.data import debs

DEFAULT_ROOT = Path(os.environ.get("IMGGAN_DATA", Path.home() / ".cache" / "imggan" / "data"))

SKIMAGE_IMAGES = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
    "retina", "moon", "brick", "grass", "gravel", "coins", "clock",
)  # fmt: skip
PLASMA_PHOTOS_TRAIN = (
    "BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "MilkyWay",
    "OneStandsOut", "summer_1am",
)  # fmt: skip
PLASMA_PHOTOS_HELDOUT = ("ColorfulCups", "Kite", "Path", "Volna")


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError(f"could not encode {path}")
    path.write_bytes(buf.tobytes())


def _rgb_to_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR)


def _largest_image(folder: Path) -> Path | None:
    files = [p for p in folder.glob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"}]
    return max(files, key=lambda p: p.stat().st_size) if files else None


def fetch_plasma(workdir: Path) -> Path | None:
    """Download and unpack Debian's plasma-workspace-wallpapers; returns the wallpapers folder or None."""
    try:
        tree = debs.unpacked("plasma-workspace-wallpapers", workdir / "plasma", workdir)
    except debs.DebError:
        return None
    wallpapers = tree / "usr" / "share" / "wallpapers"
    return wallpapers if wallpapers.is_dir() else None


def fetch(root: Path = DEFAULT_ROOT, plasma: bool = True, packages: bool = True) -> dict[str, list[str]]:
    """Write every allowed source into ``root/train`` and the held-out photos into ``root/heldout``.

    With ``packages``, also the Debian photo/texture packages of :mod:`imggan.data.packages` (training
    images, the package-held-out benchmark images in ``root/test`` and object silhouettes in ``root/masks``).
    Idempotent: files already present are kept. Returns ``{"train": [...], "heldout": [...], "test": [...]}``.
    """
    root = Path(root)
    train, heldout = root / "train", root / "heldout"
    train.mkdir(parents=True, exist_ok=True)
    heldout.mkdir(parents=True, exist_ok=True)
    sources: dict[str, dict[str, str]] = {}

    import skimage.data

    for name in SKIMAGE_IMAGES:
        out = train / f"skimage-{name}.png"
        if not out.exists():
            _write_png(out, _rgb_to_bgr(getattr(skimage.data, name)()))
        sources[out.name] = {"source": f"skimage.data.{name}", "licence": "scikit-image data (BSD/CC0/PD)"}
    try:
        from sklearn.datasets import load_sample_images

        for fname, image in zip(("china", "flower"), load_sample_images().images, strict=True):
            out = train / f"sklearn-{fname}.png"
            if not out.exists():
                _write_png(out, _rgb_to_bgr(image))
            sources[out.name] = {"source": f"sklearn sample image {fname}.jpg", "licence": "CC-BY 2.0"}
    except ImportError:
        pass
    try:
        import matplotlib

        hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
        if hopper.is_file():
            out = train / "matplotlib-grace_hopper.png"
            if not out.exists():
                _write_png(out, cv2.imread(str(hopper)))
            sources[out.name] = {"source": "matplotlib sample_data/grace_hopper.jpg", "licence": "PD"}
    except ImportError:
        pass
    if plasma:
        with tempfile.TemporaryDirectory() as tmp:
            cache = root / ".deb"
            wallpapers = fetch_plasma(cache) or fetch_plasma(Path(tmp))
            if wallpapers is not None:
                for group, names in ((train, PLASMA_PHOTOS_TRAIN), (heldout, PLASMA_PHOTOS_HELDOUT)):
                    for name in names:
                        src = _largest_image(wallpapers / name / "contents" / "images")
                        if src is None:
                            continue
                        prefix = "plasma-" if group is train else ""
                        out = group / f"{prefix}{name}.png"
                        if not out.exists():
                            _write_png(out, cv2.imread(str(src), cv2.IMREAD_COLOR))
                        sources[f"{group.name}/{out.name}"] = {
                            "source": f"Debian plasma-workspace-wallpapers: {name}/{src.name}",
                            "licence": "GPL-2+",
                        }
    if packages:
        from imggan.data.packages import fetch_packages

        sources.update(fetch_packages(root))
    (root / "SOURCES.json").write_text(json.dumps(sources, indent=2, sort_keys=True) + "\n")
    return {
        "train": sorted(p.name for p in train.glob("*.png")),
        "heldout": sorted(p.name for p in heldout.glob("*.png")),
        "test": sorted(p.name for p in (root / "test").glob("*.png")),
    }


def heldout_crops(
    root: Path = DEFAULT_ROOT, count: int = 24, size: int = 256, seed: int = 0, downscale: float = 0.5
) -> list[tuple[str, np.ndarray]]:
    """Deterministic ``size``x``size`` BGR crops of the held-out photos for benchmarks.

    Each photo is first downscaled by ``downscale`` (INTER_AREA) so a crop holds a scene-sized region,
    then ``count`` crops are spread evenly over the photos at positions drawn from ``seed``.
    """
    folder = Path(root) / "heldout"
    files = sorted(folder.glob("*.png"))
    if not files:
        raise FileNotFoundError(f"no held-out photos in {folder}; run `imggan data fetch` first")
    rng = np.random.default_rng(seed)
    crops = []
    images = []
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if downscale != 1.0:
            image = cv2.resize(image, None, fx=downscale, fy=downscale, interpolation=cv2.INTER_AREA)
        images.append((path.stem, image))
    for i in range(count):
        name, image = images[i % len(images)]
        h, w = image.shape[:2]
        y = int(rng.integers(0, h - size + 1))
        x = int(rng.integers(0, w - size + 1))
        crops.append((f"{name}-{i:02d}", image[y : y + size, x : x + size].copy()))
    return crops
