"""Recreate the style head's reference images from the Debian packages they were taken from.

``benchmarks/style.py`` (both splits) and the shipped trained styles' cards read their style references
from ``~/.cache/imggan/runs/style/refs`` (or ``$IMGGAN_STYLE_REFS``), and the benchmark's val split two
of its contents (``val-content-*``) from the same folder. Every one of them is a file of a
Debian package: :data:`STYLE_REFS` names the package, the version the references were made from, the path
inside the package, the licence and how the file is written (a byte copy, or a PNG decoded by OpenCV and
re-encoded as JPEG quality 95). :func:`fetch_style_refs` downloads each package once with
``apt-get download`` into a temporary folder, streams only the wanted members out of
``dpkg-deb --fsys-tarfile``, writes each reference atomically and checks it against the SHA-256 of the
file the published figures were measured on.

Example (CLI):
    imggan data fetch --style-refs [--refs-dir DIR]

Example:
    >>> sorted({r.package for r in STYLE_REFS})
    ['plasma-workspace-wallpapers', 'sddm-theme-maldives', 'sddm-theme-maui', 'wesnoth-1.16-data']
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from imggan.data import debs

DEFAULT_REFS = Path(os.environ.get("IMGGAN_STYLE_REFS", Path.home() / ".cache" / "imggan" / "runs" / "style" / "refs"))
PLASMA = "plasma-workspace-wallpapers"
WESNOTH = "wesnoth-1.16-data"
MALDIVES = "sddm-theme-maldives"
MAUI = "sddm-theme-maui"
# Debian bookworm, what the refs were made from
VERSIONS = {PLASMA: "4:5.27.5-2", WESNOTH: "1:1.16.9-1", MALDIVES: "0.19.0-5", MAUI: "0.19.0-5"}
_WALL = "usr/share/wallpapers"
_STORY = "usr/share/games/wesnoth/1.16/data/core/images/story"
_SDDM = "usr/share/sddm/themes"
_WESNOTH_LICENCE = "GPL-2+ (Battle for Wesnoth art; usr/share/doc/wesnoth-1.16-data/copyright)"


def _plasma_licence(artist: str, licence: str) -> str:
    return f"{licence} ({artist}, the wallpaper's metadata); package GPL-2+ (KDE Visual Design Group)"


class StyleRefsError(debs.DebError):
    """A reference cannot be made: no apt-get/dpkg-deb, a package or a file in it is missing."""


@dataclass(frozen=True)
class StyleRef:
    """One reference image: where it comes from and how it is written.

    Attributes:
        name: the file name in the refs folder.
        package: the Debian package holding the source file.
        member: the source file's path inside the package.
        licence: the licence of the source file.
        encode: ``"copy"`` (the file's bytes) or ``"jpeg95"`` (``cv2.imread(..., IMREAD_COLOR)``, which drops
            alpha, then ``cv2.imencode(".jpg", quality 95)``).
        sha256: the SHA-256 of the reference the published figures were measured on.
        use: what reads it.
    """

    name: str
    package: str
    member: str
    licence: str
    encode: str
    sha256: str
    use: str


STYLE_REFS: tuple[StyleRef, ...] = (
    StyleRef("bench-autumn.jpg", PLASMA, f"{_WALL}/Autumn/contents/images/2560x1600.jpg",
             _plasma_licence("RJ Quiralta", "LGPL-3"), "copy",
             "dfded25df13f5c2dfee68cafb23f69c3efb32b8a6931d82ebbe42de9810dd1e4", "benchmarks/style.py test split"),
    StyleRef("bench-mountains01.jpg", WESNOTH, f"{_STORY}/landscape-mountains-01.jpg", _WESNOTH_LICENCE, "copy",
             "8c246e2e08255ff1f634f91fe82dc760e7c56dd7be233cb9966dc752b6ff0d63", "benchmarks/style.py test split"),
    StyleRef("bench-shell.jpg", PLASMA, f"{_WALL}/Shell/contents/images/5120x2880.jpg",
             _plasma_licence("Lucas Andrade", "CC-BY-SA-4.0"), "copy",
             "220d5fe725453dba2329b6733cb7094d8615f2e0bbbb8a150e9f113101c02213", "benchmarks/style.py test split"),
    StyleRef("train-flow.jpg", PLASMA, f"{_WALL}/Flow/contents/images/5120x2880.jpg",
             _plasma_licence("Sandra Smukaste", "CC-BY-SA-4.0"), "copy",
             "b2f1fbe9ebf772fed224de83ee4159cc3735c633a88cc42f8f45d49ccd12efc3", "a training reference (not shipped)"),
    StyleRef("train-mountains.jpg", WESNOTH, f"{_STORY}/landscape-mountains-03.jpg", _WESNOTH_LICENCE, "copy",
             "53f43ae61e753ccfd100c5c3f0ff5462798076613d6f030bfb8d5923f148f8b2", "shipped style `mountains`"),
    StyleRef("train-swamp.jpg", WESNOTH, f"{_STORY}/swamp-02.jpg", _WESNOTH_LICENCE, "copy",
             "bfd3f2234713dd40bebaf000ac44776259b508fd86b28b37fa694af8b8ce55c2", "shipped style `swamp`"),
    StyleRef("val-hills01.jpg", WESNOTH, f"{_STORY}/landscape-hills-01.jpg", _WESNOTH_LICENCE, "copy",
             "f5edfb8479c66082ff5c3f4473dac5a63c480f13d7b35539b37facc53c316993", "benchmarks/style.py val split"),
    StyleRef("val-kay.jpg", PLASMA, f"{_WALL}/Kay/contents/images/5120x2880.png",
             _plasma_licence("ruvkr", "CC-BY-SA-4.0"), "jpeg95",
             "e222a55e13f8307adfa33b7faaa9d512d2d7fe15062f7be59bec184a0ceff103", "benchmarks/style.py val split"),
    StyleRef("val-pastelhills.jpg", PLASMA, f"{_WALL}/PastelHills/contents/images/3200x2000.jpg",
             _plasma_licence("Lionel", "LGPL-3"), "copy",
             "8a5f3dc3ddc75687b5cc83833acb1ec9ce0b03d6529b2dace584707485447506", "benchmarks/style.py val split"),
    StyleRef("val-safelanding.jpg", PLASMA, f"{_WALL}/SafeLanding/contents/images/5120x2880.jpg",
             _plasma_licence("Louis Durrant", "CC-BY-SA-4.0"), "copy",
             "7341ff2532d1a13a2ba35f2a9219a2c6cb070446f1aae4ce9a3a981c3bedd32f", "benchmarks/style.py val split"),
    # val references where histogram matching is already strong: for each val content, the reference of the
    # same packages (used nowhere else) that histogram matching brings closest, when under 0.17 (screened on
    # histogram matching alone, before any imggan output on them; Volna has none under 0.17)
    StyleRef("val-eveningglow.jpg", PLASMA, f"{_WALL}/EveningGlow/contents/images/2560x1600.jpg",
             _plasma_licence("Ian Hex", "LGPL-3"), "copy",
             "586682dcb362b9f620068f10138f87d0d3649939aef238adc5807cb951976a7a", "benchmarks/style.py val split"),
    StyleRef("val-hills02.jpg", WESNOTH, f"{_STORY}/landscape-hills-02.jpg", _WESNOTH_LICENCE, "copy",
             "a868d3988bc00d9e418058e86e5a038153cf9eff5fa80863332a1647f1725be2", "benchmarks/style.py val split"),
    StyleRef("val-icecold.jpg", PLASMA, f"{_WALL}/IceCold/contents/images/5120x2880.png",
             _plasma_licence("Santiago Cézar", "CC-BY-SA-4.0"), "jpeg95",
             "2ab411765f39998487c261b4df7302bf8e0e9de915b8cb187b7c27597f6ff6b3", "benchmarks/style.py val split"),
    StyleRef("val-onestandsout.jpg", PLASMA, f"{_WALL}/OneStandsOut/contents/images/2560x1600.jpg",
             _plasma_licence("Risto Saukonpää", "LGPL-3"), "copy",
             "cb507baf1dafdcae362264f3aba9483ed4be5f6c9fdd770f0ec0920c6d9e80fd", "benchmarks/style.py val split"),
    # val contents (photographs to stylise, not references): a smooth sky-and-sea photo and a dark, smooth gradient
    StyleRef("val-content-maldives.jpg", MALDIVES, f"{_SDDM}/maldives/background.jpg",
             "CC-BY-3.0 (photo by Nevit Dilmen, 2008; usr/share/doc/sddm-theme-maldives/copyright)", "copy",
             "032d28ee4f3d885e9340ae430457fd59341e9fbf8ca45502d86ad14362ffb4a0", "benchmarks/style.py val content"),
    StyleRef("val-content-maui.png", MAUI, f"{_SDDM}/maui/background.png",
             "GPL-2+ (SDDM, usr/share/doc/sddm-theme-maui/copyright; the theme's metadata says CC-BY-SA)", "copy",
             "1c08b54505994e942f624176d1e02bff17342d05338f83d95986413abd29d8f1", "benchmarks/style.py val content"),
)  # fmt: skip


def download(package: str, workdir: Path, version: str | None = None) -> Path:
    """``apt-get download`` of ``package`` (``version`` first, then the archive's candidate) into ``workdir``.

    Raises:
        StyleRefsError: apt-get is not on PATH, or the package cannot be downloaded.
    """
    try:
        return debs.download(package, workdir, version)
    except debs.DebError as error:
        raise StyleRefsError(
            f"{error}; the style references come from it: on a non-Debian system download its .deb by hand "
            f"and pass its folder as debs= (see docs/data.md)"
        ) from error


def extract_members(deb: Path, members: Iterable[str], dest: Path) -> dict[str, Path]:
    """Stream ``deb``'s file tree through ``dpkg-deb --fsys-tarfile`` and write only ``members`` under ``dest``.

    Returns:
        member path -> extracted file, for the members found (a missing one is simply absent).
    """
    if shutil.which("dpkg-deb") is None:
        raise StyleRefsError("dpkg-deb not found: it unpacks the Debian packages the style references come from")
    wanted = {m.removeprefix("./") for m in members}
    found: dict[str, Path] = {}
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    with tarfile.open(fileobj=proc.stdout, mode="r|*") as tar:
        for info in tar:
            name = info.name.removeprefix("./")
            if name in wanted and info.isfile():
                source = tar.extractfile(info)
                assert source is not None
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as out:
                    shutil.copyfileobj(source, out)
                found[name] = target
    proc.stdout.close()
    if proc.wait() != 0:
        raise StyleRefsError(f"dpkg-deb --fsys-tarfile {deb.name} failed: {proc.stderr.read().decode().strip()}")
    return found


def encode(ref: StyleRef, source: Path) -> bytes:
    """The bytes of ``ref`` made from its extracted source file (a copy, or the JPEG re-encoding)."""
    if ref.encode == "copy":
        return source.read_bytes()
    if ref.encode == "jpeg95":
        image = cv2.imdecode(np.fromfile(source, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise StyleRefsError(f"cannot decode {ref.member} of {ref.package}")
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise StyleRefsError(f"cannot encode {ref.name}")
        return buf.tobytes()
    raise ValueError(f"unknown encoding {ref.encode!r} for {ref.name}")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(data)
    tmp.replace(path)


def fetch_style_refs(
    out: Path = DEFAULT_REFS,
    refs: Iterable[StyleRef] = STYLE_REFS,
    debs: Path | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, object]]:
    """Write every reference of ``refs`` into ``out`` and ``out/SOURCES.json``; returns that record.

    Args:
        out: the refs folder (created).
        refs: the references to make (default: all of :data:`STYLE_REFS`).
        debs: a folder already holding ``<package>_*.deb`` files; packages not found there are downloaded
            with ``apt-get download`` into a temporary folder that is removed afterwards.
        overwrite: replace a reference already in ``out``; by default an existing file is kept and only
            checked against the recorded SHA-256.
        log: where the one-line progress and warning messages go.

    Raises:
        StyleRefsError: no apt-get/dpkg-deb, a download failed, or a package lacks a file.
    """
    refs = list(refs)
    out.mkdir(parents=True, exist_ok=True)
    record: dict[str, dict[str, object]] = {}
    todo = [r for r in refs if overwrite or not (out / r.name).is_file()]
    with tempfile.TemporaryDirectory(prefix="imggan-style-refs-") as tmp:
        for package in sorted({r.package for r in todo}):
            local = sorted(debs.glob(f"{package}_*.deb")) if debs else []
            if local:
                deb = local[-1]
            else:
                log(f"apt-get download {package} ...")
                deb = download(package, Path(tmp), VERSIONS.get(package))
            members = [r.member for r in todo if r.package == package]
            found = extract_members(deb, members, Path(tmp) / "x" / package)
            for ref in (r for r in todo if r.package == package):
                if ref.member not in found:
                    raise StyleRefsError(f"{deb.name} has no {ref.member} (for {ref.name})")
                _write_atomic(out / ref.name, encode(ref, found[ref.member]))
                record[ref.name] = {"deb": deb.name}
    written = set(record)
    for ref in refs:
        digest = hashlib.sha256((out / ref.name).read_bytes()).hexdigest()
        entry = record.setdefault(ref.name, {"deb": "(kept: already present)"})
        entry.update({k: v for k, v in asdict(ref).items() if k != "name"})
        entry.update({"recorded_version": VERSIONS.get(ref.package), "matches_recorded": digest == ref.sha256})
        if digest != ref.sha256:
            entry["sha256_written"] = digest
            why = "delete it to recreate it" if ref.name not in written else "another package version?"
            log(f"warning: {ref.name} differs from the reference the figures were measured on ({why})")
    _write_atomic(out / "SOURCES.json", (json.dumps(record, indent=2) + "\n").encode())
    return record
