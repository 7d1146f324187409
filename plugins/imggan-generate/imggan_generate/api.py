"""Python functions mirroring ``imggan generate``: load a generator, draw samples, walk and explore its latents.

Latents are tied to seeds: sample ``i`` of ``generate(n, seed=S)`` uses the latent drawn from seed ``S + i``
(``torch.randn`` with its own generator), so one seed names one image everywhere: ``--seed 7 -n 1``, the
first image of ``--seed 7 -n 10`` and the endpoint of ``--interpolate 7,9`` are the same picture. Samples are
computed one at a time (batch norm runs in eval mode), so the result does not depend on how many are asked for.

Example:
    >>> from imggan_generate.api import load_generator, generate
    >>> model = load_generator("digits")
    >>> images = generate(model, 3, label=5, seed=0)
    >>> images.shape
    (3, 16, 16, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from imggan.errors import ImgganError


@dataclass
class LoadedGenerator:
    """A generator ready to sample, with its card.

    Attributes:
        net: the generator in eval mode.
        card: its JSON model card.
        name: registered name or file stem.
        z_dim: latent size.
        num_classes: 0 for an unconditional model.
        class_names: the name of each class.
    """

    net: nn.Module
    card: dict[str, Any]
    name: str
    z_dim: int
    num_classes: int
    class_names: list[str] = field(default_factory=list)

    @property
    def device(self) -> torch.device:
        """Where the weights live."""
        return next(self.net.parameters()).device

    @property
    def resolution(self) -> int:
        """Output side in pixels."""
        return int(self.card["arch"]["resolution"])


def load_generator(model: str | Path | None = None, device: str | torch.device = "cpu") -> LoadedGenerator:
    """Load a generator: a registered name (``digits``, ``faces``), a ``.safetensors`` path, a training run
    folder (its ``export/generate.safetensors``) or the default.

    The core's :func:`imggan.modelcache.load_network` resolves and checks the file and its card and keeps
    the network loaded once per file and device.

    Raises:
        ModelNotFoundError / ModelLoadError: no such model, or one line naming the file when it is no
            generation model (a checkpoint, another task's model, a bad card, tensors that do not fit).
    """
    from imggan.device import resolve_device
    from imggan.modelcache import load_network
    from imggan_generate.models import build_generator
    from imggan_generate.zoo import ARCHS

    dev = resolve_device(str(device)) if isinstance(device, str) else device
    loaded = load_network("generate", None if model is None else str(model), build_generator, archs=ARCHS, device=dev)
    arch = loaded.card["arch"]
    classes = int(arch.get("num_classes") or 0)
    names = list(loaded.card.get("class_names") or [str(i) for i in range(classes)])
    return LoadedGenerator(loaded.net, loaded.card, loaded.name, int(arch["z_dim"]), classes, names)


def latent(seed: int, z_dim: int) -> Tensor:
    """The latent of ``seed``: a standard normal vector from its own generator."""
    return torch.randn(z_dim, generator=torch.Generator().manual_seed(int(seed)))


def latents(seeds: list[int] | np.ndarray, z_dim: int) -> Tensor:
    """One latent per seed, stacked (N x z_dim)."""
    return torch.stack([latent(int(s), z_dim) for s in seeds]) if len(seeds) else torch.zeros(0, z_dim)


def resolve_labels(model: LoadedGenerator, n: int, label: int | str | None, seed: int = 0) -> Tensor | None:
    """Labels for ``n`` samples from seeds ``seed ..``: ``label`` (an index or a class name) for all, else
    class ``s % num_classes`` for seed ``s`` (so a seed names one image, class included).

    Raises:
        ImgganError: ``label`` on an unconditional model, or an unknown class.
    """
    if not model.num_classes:
        if label is not None:
            raise ImgganError(f"--label: model {model.name!r} is unconditional (it has no classes)")
        return None
    if label is None:
        return (torch.arange(n) + int(seed)) % model.num_classes
    text = str(label)
    if text in model.class_names:
        index = model.class_names.index(text)
    elif text.lstrip("-").isdigit():
        index = int(text)
    else:
        raise ImgganError(f"--label {label}: unknown class; classes: {', '.join(model.class_names)}")
    if not 0 <= index < model.num_classes:
        raise ImgganError(f"--label {label}: the model has classes 0..{model.num_classes - 1}")
    return torch.full((n,), index, dtype=torch.long)


@torch.no_grad()
def run_generator(
    net: nn.Module, z: Tensor, labels: Tensor | None = None, batch_size: int = 1, features: bool = False
) -> Tensor:
    """G's output (N x C x H x W in [-1, 1], on the CPU) for latents ``z`` (or first-layer ``features``).

    ``batch_size`` 1 (the default) makes every sample independent of the others bit for bit.
    """
    device = next(net.parameters()).device
    outs = []
    for i in range(0, len(z), batch_size):
        part = z[i : i + batch_size].to(device)
        lab = None if labels is None else labels[i : i + batch_size].to(device)
        outs.append((net.from_features(part, lab) if features else net(part, lab)).float().cpu())
    return torch.cat(outs)


def draw_samples(
    net: nn.Module,
    count: int,
    seed: int = 0,
    labels: Tensor | None = None,
    truncation: float = 1.0,
    batch_size: int = 256,
) -> Tensor:
    """``count`` samples of ``net`` in batches (fast; for metrics and audits), latents from seeds ``seed + i``."""
    z_dim = int(net.z_dim)
    was_training = net.training
    net.eval()
    try:
        z = latents(list(range(seed, seed + count)), z_dim) * float(truncation)
        return run_generator(net, z, labels, batch_size=batch_size)
    finally:
        net.train(was_training)


def to_uint8(images: Tensor) -> np.ndarray:
    """N x C x H x W in [-1, 1] -> uint8 N x H x W x C (RGB or grey)."""
    array = images.float().add(1.0).mul(127.5).round().clamp(0, 255).byte().numpy()
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1))


def generate(
    model: LoadedGenerator, n: int, label: int | str | None = None, seed: int = 0, truncation: float = 1.0
) -> np.ndarray:
    """``n`` images (uint8 N x H x W x C, RGB or grey) from seeds ``seed .. seed + n - 1``.

    Args:
        label: a class index or name for every image; ``None`` cycles through the classes.
        truncation: the latents are scaled by ``psi`` (< 1 trades variety for typical, cleaner samples).
    """
    if n < 1:
        raise ImgganError(f"-n {n}: ask for at least one image")
    if not 0.0 < truncation <= 2.0:
        raise ImgganError(f"--truncation {truncation}: use a value in (0, 2] (1 = none)")
    z = latents(list(range(seed, seed + n)), model.z_dim) * truncation
    return to_uint8(run_generator(model.net, z, resolve_labels(model, n, label, seed)))


def slerp(a: Tensor, b: Tensor, t: float) -> Tensor:
    """Spherical interpolation between latents (Gaussian latents keep their norm along the arc)."""
    if t <= 0.0:
        return a.clone()
    if t >= 1.0:
        return b.clone()
    cos = torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-4:
        return (1.0 - t) * a + t * b
    return (torch.sin((1.0 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolate(
    model: LoadedGenerator,
    seed_a: int,
    seed_b: int,
    steps: int = 8,
    label: int | str | None = None,
    truncation: float = 1.0,
) -> np.ndarray:
    """The walk from seed ``a``'s image to seed ``b``'s in ``steps`` images (both endpoints included).

    A conditional model walks within one class: ``label``, by default seed ``a``'s class; the ends are then
    ``generate(model, 1, label, seed=a)`` and ``generate(model, 1, label, seed=b)``.
    """
    if steps < 2:
        raise ImgganError(f"--steps {steps}: an interpolation needs at least 2 images")
    a, b = latent(seed_a, model.z_dim), latent(seed_b, model.z_dim)
    z = torch.stack([slerp(a, b, i / (steps - 1)) for i in range(steps)]) * truncation
    labels = resolve_labels(model, 1, label, seed_a)
    labels = None if labels is None else labels.expand(steps).clone()
    return to_uint8(run_generator(model.net, z, labels))


@dataclass
class Exploration:
    """Principal directions of a generator's latent or first-layer feature space (GANSpace, Harkonen 2020).

    Attributes:
        space: ``features`` (G's first layer) or ``latent``.
        directions: K x D orthonormal rows (the principal axes, largest variance first).
        stddevs: the standard deviation of the samples along each direction.
        explained: fraction of the total variance each direction explains.
        images: uint8 K x S x H x W x C: row k moves one image along direction k by ``offsets`` stddevs.
        offsets: the S offsets, in stddevs.
    """

    space: str
    directions: np.ndarray
    stddevs: np.ndarray
    explained: np.ndarray
    images: np.ndarray
    offsets: np.ndarray


@torch.no_grad()
def explore(
    model: LoadedGenerator,
    components: int = 6,
    columns: int = 7,
    span: float = 2.0,
    seed: int = 0,
    label: int | str | None = None,
    space: str = "features",
    samples: int = 2000,
) -> Exploration:
    """PCA of ``samples`` first-layer feature maps (or latents), then edits of one image along each axis.

    The edit adds ``offset * stddev_k * direction_k`` to the image's features and runs the rest of G from
    there, for ``columns`` offsets evenly spread over ``[-span, span]`` stddevs.
    """
    if space not in ("features", "latent"):
        raise ImgganError(f"--explore-space {space}: use features or latent")
    if columns < 2:
        raise ImgganError(f"--steps {columns}: an exploration row needs at least 2 images")
    net = model.net
    z = latents(list(range(10_000_000, 10_000_000 + samples)), model.z_dim)
    labels = resolve_labels(model, samples, None)
    if space == "features":
        feats = torch.cat(
            [
                net.first_features(z[i : i + 256], None if labels is None else labels[i : i + 256]).flatten(1)
                for i in range(0, samples, 256)
            ]
        )
    else:
        feats = z
    x = feats.double().numpy()
    mean = x.mean(axis=0)
    _, sing, vt = np.linalg.svd(x - mean, full_matrices=False)
    k = min(components, vt.shape[0])
    variance = sing**2 / max(1, len(x) - 1)
    directions, stddevs = vt[:k], np.sqrt(variance[:k])
    explained = variance[:k] / variance.sum()
    offsets = np.linspace(-span, span, columns)
    z0 = latent(seed, model.z_dim)[None]
    lab0 = resolve_labels(model, 1, label, seed)
    base = net.first_features(z0.to(model.device), None if lab0 is None else lab0.to(model.device)).cpu()
    rows = []
    for d, s in zip(directions, stddevs, strict=True):
        step = torch.from_numpy(d * s).float()
        if space == "features":
            edits = torch.stack([base.flatten() + o * step for o in offsets]).view(columns, *base.shape[1:])
            out = run_generator(net, edits, None if lab0 is None else lab0.expand(columns).clone(), features=True)
        else:
            edits = torch.stack([z0[0] + o * step for o in offsets])
            out = run_generator(net, edits, None if lab0 is None else lab0.expand(columns).clone())
        rows.append(to_uint8(out))
    return Exploration(space, directions, stddevs, explained, np.stack(rows), offsets)
