"""Debian packages of photographs and textures: download, unpack, and sort their images into splits.

Each package was checked with ``dpkg -c`` and its ``usr/share/doc/<pkg>/copyright`` (see docs/data.md
and :data:`PACKAGES`). Whole packages or whole sequences are held out, so the benchmark never sees a photo
from a source the models were trained or tuned on:

- ``train``: OpenArena's textures, GIMP's extra patterns, ViSP's camera sequences except ``castel``/``faces``,
  and the tuxpaint stamps' silhouettes whose name hashes to the training share (object-shaped masks);
- ``test`` (benchmark only): every Nexuiz texture (the whole package), ViSP's ``castel`` sequence and
  ``faces`` photo, and the silhouettes of held-out stamps;
- ``val`` masks (choosing checkpoints): a third share of the stamps.

Layout written under ROOT::

    train/<source>-<name>.png      images to train on
    test/<source>-<name>.png       benchmark images (never trained on, never used to choose weights)
    masks/{train,val,test}/<stamp>.png   tuxpaint alpha silhouettes (255 = object)

Example:
    >>> from imggan.data.packages import PACKAGES, mask_split
    >>> sorted(PACKAGES)[:2], mask_split("animals/birds/robin.png") in {"train", "val", "test"}
    (['gimp-data-extras', 'nexuiz-textures'], True)
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from imggan.data import debs

RESERVED = ("mate-backgrounds", "ukui-wallpapers", "lomiri-wallpapers")  # independent evaluation: never fetched


@dataclass(frozen=True)
class PackageSource:
    """One Debian package: what it holds, its licence, and which split its images go to."""

    name: str
    licence: str
    contents: str
    split: str


PACKAGES: dict[str, PackageSource] = {
    p.name: p
    for p in (
        PackageSource(
            "visp-images-data",
            "GPL-2 (Inria); faces/haar_face_0.xml Intel OpenCV licence (not used)",
            "961 PGM/54 PNG/8 JPEG: grayscale camera sequences (cube, mbt/cube, castel, ellipse, line, "
            "calibration targets), Solvay photos, a Klimt painting, a face photo",
            "train (test: castel sequence, faces)",
        ),
        PackageSource(
            "tuxpaint-stamps-default",
            "GPL-2 (Bill Kendrick et al.)",
            "796 PNG stamps with alpha (photographic cut-outs and drawings), 248 SVG, sounds",
            "masks only: alpha silhouettes split train/val/test by name hash",
        ),
        PackageSource(
            "openarena-081-textures",
            "GPL-2+ (OpenArena team, id Software et al.)",
            "pak4-textures.pk3: 1,231 JPEG + 417 TGA game textures (walls, floors, metal, stone, skies)",
            "train",
        ),
        PackageSource(
            "nexuiz-textures",
            "GPL-2+ (Alientrap)",
            "textures.pk3: 2,078 JPEG + 3,289 TGA game textures, many photo-sourced (stone, metal, ground)",
            "test (whole package held out)",
        ),
        PackageSource(
            "gimp-data-extras",
            "GPL-2+",
            "110 GIMP patterns (.pat: small tileable photo textures), 37 brushes",
            "train",
        ),
    )
}

VISP_TEST = ("mbt-depth/castel", "faces")
VISP_SKIP = ("mire", "AprilTag", "calibration", "Gaussian-filter", "circle", "ellipse/")  # targets, synthetic
VISP_EVERY = 8  # frames of a sequence differ little: keep every 8th


def mask_split(name: str) -> str:
    """The split of a tuxpaint stamp, from a stable hash of its path: 60% train, 15% val, 25% test."""
    bucket = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 20
    return "train" if bucket < 12 else "val" if bucket < 15 else "test"


def unpack(package: str, cache: Path) -> Path | None:
    """``apt-get download`` + ``dpkg-deb -x`` of ``package`` into ``cache/x/<package>``; None if unavailable."""
    if any(package.startswith(r) for r in RESERVED):
        raise ValueError(f"{package} is reserved for independent evaluation and is never fetched")
    try:
        return debs.unpacked(package, cache / "x" / package, cache)
    except debs.DebError:
        return None


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError(f"could not encode {path}")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.tobytes())
    tmp.replace(path)


def read_gimp_pattern(path: Path) -> np.ndarray | None:
    """Decode a GIMP ``.pat`` pattern (big-endian header, magic ``GPAT``, raw pixels) as BGR/gray uint8."""
    data = Path(path).read_bytes()
    if len(data) < 24 or data[20:24] != b"GPAT":
        return None
    header, _version, width, height, depth = struct.unpack(">5I", data[:20])
    pixels = np.frombuffer(data, np.uint8, width * height * depth, header)
    image = pixels.reshape(height, width, depth)
    if depth in (1, 2):
        return np.ascontiguousarray(image[..., 0])
    return cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text).strip("_")


def extract_visp(package_root: Path, train: Path, test: Path) -> dict[str, dict[str, str]]:
    """Every 8th frame of ViSP's sequences into train, the held-out sequences into test."""
    base = package_root / "usr" / "share" / "visp-images-data" / "ViSP-images"
    sources: dict[str, dict[str, str]] = {}
    licence = PACKAGES["visp-images-data"].licence.split(";")[0]
    for folder in sorted({p.parent for p in base.rglob("*") if p.suffix.lower() in {".pgm", ".ppm", ".png", ".jpg"}}):
        rel = folder.relative_to(base).as_posix() + "/"
        if any(rel.startswith(s) for s in VISP_SKIP):
            continue
        split = test if any(rel.startswith(s + "/") for s in VISP_TEST) else train
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".pgm", ".ppm", ".png", ".jpg"})
        for path in files[::VISP_EVERY]:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None or min(image.shape[:2]) < 128:
                continue
            out = split / f"visp-{_slug(rel)}-{path.stem}.png"
            if not out.exists():
                _write_png(out, image)
            sources[f"{split.name}/{out.name}"] = {
                "source": f"Debian visp-images-data: {rel}{path.name}",
                "licence": licence,
            }
    return sources


def extract_pk3(
    pk3: Path, out: Path, prefix: str, package: str, min_side: int = 128, limit: int | None = None
) -> dict[str, dict[str, str]]:
    """The JPEG textures of a Quake-style ``.pk3`` (a zip) of at least ``min_side`` px, spread evenly."""
    sources: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(pk3) as archive:
        names = sorted(n for n in archive.namelist() if n.lower().endswith((".jpg", ".jpeg")))
        names = [n for n in names if not any(k in n.lower() for k in ("_glow", "_gloss", "_norm", "_bump", "sfx/"))]
        if limit is not None and len(names) > limit:
            names = [names[i] for i in np.linspace(0, len(names) - 1, limit).round().astype(int)]
        for name in names:
            target = out / f"{prefix}-{_slug(name.removeprefix('textures/').rsplit('.', 1)[0])}.png"
            if not target.exists():
                image = cv2.imdecode(np.frombuffer(archive.read(name), np.uint8), cv2.IMREAD_COLOR)
                if image is None or min(image.shape[:2]) < min_side:
                    continue
                _write_png(target, image)
            sources[f"{out.name}/{target.name}"] = {
                "source": f"Debian {package}: {pk3.name}/{name}",
                "licence": PACKAGES[package].licence,
            }
    return sources


def extract_tuxpaint(package_root: Path, masks: Path, min_side: int = 96) -> dict[str, dict[str, str]]:
    """Each PNG stamp's alpha silhouette (255 = object), cropped to its bounding box, into its split folder."""
    base = package_root / "usr" / "share" / "tuxpaint" / "stamps"
    sources: dict[str, dict[str, str]] = {}
    for path in sorted(base.rglob("*.png")):
        rel = path.relative_to(base).as_posix()
        if rel.startswith("symbols/alphabets") or path.stem.endswith(("_mirror", "_flip")):
            continue
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None or image.ndim != 3 or image.shape[2] != 4:
            continue
        silhouette = np.where(image[..., 3] > 127, 255, 0).astype(np.uint8)
        ys, xs = np.nonzero(silhouette)
        if len(ys) == 0:
            continue
        silhouette = silhouette[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        if min(silhouette.shape) < min_side or not 0.15 < (silhouette > 0).mean() < 0.95:
            continue
        folder = masks / mask_split(rel)
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{_slug(rel.rsplit('.', 1)[0])}.png"
        if not out.exists():
            _write_png(out, silhouette)
        sources[f"masks/{folder.name}/{out.name}"] = {
            "source": f"Debian tuxpaint-stamps-default: stamps/{rel} (alpha)",
            "licence": PACKAGES["tuxpaint-stamps-default"].licence,
        }
    return sources


def fetch_packages(root: Path, cache: Path | None = None) -> dict[str, dict[str, str]]:
    """Fetch every package of :data:`PACKAGES` (skipping those apt cannot get) and sort their images."""
    root = Path(root)
    cache = cache or root / ".deb"
    train, test, masks = root / "train", root / "test", root / "masks"
    for folder in (train, test, masks):
        folder.mkdir(parents=True, exist_ok=True)
    sources: dict[str, dict[str, str]] = {}
    if (pkg := unpack("visp-images-data", cache)) is not None:
        sources.update(extract_visp(pkg, train, test))
    if (pkg := unpack("openarena-081-textures", cache)) is not None:
        pk3 = pkg / "usr" / "share" / "games" / "openarena" / "baseoa" / "pak4-textures.pk3"
        sources.update(extract_pk3(pk3, train, "openarena", "openarena-081-textures", limit=400))
    if (pkg := unpack("nexuiz-textures", cache)) is not None:
        pk3 = pkg / "usr" / "share" / "games" / "nexuiz" / "data" / "textures.pk3"
        sources.update(extract_pk3(pk3, test, "nexuiz", "nexuiz-textures", min_side=256, limit=240))
    if (pkg := unpack("gimp-data-extras", cache)) is not None:
        for path in sorted((pkg / "usr" / "share" / "gimp" / "2.0" / "patterns").glob("*.pat")):
            image = read_gimp_pattern(path)
            if image is None or min(image.shape[:2]) < 64:
                continue
            if min(image.shape[:2]) < 128:  # small tileable patterns: tile them 2x2 so a crop fits
                image = np.tile(image, (2, 2) if image.ndim == 2 else (2, 2, 1))
            out = train / f"gimp-{_slug(path.stem)}.png"
            if not out.exists():
                _write_png(out, image)
            sources[f"train/{out.name}"] = {
                "source": f"Debian gimp-data-extras: patterns/{path.name}",
                "licence": "GPL-2+",
            }
    if (pkg := unpack("tuxpaint-stamps-default", cache)) is not None:
        sources.update(extract_tuxpaint(pkg, masks))
    return sources
