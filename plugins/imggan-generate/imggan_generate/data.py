"""Training images for generation: a folder (flat, or one sub-folder per class) or a packaged set.

``--data`` takes a folder or one of the packaged sources, which need no download:

- ``sklearn:digits``: scikit-learn's ``load_digits`` (1,797 8x8 digits, 10 classes, 0..16 grey levels);
- ``skimage:lfw``: scikit-image's ``lfw_subset()``: 200 grey 25x25 images, unlabelled; note that only the first
  100 are faces, the other 100 are non-face patches (the set is made for a face detector);
- ``skimage:lfw-faces``: the 100 faces of ``lfw_subset()`` only (the source to train a face generator on);
- ``skimage:lfw-nonfaces``: its 100 non-face patches only (the negatives of the face-rate detector,
  :mod:`imggan.metrics.faces`);
- ``emoji:google``: Google's Noto emoji (Apache-2.0) from npm's ``emoji-datasource-google``, 9 classes by
  ``emoji.json`` category (1,892 images), alpha over white; needs ``imggan data fetch --emoji`` once
  (:mod:`imggan.data.emoji`).

A source name may end in a split, ``:train`` (the default), ``:val``, ``:test``, ``:trainval`` (train and val
together: everything but test) or ``:all``. The splits are fixed (seeded, stratified by class for digits):
digits 70 / 10 / 20 % (1,259 / 179 / 359), lfw 160 / 0 / 40, lfw-faces 70 / 10 / 20, lfw-nonfaces 80 / 0 / 20
(the faces' val split is 10 faces carved out of the 80 non-test faces, so the 20 test faces are the same as with
the earlier 80 / 0 / 20 split); emoji 70 / 10 / 20 % per category, variants of one emoji in one split
(1,323 / 190 / 379; :func:`imggan.data.emoji.split_entries`).
Models are trained on ``train``, checkpoints chosen on ``val`` and the benchmark reports on ``test``.

Everything comes back as a :class:`ImageSet`: uint8 ``N x R x R x C`` images resized to the resolution
(area-averaged down, bicubic up), RGB order, and integer labels with their class names when labelled.

Example:
    >>> from imggan_generate.data import load_image_set
    >>> s = load_image_set("sklearn:digits:test", resolution=16)
    >>> s.images.shape, s.num_classes, s.class_names[:3]
    ((359, 16, 16, 1), 10, ['0', '1', '2'])
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from imggan.errors import ImgganError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
SPLITS = ("train", "val", "test", "trainval", "all")
PACKAGED = ("sklearn:digits", "skimage:lfw", "skimage:lfw-faces", "skimage:lfw-nonfaces", "emoji:google")


@dataclass
class ImageSet:
    """Images (uint8, N x R x R x C, RGB) with optional labels.

    Attributes:
        images: the images.
        labels: int64 class per image, or ``None`` for an unlabelled set.
        class_names: the name of each class (sub-folder names, or ``"0".."9"``).
        source: where they came from (recorded in model cards).
        paths: the files, for a folder source.
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    source: str = ""
    paths: list[Path] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        """Number of classes (0 when unlabelled)."""
        return len(self.class_names) if self.labels is not None else 0

    @property
    def channels(self) -> int:
        """Image channels (1 or 3)."""
        return int(self.images.shape[-1])


def resize(image: np.ndarray, resolution: int) -> np.ndarray:
    """Square-resize ``image`` (HxW or HxWxC) to ``resolution``: area down, bicubic up, clipped to uint8."""
    h, w = image.shape[:2]
    if (h, w) != (resolution, resolution):
        interp = cv2.INTER_AREA if min(h, w) > resolution else cv2.INTER_CUBIC
        image = cv2.resize(image.astype(np.float32), (resolution, resolution), interpolation=interp)
    out = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return out[..., None] if out.ndim == 2 else out


def _split_index(n: int, split: str, fractions: tuple[float, float], labels: np.ndarray | None) -> np.ndarray:
    """Fixed, seeded split of ``range(n)``: ``fractions`` = (val, test); stratified when labelled."""
    rng = np.random.default_rng(20240614)
    groups = [np.arange(n)] if labels is None else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for group in groups:
        group = rng.permutation(group)
        n_val, n_test = int(round(len(group) * fractions[0])), int(round(len(group) * fractions[1]))
        parts["val"].append(group[:n_val])
        parts["test"].append(group[n_val : n_val + n_test])
        parts["train"].append(group[n_val + n_test :])
    if split == "all":
        return np.arange(n)
    return np.sort(np.concatenate(parts[split]))


@functools.lru_cache(maxsize=4)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images * (255.0 / 16.0)).astype(np.float32)
    return images, digits.target.astype(np.int64)


@functools.lru_cache(maxsize=4)
def _faces() -> np.ndarray:
    from skimage.data import lfw_subset

    return (np.asarray(lfw_subset(), np.float32) * 255.0).astype(np.float32)


def _faces_val_split(train: np.ndarray, split: str, count: int = 10) -> np.ndarray:
    """``count`` seeded faces of the 80 non-test lfw faces as ``val``, the rest as ``train`` (both sorted)."""
    val = np.sort(np.random.default_rng(20261201).permutation(train)[:count])
    return val if split == "val" else np.setdiff1d(train, val)


@functools.lru_cache(maxsize=2)
def _emoji_index(folder: Path, min_count: int) -> tuple[list, list[str]]:
    """:func:`imggan.data.emoji.emoji_index` of ``folder``, read (every image hashed) once for all splits."""
    from imggan.data import emoji

    return emoji.emoji_index(folder, min_count)


@functools.lru_cache(maxsize=8)
def _emoji(split: str, resolution: int) -> ImageSet:
    """The emoji split at ``resolution`` (read once per split and size)."""
    from imggan.data import emoji

    entries, classes = _emoji_index(emoji.default_folder(), emoji.MIN_COUNT)
    picked = emoji.split_entries(entries, classes, split)
    images = np.stack([emoji.read_emoji(e.path, resolution) for e in picked])
    labels = np.asarray([classes.index(e.category) for e in picked], np.int64)
    return ImageSet(images, labels, list(classes), f"emoji:google:{split}", [e.path for e in picked])


def _packaged(name: str, split: str, resolution: int) -> ImageSet:
    if name == "emoji:google":
        found = _emoji(split, resolution)
        return ImageSet(found.images.copy(), found.labels.copy(), list(found.class_names), found.source, found.paths)
    if split == "trainval":
        parts = [_packaged(name, part, resolution) for part in ("train", "val")]
        images = np.concatenate([p.images for p in parts])
        labels = None if parts[0].labels is None else np.concatenate([p.labels for p in parts])
        return ImageSet(images, labels, parts[0].class_names, f"{name}:trainval")
    if name == "sklearn:digits":
        images, labels = _digits()
        index = _split_index(len(images), split, (0.1, 0.2), labels)
        picked = np.stack([resize(images[i], resolution) for i in index])
        return ImageSet(picked, labels[index], [str(d) for d in range(10)], f"{name}:{split}")
    faces = {"skimage:lfw-faces": _faces()[:100], "skimage:lfw-nonfaces": _faces()[100:]}.get(name, _faces())
    index = _split_index(len(faces), split, (0.0, 0.2), None)
    if name == "skimage:lfw-faces" and split in ("train", "val"):
        index = _faces_val_split(_split_index(len(faces), "train", (0.0, 0.2), None), split)
    picked = [resize(faces[i], resolution) for i in index]  # lfw's val split is empty
    images = np.stack(picked) if picked else np.zeros((0, resolution, resolution, 1), np.uint8)
    return ImageSet(images, None, [], f"{name}:{split}")


def _read(path: Path, resolution: int, channels: int | None) -> np.ndarray:
    from imggan.io import read_image

    image, _ = read_image(path)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.dtype != np.uint8:
        image = (image.astype(np.float32) / (np.iinfo(image.dtype).max / 255.0)).astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 3:
        image = image[..., ::-1]  # BGR -> RGB
    out = resize(image, resolution)
    if channels == 1 and out.shape[2] == 3:
        out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[..., None]
    elif channels == 3 and out.shape[2] == 1:
        out = np.repeat(out, 3, axis=2)
    return out


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_folder(folder: Path, resolution: int, channels: int | None = None, option: str = "--data") -> ImageSet:
    """A folder of images, or of class sub-folders (sorted names = class indices).

    Images are read with :func:`imggan.io.read_image` (alpha dropped), square-resized, and given
    ``channels`` (default: 3 if any image has colour, else 1).

    Raises:
        ImgganError: no such folder, no images, a class folder without images, or images beside class folders;
            the message begins with ``option`` (the CLI option that named the folder).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImgganError(f"{option} {folder}: not a folder (or a packaged source: {', '.join(PACKAGED)})")
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = _images_in(folder)
    if classes and loose:
        raise ImgganError(f"{option} {folder}: holds both images and class folders; use one or the other")
    if classes:
        files, labels = [], []
        for index, sub in enumerate(classes):
            found = _images_in(sub)
            if not found:
                raise ImgganError(f"{option} {folder}: class folder {sub.name!r} has no images")
            files += found
            labels += [index] * len(found)
        label_array: np.ndarray | None = np.asarray(labels, np.int64)
        names = [p.name for p in classes]
    else:
        files, label_array, names = loose, None, []
    if not files:
        raise ImgganError(f"{option} {folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    if channels is None:
        first = [_read(p, resolution, None) for p in files]
        channels = 3 if any(im.shape[2] == 3 for im in first) else 1
        images = [im if im.shape[2] == channels else np.repeat(im, 3, axis=2) for im in first]
    else:
        images = [_read(p, resolution, channels) for p in files]
    return ImageSet(np.stack(images), label_array, names, str(folder), list(files))


def load_image_set(data: str | Path, resolution: int, channels: int | None = None, option: str = "--data") -> ImageSet:
    """Load ``data``: a folder or ``sklearn:digits[:split]`` / ``skimage:lfw[:split]``.

    Raises:
        ImgganError: an unknown source or split, or a bad folder (see :func:`load_folder`).
    """
    text = str(data)
    for name in PACKAGED:
        if text == name or text.startswith(name + ":"):
            split = text[len(name) + 1 :] or "train"
            if split not in SPLITS:
                raise ImgganError(f"{option} {text}: unknown split {split!r}; use one of {', '.join(SPLITS)}")
            found = _packaged(name, split, resolution)
            if channels == 3 and found.channels == 1:
                found.images = np.repeat(found.images, 3, axis=3)
            return found
    if ":" in text and not Path(text).exists() and text.split(":", 1)[0] in {p.split(":")[0] for p in PACKAGED}:
        raise ImgganError(f"{option} {text}: unknown packaged source; known: {', '.join(PACKAGED)}")
    return load_folder(Path(text).expanduser(), resolution, channels, option)
