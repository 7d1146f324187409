"""Memorisation audit: are a generator's samples new images, or copies of its training images?

For every sample the audit finds the nearest training image, in two spaces:

- pixels: RMS distance of the images on [0, 1] (``||a - b|| / sqrt(dims)``);
- features of a network trained here on the same images: the label classifier's penultimate layer
  (:func:`imggan.metrics.generation.train_classifier`) for a labelled set, else the code of a small
  convolutional autoencoder (:func:`train_autoencoder`).

Scale comes from the training set itself: the nearest-neighbour distance of each training image to the *other*
training images (exact duplicates, distance 0, are not distinct images and are skipped). A sample closer to
some training image than the closest pair of distinct training images is nearer than the data ever comes to
itself: a likely copy. The model is **flagged** when any sample is such a copy in pixel space; the feature
space figures are reported beside it (a checkpoint rule may require both to be 0). For a model trained with
random flips the mirrored training images are references too (``mirror``): a mirrored copy is still a copy.

Example:
    >>> import numpy as np
    >>> from imggan_generate.audit import audit_samples
    >>> rng = np.random.default_rng(0)
    >>> train = rng.integers(0, 256, (50, 8, 8, 1), dtype=np.uint8)
    >>> audit_samples(train[:10], train, features=False)["flagged"]     # verbatim copies
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imggan.errors import ImgganError


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def nearest(queries: np.ndarray, reference: np.ndarray, self_match: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean nearest neighbour of each row of ``queries`` among the rows of ``reference``.

    Args:
        self_match: ``queries`` is ``reference``: skip each row itself and exact duplicates (distance 0).

    Returns:
        (distances, indices), one per query.
    """
    q, r = queries.astype(np.float64), reference.astype(np.float64)
    r2 = (r**2).sum(axis=1)
    dist = np.empty(len(q))
    index = np.empty(len(q), np.int64)
    for start in range(0, len(q), 512):
        part = q[start : start + 512]
        d2 = (part**2).sum(axis=1)[:, None] + r2[None, :] - 2.0 * part @ r.T
        d2 = np.maximum(d2, 0.0)
        if self_match:
            d2[d2 < 1e-12] = np.inf
            rows = np.arange(len(part))
            d2[rows, start + rows] = np.inf
        best = d2.argmin(axis=1)
        index[start : start + len(part)] = best
        dist[start : start + len(part)] = np.sqrt(d2[np.arange(len(part)), best])
    return dist, index


def train_autoencoder(images: np.ndarray, steps: int = 600, code: int = 64, seed: int = 0) -> Any:
    """A small convolutional autoencoder on ``images`` (uint8 N x H x W x C); returns ``encode(images)``.

    The encoder's code is the audit's feature space for unlabelled sets.
    """
    import torch
    from torch import nn

    x_all = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)
    c, h, w = x_all.shape[1:]
    torch.manual_seed(seed)
    encoder = nn.Sequential(
        nn.Conv2d(c, 32, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, 2, 1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * ((h + 3) // 4) * ((w + 3) // 4), code),
    )
    decoder = nn.Sequential(nn.Linear(code, 256), nn.ReLU(), nn.Linear(256, c * h * w), nn.Tanh())
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        for _ in range(steps):
            batch = x_all[torch.randint(0, len(x_all), (min(64, len(x_all)),), generator=gen)]
            loss = ((decoder(encoder(batch)).view_as(batch) - batch) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    encoder.eval()

    def encode(batch_images: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch_images.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)
        with torch.no_grad():
            return torch.cat([encoder(x[i : i + 512]) for i in range(0, len(x), 512)]).numpy()

    return encode


def _feature_network(train: np.ndarray, labels: np.ndarray | None, steps: int, flipped: np.ndarray | None):
    """(encode, name): the label classifier for a labelled set, else :func:`train_autoencoder`.

    With ``flipped`` (the mirrored training images, also references) the network trains on both orientations,
    so that it encodes the mirrored images as well as the others.
    """
    fit = train if flipped is None else np.concatenate([train, flipped])
    if labels is not None:
        from imggan.metrics.generation import train_classifier

        fit_labels = labels if flipped is None else np.concatenate([labels, labels])
        clf = train_classifier(fit, fit_labels, steps=steps, size=max(8, train.shape[1] // 4 * 4))
        return clf.features, "label classifier, penultimate layer (128)"
    return train_autoencoder(fit, steps=steps), "autoencoder code (64)" + (
        ", both orientations" if flipped is not None else ""
    )


def _space_report(
    samples: np.ndarray, train: np.ndarray, mirrored: np.ndarray | None = None
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Nearest-neighbour figures of ``samples`` against ``train`` (rows are vectors of one space).

    With ``mirrored`` (the same images flipped left-right, row for row) the references are both orientations:
    a sample's nearest image may be a mirrored one, and the closest pair of distinct training images is taken
    over both orientations too (an image and its own mirror are not distinct). Indices past ``len(train)``
    name mirrored images.
    """
    train_nn, _ = nearest(train, train, self_match=True)
    reference = train
    if mirrored is not None:
        train_nn = np.minimum(train_nn, nearest(train, mirrored, self_match=True)[0])
        reference = np.concatenate([train, mirrored])
    finite = train_nn[np.isfinite(train_nn)]
    closest_pair = float(finite.min()) if len(finite) else float("inf")
    sample_nn, sample_idx = nearest(samples, reference)
    report = {
        "sample_nn_median": float(np.median(sample_nn)),
        "sample_nn_min": float(sample_nn.min()),
        "train_nn_median": float(np.median(finite)) if len(finite) else float("nan"),
        "train_closest_pair": closest_pair,
        "fraction_closer_than_closest_pair": float((sample_nn < closest_pair).mean()),
        "ratio_median": float(np.median(sample_nn) / np.median(finite)) if len(finite) else float("nan"),
    }
    return report, sample_nn, sample_idx


def audit_samples(
    samples: np.ndarray,
    train: np.ndarray,
    labels: np.ndarray | None = None,
    features: bool = True,
    out: Path | None = None,
    pairs: int = 16,
    zoom: int = 4,
    feature_steps: int = 600,
    mirror: bool = False,
    encoder: Any = None,
) -> dict[str, Any]:
    """Audit ``samples`` (uint8 N x H x W x C) against the ``train`` images of the same shape.

    Args:
        labels: the training labels (the feature network is then the label classifier).
        features: also audit in a trained network's feature space.
        out: folder for ``audit.json`` and ``closest-pairs.png`` (nothing is written when ``None``).
        pairs: how many of the closest samples the PNG shows.
        zoom: nearest-neighbour enlargement of the PNG.
        feature_steps: training steps of the feature network.
        mirror: also compare with the left-right mirrored training images (for a model trained with random
            flips, which may reproduce a training image mirrored); the closest pair then spans both orientations
            and the feature network trains on both.
        encoder: a feature function (images -> N x d) to use instead of training one (e.g. the same
            :func:`train_autoencoder` reused over many checkpoints of one run).

    Returns:
        ``{"samples", "train_images", "mirror", "pixels": {...}, "features": {...} | None, "flagged", "copies"}``.
    """
    if samples.shape[1:] != train.shape[1:]:
        raise ImgganError(f"samples {samples.shape[1:]} and training images {train.shape[1:]} differ in shape")
    flipped = np.ascontiguousarray(train[:, :, ::-1]) if mirror else None
    pixel, pixel_nn, pixel_idx = _space_report(
        _flat(samples), _flat(train), None if flipped is None else _flat(flipped)
    )
    pixel["scale"] = "RMS distance of [0, 1] pixels"
    pixel = {
        k: v / np.sqrt(samples[0].size)
        if isinstance(v, float) and k not in ("fraction_closer_than_closest_pair", "ratio_median")
        else v
        for k, v in pixel.items()
    }
    feature_report = None
    if features:
        if encoder is not None:
            encode, name = encoder, "given encoder"
        else:
            encode, name = _feature_network(train, labels, feature_steps, flipped)
        feature_report, _, _ = _space_report(
            encode(samples), encode(train), None if flipped is None else encode(flipped)
        )
        feature_report["network"] = name
    copies = int(round(pixel["fraction_closer_than_closest_pair"] * len(samples)))
    report = {
        "samples": int(len(samples)),
        "train_images": int(len(train)),
        "mirror": bool(mirror),
        "pixels": pixel,
        "features": feature_report,
        "copies": copies,
        "flagged": copies > 0,
    }
    if out is not None:
        reference = train if flipped is None else np.concatenate([train, flipped])
        _write(Path(out), report, samples, reference, pixel_nn, pixel_idx, pairs, zoom)
    return report


def _write(out: Path, report: dict, samples, train, dist, index, pairs: int, zoom: int) -> None:
    import json

    from imggan.weights import atomic_write_bytes
    from imggan_generate import render

    order = np.argsort(dist)[:pairs]
    tiles = np.concatenate([samples[order], train[index[order]]])
    picture = render.grid(render.zoom(tiles, zoom), columns=len(order))
    render.write_png(out / "closest-pairs.png", picture)
    atomic_write_bytes(out / "audit.json", (json.dumps(report, indent=2) + "\n").encode())


def audit(
    model: Any,
    data: str | Path,
    count: int = 2000,
    seed: int = 0,
    out: Path | None = None,
    pairs: int = 16,
    zoom: int = 4,
    features: bool = True,
    feature_steps: int = 600,
    mirror: bool | None = None,
    encoder: Any = None,
) -> dict[str, Any]:
    """Audit a loaded generator (:class:`imggan_generate.api.LoadedGenerator`) against its training ``data``.

    Samples are drawn from seeds ``seed .. seed + count - 1``, classes in turn for a conditional model.
    ``mirror`` (see :func:`audit_samples`) defaults to the model's training config: on when it trained with
    random flips.
    """
    from imggan_generate.api import draw_samples, resolve_labels, to_uint8
    from imggan_generate.data import load_image_set

    channels = int(model.card["arch"]["channels"])
    found = load_image_set(data, model.resolution, channels)
    samples = to_uint8(draw_samples(model.net, count, seed, resolve_labels(model, count, None, seed)))
    if mirror is None:
        mirror = bool((model.card.get("config") or {}).get("flip"))
    report = audit_samples(
        samples, found.images, found.labels, features, out, pairs, zoom, feature_steps, mirror, encoder
    )
    report["model"] = model.name
    report["data"] = str(data)
    return report


def format_report(report: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    px = report["pixels"]
    lines = [
        f"{report['samples']} samples vs {report['train_images']} training images"
        + (" and their mirror images" if report.get("mirror") else ""),
        f"pixels (RMS): sample->nearest train median {px['sample_nn_median']:.4f}, min {px['sample_nn_min']:.4f}; "
        f"train->nearest other train median {px['train_nn_median']:.4f}, closest pair {px['train_closest_pair']:.4f}",
        f"  samples closer than the closest training pair: {px['fraction_closer_than_closest_pair']:.2%}",
    ]
    ft = report.get("features")
    if ft:
        lines.append(
            f"features ({ft['network']}): sample median {ft['sample_nn_median']:.3f}, "
            f"train median {ft['train_nn_median']:.3f}, closest pair {ft['train_closest_pair']:.3f}, "
            f"closer: {ft['fraction_closer_than_closest_pair']:.2%}"
        )
    lines.append("FLAGGED: likely copies of training images" if report["flagged"] else "not flagged: no copies found")
    return "\n".join(lines)
