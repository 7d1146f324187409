"""Memorisation audit: are a generator's samples new images, or copies of its training images?

For every sample the audit finds the nearest training image, in two spaces:

- pixels: RMS distance of the images on [0, 1] (``||a - b|| / sqrt(dims)``);
- features of a network trained here on the same images: the label classifier's penultimate layer
  (:func:`imggan.metrics.generation.train_classifier`) for a labelled set, else the code of a small
  convolutional autoencoder (:func:`~imggan_generate.features.train_autoencoder`).

Scale comes from the training set itself: the nearest-neighbour distance of each training image to the *other*
training images (exact duplicates, distance 0, are not distinct images and are skipped). A sample closer to
some training image than the closest pair of distinct training images is nearer than the data ever comes to
itself, and is counted (the issue's figure). New real images are counted too, at the rate 2 / (n + 1) for n
training images (:mod:`imggan_generate.audit_stats`), so the count is compared with that rate, the
leave-one-out rate of the training images and, when given, the rate of held-out real images: the model is
**flagged** when its count, in pixels or features, is improbably high for new real images. For a model
trained with random flips the mirrored training images are references too (``mirror``): a mirrored copy is
still a copy.

Example:
    >>> import numpy as np
    >>> from imggan_generate.audit import audit_samples
    >>> rng = np.random.default_rng(0)
    >>> train = rng.integers(0, 256, (50, 8, 8, 1), dtype=np.uint8)
    >>> report = audit_samples(train[:10], train, features=False)          # verbatim copies
    >>> report["flagged"], report["pixels"]["fraction_closer_than_closest_pair"]
    (True, 1.0)
    >>> round(report["pixels"]["expected_rate"], 4)                        # new real images: 2 / 51
    0.0392
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imggan.errors import ImgganError
from imggan_generate import audit_stats as stats
from imggan_generate.features import train_autoencoder


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
        d2 = stats.squared_distances(part, r, r2)
        if self_match:
            d2[d2 < 1e-12] = np.inf
            rows = np.arange(len(part))
            d2[rows, start + rows] = np.inf
        best = d2.argmin(axis=1)
        index[start : start + len(part)] = best
        dist[start : start + len(part)] = np.sqrt(d2[np.arange(len(part)), best])
    return dist, index


def _feature_network(train: np.ndarray, labels: np.ndarray | None, steps: int | None, flipped: np.ndarray | None):
    """(encode, name): the label classifier for a labelled set, else :func:`train_autoencoder`.

    With ``flipped`` (the mirrored training images, also references) the network trains on both orientations,
    so that it encodes the mirrored images as well as the others.
    """
    fit = train if flipped is None else np.concatenate([train, flipped])
    both = ", both orientations" if flipped is not None else ""
    steps = steps or 600
    if labels is not None:
        from imggan.metrics.generation import train_classifier

        fit_labels = labels if flipped is None else np.concatenate([labels, labels])
        clf = train_classifier(fit, fit_labels, steps=steps, size=max(8, train.shape[1] // 4 * 4))
        return clf.features, "label classifier, penultimate layer (128)" + both
    return train_autoencoder(fit, steps=steps), f"autoencoder code (64), {steps} steps" + both


def _space_report(
    samples: np.ndarray,
    train: np.ndarray,
    mirrored: np.ndarray | None = None,
    held_out: np.ndarray | None = None,
    distinct: int | None = None,
    alpha: float = stats.ALPHA,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Nearest-neighbour figures of ``samples`` against ``train`` (rows are vectors of one space).

    With ``mirrored`` (the same images flipped left-right, row for row) the references are both orientations:
    a sample's nearest image may be a mirrored one, and the closest pair of distinct training images is taken
    over both orientations too (an image and its own mirror are not distinct). Indices past ``len(train)``
    name mirrored images. Beside the figures: the rate new real images are expected to be counted at
    (:mod:`imggan_generate.audit_stats`), the leave-one-out rate of the training images, the rate of
    ``held_out`` real images, and the :func:`~imggan_generate.audit_stats.verdict` on the samples' count.
    ``distinct`` is the number of distinct training images (default ``len(train)``). ``counted_nearest``: how
    many training images the counted samples are nearest to, and the most frequent ones (index, samples).
    """
    train_nn, _ = nearest(train, train, self_match=True)
    reference = train
    if mirrored is not None:
        train_nn = np.minimum(train_nn, nearest(train, mirrored, self_match=True)[0])
        reference = np.concatenate([train, mirrored])
    finite = train_nn[np.isfinite(train_nn)]
    closest_pair = float(finite.min()) if len(finite) else float("inf")
    sample_nn, sample_idx = nearest(samples, reference)
    count = int((sample_nn < closest_pair).sum())
    n = int(distinct or len(train))
    report = {
        "sample_nn_median": float(np.median(sample_nn)),
        "sample_nn_min": float(sample_nn.min()),
        "train_nn_median": float(np.median(finite)) if len(finite) else float("nan"),
        "train_closest_pair": closest_pair,
        "fraction_closer_than_closest_pair": count / len(samples),
        "ratio_median": float(np.median(sample_nn) / np.median(finite)) if len(finite) else float("nan"),
        "expected_rate": stats.expected_rate(n),
        "leave_one_out": stats.leave_one_out(train, mirrored),
    }
    held = None
    if held_out is not None and len(held_out):
        held_nn, _ = nearest(held_out, reference)
        held = (int((held_nn < closest_pair).sum()), len(held_out))
        report["held_out"] = {
            "images": held[1],
            "count": held[0],
            "rate": held[0] / held[1],
            "nn_median": float(np.median(held_nn)),
            "nn_min": float(held_nn.min()),
        }
    hits = sample_idx[sample_nn < closest_pair] % len(train)  # a mirrored reference counts as its image
    images, times = np.unique(hits, return_counts=True)
    top = np.argsort(-times, kind="stable")[:5]
    report["counted_nearest"] = {  # which training images the counted samples sit next to
        "distinct": int(len(images)),
        "most_common": [[int(images[i]), int(times[i])] for i in top],
    }
    report["verdict"] = stats.verdict(count, len(samples), n, held, alpha)
    return report, sample_nn, sample_idx


def _rms(report: dict[str, Any], dims: int) -> dict[str, Any]:
    """The pixel report's distances (sums over ``dims`` values on [0, 1]) as RMS distances."""
    scale = 1.0 / np.sqrt(dims)
    for key in ("sample_nn_median", "sample_nn_min", "train_nn_median", "train_closest_pair"):
        report[key] *= scale
    if "held_out" in report:
        for key in ("nn_median", "nn_min"):
            report["held_out"][key] *= scale
    report["scale"] = "RMS distance of [0, 1] pixels"
    return report


def audit_samples(
    samples: np.ndarray,
    train: np.ndarray,
    labels: np.ndarray | None = None,
    features: bool = True,
    out: Path | None = None,
    pairs: int = 16,
    zoom: int = 4,
    feature_steps: int | None = None,
    mirror: bool = False,
    encoder: Any = None,
    held_out: np.ndarray | None = None,
    alpha: float = stats.ALPHA,
) -> dict[str, Any]:
    """Audit ``samples`` (uint8 N x H x W x C) against the ``train`` images of the same shape.

    Args:
        labels: the training labels (the feature network is then the label classifier).
        features: also audit in a trained network's feature space.
        out: folder for ``audit.json``, ``closest-pairs.png`` (nearest in pixels) and, with features,
            ``closest-pairs-features.png`` (nearest in features); nothing is written when ``None``.
        pairs: how many of the closest samples the PNG shows.
        zoom: nearest-neighbour enlargement of the PNG.
        feature_steps: training steps of the feature network (default 600).
        mirror: also compare with the left-right mirrored training images (for a model trained with random
            flips, which may reproduce a training image mirrored); the closest pair then spans both orientations
            and the feature network trains on both.
        encoder: a feature function (images -> N x d) to use instead of training one (e.g. the same
            :func:`train_autoencoder` reused over many checkpoints of one run).
        held_out: real images of the same kind that are *not* training images (uint8, same shape), audited like
            samples: the rate new real images are counted at, which the verdict compares the samples with. A
            held-out image identical to a training image is an error (it would be counted as a copy and lift the
            reference rate).
        alpha: the verdict's one-sided level.

    Returns:
        ``{"samples", "train_images", "distinct_train_images", "mirror", "pixels": {...}, "features": {...} |
        None, "copies", "closer_than_closest_pair", "flagged"}``: per space the nearest-neighbour figures, the
        expected rate 2 / (n + 1), the leave-one-out and held-out rates and the ``verdict``
        (:func:`imggan_generate.audit_stats.verdict`); ``copies`` counts the samples closer than the closest
        pair in pixels, ``closer_than_closest_pair`` is whether any sample is (in either space), ``flagged``
        whether the count is improbably high for new real images in either space.
    """
    if samples.shape[1:] != train.shape[1:]:
        raise ImgganError(f"samples {samples.shape[1:]} and training images {train.shape[1:]} differ in shape")
    if held_out is not None and not len(held_out):
        raise ImgganError("no held-out images: give real images that are not training images, or none")
    if held_out is not None and held_out.shape[1:] != train.shape[1:]:
        raise ImgganError(f"held-out images {held_out.shape[1:]} and training images {train.shape[1:]} differ")
    known = {image.tobytes() for image in np.ascontiguousarray(train)}  # the distinct training images
    if held_out is not None:
        shared = sum(image.tobytes() in known for image in np.ascontiguousarray(held_out))
        if shared:
            raise ImgganError(
                f"{shared} of the {len(held_out)} held-out images are training images: "
                "give real images that were not trained on (e.g. the test split)"
            )
    flipped = np.ascontiguousarray(train[:, :, ::-1]) if mirror else None
    distinct = len(known)

    def report_in(vectors: Any) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
        """The audit in the space of ``vectors`` (images -> N x d rows): samples, references, held-out."""
        queries, references = vectors(samples), vectors(train)
        mirrored = None if flipped is None else vectors(flipped)
        held = None if held_out is None else vectors(held_out)
        return _space_report(queries, references, mirrored, held, distinct, alpha)

    pixel, pixel_nn, pixel_idx = report_in(_flat)
    pixel = _rms(pixel, samples[0].size)
    feature_report = None
    if features:
        if encoder is not None:
            encode, name = encoder, "given encoder"
        else:
            encode, name = _feature_network(train, labels, feature_steps, flipped)
        feature_report, feature_nn, feature_idx = report_in(encode)
        feature_report["network"] = name
    spaces = [pixel] + ([feature_report] if feature_report else [])
    report = {
        "samples": int(len(samples)),
        "train_images": int(len(train)),
        "distinct_train_images": int(distinct),
        "mirror": bool(mirror),
        "pixels": pixel,
        "features": feature_report,
        "copies": int(round(pixel["fraction_closer_than_closest_pair"] * len(samples))),
        "closer_than_closest_pair": any(s["fraction_closer_than_closest_pair"] > 0 for s in spaces),
        "flagged": any(s["verdict"]["flagged"] for s in spaces),
    }
    if out is not None:
        reference = train if flipped is None else np.concatenate([train, flipped])
        nearest_in = {"closest-pairs.png": (pixel_nn, pixel_idx)}
        if feature_report:
            nearest_in["closest-pairs-features.png"] = (feature_nn, feature_idx)
        _write(Path(out), report, samples, reference, nearest_in, pairs, zoom)
    return report


def _write(out: Path, report: dict, samples, train, nearest_in: dict, pairs: int, zoom: int) -> None:
    """``audit.json`` and, per space, a PNG of the closest samples (top row) above their nearest training images."""
    import json

    from imggan.weights import atomic_write_bytes
    from imggan_generate import render

    for name, (dist, index) in nearest_in.items():
        order = np.argsort(dist)[:pairs]
        tiles = np.concatenate([samples[order], train[index[order]]])
        render.write_png(out / name, render.grid(render.zoom(tiles, zoom), columns=len(order)))
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
    feature_steps: int | None = None,
    mirror: bool | None = None,
    encoder: Any = None,
    held_out: str | Path | np.ndarray | None = None,
    alpha: float = stats.ALPHA,
) -> dict[str, Any]:
    """Audit a loaded generator (:class:`imggan_generate.api.LoadedGenerator`) against its training ``data``.

    Samples are drawn from seeds ``seed .. seed + count - 1``, classes in turn for a conditional model.
    ``mirror`` (see :func:`audit_samples`) defaults to the model's training config: on when it trained with
    random flips. ``held_out``: real images that are not training images (a data source such as
    ``skimage:lfw-faces:test``, or uint8 images), the measured rate of new real images.
    """
    from imggan_generate.api import draw_samples, resolve_labels, to_uint8
    from imggan_generate.data import load_image_set

    channels = int(model.card["arch"]["channels"])
    found = load_image_set(data, model.resolution, channels)
    if held_out is not None and not isinstance(held_out, np.ndarray):
        held_source = str(held_out)
        held_out = load_image_set(held_out, model.resolution, channels, option="--held-out").images
    else:
        held_source = None if held_out is None else "given images"
    samples = to_uint8(draw_samples(model.net, count, seed, resolve_labels(model, count, None, seed)))
    if mirror is None:
        mirror = bool((model.card.get("config") or {}).get("flip"))
    report = audit_samples(
        samples,
        found.images,
        found.labels,
        features,
        out,
        pairs,
        zoom,
        feature_steps,
        mirror,
        encoder,
        held_out,
        alpha,
    )
    report["model"] = model.name
    report["data"] = str(data)
    report["held_out_data"] = held_source
    return report


def _yardstick(space: dict[str, Any]) -> str:
    """One line: the samples' count beside the rate new real images are counted at, and the verdict."""
    v, loo = space["verdict"], space["leave_one_out"]
    held = space.get("held_out")
    known = f"held-out real {held['count']}/{held['images']}, " if held else ""
    return (
        f"  new real images would be: expected 2/(n+1) = {v['expected_rate']:.2%} ({known}leave-one-out "
        f"{loo['count']}/{loo['images']}); reference {v['reference_rate']:.2%}, 95 % under "
        f"{v['reference_upper95']:.2%}; p = {v['p_value']:.3g}"
        + (" (ABOVE)" if v["flagged"] else "")
        + f"; none counted: {v['p_none']:.1%} of such generators"
        + _hubs(space)
    )


def _hubs(space: dict[str, Any]) -> str:
    near = space.get("counted_nearest") or {}
    if not near.get("distinct"):
        return ""
    index, times = near["most_common"][0]
    return f"\n  the counted samples sit next to {near['distinct']} training images (image {index}: {times} of them)"


def format_report(report: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    px = report["pixels"]
    lines = [
        f"{report['samples']} samples vs {report['train_images']} training images"
        + (" and their mirror images" if report.get("mirror") else ""),
        f"pixels (RMS): sample->nearest train median {px['sample_nn_median']:.4f}, min {px['sample_nn_min']:.4f}; "
        f"train->nearest other train median {px['train_nn_median']:.4f}, closest pair {px['train_closest_pair']:.4f}",
        f"  samples closer than the closest training pair: {px['fraction_closer_than_closest_pair']:.2%}",
        _yardstick(px),
    ]
    ft = report.get("features")
    if ft:
        lines.append(
            f"features ({ft['network']}): sample median {ft['sample_nn_median']:.3f}, "
            f"train median {ft['train_nn_median']:.3f}, closest pair {ft['train_closest_pair']:.3f}, "
            f"closer: {ft['fraction_closer_than_closest_pair']:.2%}"
        )
        lines.append(_yardstick(ft))
    if report["flagged"]:
        lines.append("FLAGGED: more samples near training images than new real images would be (copies or look-alikes)")
    elif report["closer_than_closest_pair"]:
        lines.append("not flagged: some samples are closer than the closest training pair, as new real images are")
    else:
        lines.append("not flagged: no sample closer than the closest training pair")
    return "\n".join(lines)
