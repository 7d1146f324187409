"""Google's Noto emoji images from npm's ``emoji-datasource-google``: a labelled set for conditional generation.

The package (pinned: :data:`PACKAGE` :data:`VERSION`, checked against :data:`SHA256`) holds one 64x64 RGBA PNG
per emoji and ``emoji.json``, which gives each emoji its category (Smileys & Emotion, People & Body, Animals &
Nature, ...). The images are Google's Noto Emoji (Apache-2.0, as the package's README states for the Google set); the
package's data and code are MIT (Cal Henderson). The other vendors' images are not used: Apple's are not licensed
for commercial use, Facebook's have no clear licence, Twitter's (CC-BY-4.0) would do but one set is enough.

:func:`fetch_emoji` gets the tarball (``npm pack``, else the registry's tarball URL), checks its SHA-256 and
extracts only what is used into ``ROOT/emoji/<package>-<version>/`` (``emoji.json``, ``LICENSE``, ``README.md``,
``png/*.png``) and a ``SOURCE.json`` record, all under a ``.partial`` name renamed when complete.
:func:`emoji_index` reads the classes: one per category, skin-tone variants not included (emoji.json lists them
apart from the base emoji), the ``Component`` category (5 skin-tone swatches and hair parts) and any other category
under ``min_count`` images dropped, byte-identical images kept once. :func:`split_entries` gives the fixed splits:
70 / 10 / 20 % per category, seeded, and grouped so that variants of one emoji (man / woman / person runner, boy /
girl, families) fall in one split. :func:`read_emoji` composites the alpha onto a fixed background (white) and
resizes with area averaging.

Example:
    >>> from imggan.data.emoji import emoji_group
    >>> emoji_group("1F3C3-200D-2642-FE0F") == emoji_group("1F3C3")  # man running, person running
    True
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from imggan.data.sources import DEFAULT_ROOT
from imggan.data.staging import staged_folder
from imggan.errors import ImgganError

PACKAGE = "emoji-datasource-google"
VERSION = "16.0.0"
SHA256 = "fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438"
TARBALL_URL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
VENDOR = "google"
LICENCE = (
    "images: Google Noto Emoji v2.048, Apache-2.0 (the package README); "
    "emoji.json and package: MIT, Copyright (c) 2013 Cal Henderson"
)
ATTRIBUTION = f"Noto Emoji by Google (Apache-2.0), via npm {PACKAGE}@{VERSION} (iamcal/emoji-data, MIT)"
CATEGORIES = (
    "Smileys & Emotion",
    "People & Body",
    "Animals & Nature",
    "Food & Drink",
    "Travel & Places",
    "Activities",
    "Objects",
    "Symbols",
    "Flags",
)
FRACTIONS = (0.1, 0.2)  # val, test; the rest trains
SPLIT_SEED = 20261201
BACKGROUND = 255  # the alpha is composited onto white
MIN_COUNT = 50  # a category with fewer images is no class (drops Component's 5)
_PERSON = {"1F468", "1F469", "1F9D1", "1F466", "1F467", "1F9D2", "1F474", "1F475", "1F9D3"}
_JOINERS = {"FE0F", "200D", "2640", "2642"}


class EmojiError(ImgganError):
    """The emoji package cannot be had or read: download failed, digest mismatch, not fetched, bad layout."""


@dataclass(frozen=True)
class EmojiEntry:
    """One emoji image: its file, ``emoji.json`` name and category, and its split group."""

    path: Path
    name: str
    category: str
    group: str


def default_folder(root: Path | None = None) -> Path:
    """Where :func:`fetch_emoji` extracts the pinned package: ``ROOT/emoji/<package>-<version>``."""
    return Path(root or DEFAULT_ROOT) / "emoji" / f"{PACKAGE}-{VERSION}"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(workdir: Path) -> Path:
    """The pinned tarball in ``workdir``: ``npm pack`` when npm is on PATH, else the registry's tarball URL.

    Raises:
        EmojiError: both ways failed (no network, no such version).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"{PACKAGE}-{VERSION}.tgz"
    if target.is_file():
        return target
    error = ""
    if shutil.which("npm"):
        result = subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=workdir, capture_output=True, text=True
        )
        if target.is_file():
            return target
        error = (result.stderr.strip().splitlines() or [f"npm exit {result.returncode}"])[-1]
    partial = target.with_name(target.name + ".partial")
    try:
        with urllib.request.urlopen(TARBALL_URL, timeout=60) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise EmojiError(f"cannot download {PACKAGE}@{VERSION}: {error or exc}") from exc
    partial.rename(target)
    return target


def extract(tarball: Path, target: Path, vendor: str = VENDOR, size: int = 64, source: dict | None = None) -> Path:
    """Unpack ``emoji.json``, ``LICENSE``, ``README.md`` and ``img/<vendor>/<size>/*.png`` of ``tarball``.

    Written to ``<target>.partial`` (with ``source``, when given, as ``SOURCE.json``) and renamed when complete,
    so ``target`` never appears half written; an existing ``target`` is kept. Member names are
    reduced to their last part, so no path in the archive can write outside ``target``.

    Raises:
        EmojiError: the tarball is unreadable or lacks ``emoji.json`` or any image.
    """
    if target.is_dir():
        return target
    prefix = f"package/img/{vendor}/{size}/"
    with staged_folder(target) as partial:
        (partial / "png").mkdir()
        images = 0
        try:
            with tarfile.open(tarball, "r:gz") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    name = member.name
                    if name in ("package/emoji.json", "package/LICENSE", "package/README.md"):
                        dest = partial / Path(name).name
                    elif name.startswith(prefix) and name.endswith(".png") and "/" not in name[len(prefix) :]:
                        dest, images = partial / "png" / Path(name).name, images + 1
                    else:
                        continue
                    handle = tar.extractfile(member)
                    assert handle is not None
                    dest.write_bytes(handle.read())
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise EmojiError(f"{tarball}: not a readable npm tarball ({exc})") from exc
        if not (partial / "emoji.json").is_file() or not images:
            raise EmojiError(f"{tarball}: no package/emoji.json or no {prefix}*.png inside")
        if source is not None:
            (partial / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n")
    return target


def fetch_emoji(
    root: Path | None = None,
    tarball: Path | None = None,
    sha256: str = SHA256,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Get, check and extract the pinned package; returns the extracted folder (:func:`default_folder`).

    Args:
        root: the data cache (default ``~/.cache/imggan/data`` or ``$IMGGAN_DATA``).
        tarball: a tarball already downloaded (else it is downloaded into a temporary folder).
        sha256: the digest it must have (the pinned package's by default).
        log: called with one progress line per stage.

    Raises:
        EmojiError: download failure, a digest mismatch (nothing is extracted then) or a bad tarball.
    """
    target = default_folder(root)
    if target.is_dir():
        return target
    say = log or (lambda _msg: None)
    with tempfile.TemporaryDirectory() as tmp:
        if tarball is None:
            say(f"downloading {PACKAGE}@{VERSION}")
            tarball = download(Path(tmp))
        found = sha256_of(tarball)
        if found != sha256:
            raise EmojiError(f"{tarball}: SHA-256 {found} is not the pinned {PACKAGE}@{VERSION}'s {sha256}")
        say(f"extracting {tarball.name} into {target}")
        record = {"package": f"{PACKAGE}@{VERSION}", "sha256": sha256, "licence": LICENCE, "url": TARBALL_URL}
        return extract(tarball, target, source=record)


def emoji_group(unified: str) -> str:
    """The split group of an emoji code: gender signs, joiners and variation selectors dropped, people merged.

    ``1F3C3-200D-2642-FE0F`` (man running) and ``1F3C3`` (person running) give the same group, as do the man /
    woman / person forms of a profession; so near-identical variants never straddle two splits.
    """
    parts = [p for p in unified.upper().split("-") if p not in _JOINERS]
    return "-".join("P" if p in _PERSON else p for p in parts) or unified.upper()


def emoji_index(folder: Path, min_count: int | None = None) -> tuple[list[EmojiEntry], list[str]]:
    """The usable emoji of an extracted package and the class names (:data:`CATEGORIES` order).

    Skin-tone variants are not listed (``emoji.json`` keeps them under ``skin_variations``); categories
    outside :data:`CATEGORIES` or with fewer than ``min_count`` (default :data:`MIN_COUNT`) images are dropped,
    as are images whose file is missing and byte-identical repeats of an earlier image.

    Raises:
        EmojiError: ``folder`` holds no ``emoji.json`` (not fetched) or no usable image.
    """
    folder = Path(folder)
    min_count = MIN_COUNT if min_count is None else min_count
    meta = folder / "emoji.json"
    if not meta.is_file():
        raise EmojiError(f"{folder}: no emoji.json; run `imggan data fetch --emoji` first")
    try:
        records = json.loads(meta.read_text())
    except (OSError, ValueError) as exc:
        raise EmojiError(f"{meta}: not readable JSON ({exc})") from exc
    seen: set[str] = set()
    entries = []
    for record in sorted(records, key=lambda r: (r.get("sort_order", 0), r.get("unified", ""))):
        category, image = record.get("category"), record.get("image")
        path = folder / "png" / str(image)
        if category not in CATEGORIES or not image or not record.get(f"has_img_{VENDOR}", True) or not path.is_file():
            continue
        digest = sha256_of(path)
        if digest in seen:
            continue
        seen.add(digest)
        name = str(record.get("short_name") or record.get("name") or image)
        entries.append(EmojiEntry(path, name, category, emoji_group(str(record.get("unified", image)))))
    counts = {c: sum(e.category == c for e in entries) for c in CATEGORIES}
    classes = [c for c in CATEGORIES if counts[c] >= min_count]
    entries = [e for e in entries if e.category in classes]
    if not entries:
        raise EmojiError(f"{folder}: no category has {min_count} or more images")
    return entries, classes


def split_entries(entries: list[EmojiEntry], classes: list[str], split: str) -> list[EmojiEntry]:
    """The fixed ``train`` / ``val`` / ``test`` / ``trainval`` / ``all`` part of ``entries``.

    Per category, the groups (:func:`emoji_group`) are shuffled with :data:`SPLIT_SEED` and dealt to val until it
    holds 10 % of the category's images, then to test until 20 %, the rest to train: stratified by class,
    variants of one emoji together. The order of the result is that of ``entries``.

    Raises:
        EmojiError: an unknown split name.
    """
    if split not in ("train", "val", "test", "trainval", "all"):
        raise EmojiError(f"unknown split {split!r}: use train, val, test, trainval or all")
    if split == "all":
        return list(entries)
    rng = np.random.default_rng(SPLIT_SEED)
    assigned: dict[str, str] = {}
    for category in classes:
        members = [e for e in entries if e.category == category]
        groups: dict[str, int] = {}
        for e in members:
            groups[e.group] = groups.get(e.group, 0) + 1
        order = sorted(groups)
        n_val, n_test = round(len(members) * FRACTIONS[0]), round(len(members) * FRACTIONS[1])
        val = test = 0
        for index in rng.permutation(len(order)):
            group = order[index]
            if val < n_val:
                part, val = "val", val + groups[group]
            elif test < n_test:
                part, test = "test", test + groups[group]
            else:
                part = "train"
            assigned[f"{category}\0{group}"] = part
    wanted = {"trainval": {"train", "val"}}.get(split, {split})
    return [e for e in entries if assigned[f"{e.category}\0{e.group}"] in wanted]


def read_emoji(path: Path, resolution: int, background: int = BACKGROUND) -> np.ndarray:
    """One emoji as uint8 RGB ``resolution`` x ``resolution``: alpha over a flat ``background``, area-resized.

    Raises:
        EmojiError: the file is not a readable image.
    """
    data = np.frombuffer(Path(path).read_bytes(), np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise EmojiError(f"{path}: not a readable image")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGRA)
    if image.dtype != np.uint8:
        image = (image.astype(np.float32) / 257.0).round().astype(np.uint8)
    rgb = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2RGB).astype(np.float32)
    if image.shape[2] == 4:
        alpha = image[..., 3:4].astype(np.float32) / 255.0
        rgb = rgb * alpha + float(background) * (1.0 - alpha)
    h, w = rgb.shape[:2]
    if (h, w) != (resolution, resolution):
        interp = cv2.INTER_AREA if min(h, w) > resolution else cv2.INTER_CUBIC
        rgb = cv2.resize(rgb, (resolution, resolution), interpolation=interp)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def synthetic_tarball(path: Path, per_class: int = 6, size: int = 16) -> Path:
    """A tiny npm-style tarball with the package's layout (for tests and examples; no network).

    Three categories (Smileys & Emotion, Animals & Nature, Component) with ``per_class`` coloured discs each
    (Component: 2), one skin-tone variant listed under ``skin_variations``, one byte-identical repeat and one
    man / woman / person triple, as ``package/emoji.json`` and ``package/img/google/64/*.png``.
    """
    rng = np.random.default_rng(0)
    records, files = [], {}
    plan = [("Smileys & Emotion", per_class, (0, 200, 255)), ("Animals & Nature", per_class, (40, 160, 40))]
    plan.append(("Component", 2, (90, 90, 200)))
    order = 0
    for category, count, colour in plan:
        for i in range(count):
            code = f"1F{len(records) + 600:03X}"
            if category == "Smileys & Emotion" and i < 3:
                code = ["1F3C3", "1F3C3-200D-2642-FE0F", "1F3C3-200D-2640-FE0F"][i]
            image = np.zeros((size, size, 4), np.uint8)
            shade = np.clip(np.asarray(colour) + rng.integers(-30, 30, 3), 0, 255)
            cv2.circle(image, (size // 2, size // 2), size // 3 + i % 3, (*map(int, shade), 255), -1)
            ok, buf = cv2.imencode(".png", image)
            assert ok
            name = f"{code.lower()}.png"
            files[name] = buf.tobytes()
            record = {"name": f"{category} {i}", "unified": code, "image": name, "short_name": f"e{order}"}
            record.update(category=category, sort_order=order, has_img_google=True)
            records.append(record)
            order += 1
    smiley = records[3]
    smiley["skin_variations"] = {"1F3FB": {"unified": smiley["unified"] + "-1F3FB", "image": "skin.png"}}
    files["skin.png"] = files[smiley["image"]]
    dup = dict(records[4], unified="1F999", image="1f999.png", sort_order=order, short_name="dup")
    files["1f999.png"] = files[records[4]["image"]]
    records.append(dup)
    with tarfile.open(path, "w:gz") as tar:
        blobs = {"package/emoji.json": json.dumps(records).encode(), "package/LICENSE": b"MIT (synthetic)\n"}
        blobs.update({f"package/img/google/64/{k}": v for k, v in files.items()})
        blobs["package/img/google/sheets/sheet.png"] = b"not used"
        for name, blob in blobs.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path
