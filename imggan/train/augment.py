"""Differentiable augmentation of D's inputs (DiffAugment) and an ADA-style probability controller.

With little data, D memorises the training set and its feedback to G becomes useless. Augmenting
*everything D sees* -- reals and fakes, in the D step and in the G step -- with the same random, differentiable
transforms keeps D from memorising while G still learns the un-augmented distribution (Zhao et al. 2020,
"Differentiable Augmentation"). Each sample is augmented with probability ``p``; the :class:`AdaController`
raises ``p`` when D grows overconfident on reals and lowers it otherwise (Karras et al. 2020, "ADA").

Built-in augmentations: ``color`` (brightness, saturation, contrast), ``translation`` (shift by up to 1/8 of
the side, zero padded, through kornia) and ``cutout`` (a zeroed square of half the side). Colour changes act
on the first three channels only, so a mask concatenated by ``recipe.condition`` keeps its values while
geometric changes move it together with the image. Inputs that are not NxCxHxW pass through unchanged.

This module does not import torch at import time (registration stays cheap).

Example:
    >>> import torch
    >>> from imggan.train.augment import BUILTIN_AUGMENTATIONS
    >>> x = torch.rand(4, 3, 16, 16)
    >>> aug = {a.name: a for a in BUILTIN_AUGMENTATIONS}
    >>> tuple(aug["translation"].fn(x, 1.0).shape)
    (4, 3, 16, 16)
    >>> bool(torch.equal(aug["cutout"].fn(x, 0.0), x))     # p = 0: untouched
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor


@dataclass(frozen=True)
class Augmentation:
    """A differentiable augmentation of D's input batch.

    Attributes:
        name: the name used in the ``augment`` config list.
        help: one line of documentation.
        fn: ``(x, p) -> x'``; each sample is transformed with probability ``p``; must be differentiable
            with respect to ``x`` and draw its randomness from torch's generator on ``x``'s device.
    """

    name: str
    help: str
    fn: Callable[[Tensor, float], Tensor]


def _chosen(x: Tensor, p: float) -> Tensor:
    """A Nx1x1x1 float mask: 1 for the samples to augment (each with probability ``p``)."""
    import torch

    return (torch.rand(x.shape[0], 1, 1, 1, device=x.device) < p).to(x.dtype)


def _with_color(x: Tensor, change: Callable[[Tensor], Tensor]) -> Tensor:
    import torch

    k = min(3, x.shape[1])
    if k == x.shape[1]:
        return change(x)
    return torch.cat([change(x[:, :k]), x[:, k:]], dim=1)


def color(x: Tensor, p: float) -> Tensor:
    """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5), per sample."""
    import torch

    if x.ndim != 4 or p <= 0:
        return x
    n = x.shape[0]

    def change(rgb: Tensor) -> Tensor:
        def r() -> Tensor:
            return torch.rand(n, 1, 1, 1, device=rgb.device, dtype=rgb.dtype)

        out = rgb + (r() - 0.5)
        mean_c = out.mean(dim=1, keepdim=True)
        out = (out - mean_c) * (r() * 2.0) + mean_c
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        return (out - mean) * (r() + 0.5) + mean

    chosen = _chosen(x, p)
    return x + chosen * (_with_color(x, change) - x)


def translation(x: Tensor, p: float, ratio: float = 0.125) -> Tensor:
    """Shift each chosen sample by a random whole number of pixels up to ``ratio`` of its size; zeros enter."""
    import torch
    from kornia.geometry.transform import translate

    if x.ndim != 4 or p <= 0:
        return x
    n, _, h, w = x.shape
    max_shift = torch.tensor([w * ratio, h * ratio], device=x.device)
    shift = torch.round((torch.rand(n, 2, device=x.device) * 2 - 1) * max_shift)
    shift = shift * _chosen(x, p).view(n, 1).float()
    return translate(x, shift.to(x.dtype), mode="nearest", padding_mode="zeros", align_corners=True)


def cutout(x: Tensor, p: float, ratio: float = 0.5) -> Tensor:
    """Zero a random square of ``ratio`` times the side in each chosen sample."""
    import torch

    if x.ndim != 4 or p <= 0:
        return x
    n, _, h, w = x.shape
    ch, cw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    top = torch.randint(0, h, (n, 1, 1), device=x.device) - ch // 2
    left = torch.randint(0, w, (n, 1, 1), device=x.device) - cw // 2
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    keep = 1.0 - inside.unsqueeze(1).to(x.dtype) * _chosen(x, p)
    return x * keep


BUILTIN_AUGMENTATIONS: tuple[Augmentation, ...] = (
    Augmentation("color", "Brightness, saturation and contrast (DiffAugment), first 3 channels.", color),
    Augmentation("translation", "Shift by up to 1/8 of the size, zero padded (kornia).", translation),
    Augmentation("cutout", "Zero a random square of half the side (DiffAugment).", cutout),
)


def compose(augmentations: Sequence[Augmentation]) -> Callable[[Tensor, float], Tensor]:
    """One function applying ``augmentations`` in order, each with probability ``p``."""

    def apply(x: Tensor, p: float) -> Tensor:
        for aug in augmentations:
            x = aug.fn(x, p)
        return x

    return apply


class AdaController:
    """Adapt the augmentation probability ``p`` from the sign of D's outputs on reals (ADA).

    ``r_t = E[sign(D(real))]`` measures how overconfident D is on the training set: 0 when it cannot tell,
    1 when every real is classified real. Every ``interval`` steps, ``p`` moves by
    ``sign(r_t - target) * images_seen / (speed_kimg * 1000)``, clamped to [0, 1], so ``p`` can go from 0 to 1
    in ``speed_kimg`` thousand images.

    Args:
        target: the value of ``r_t`` to hold (0.6 in ADA).
        interval: steps between adjustments.
        speed_kimg: thousands of images for a full 0 -> 1 swing.
        p: starting probability.
    """

    def __init__(self, target: float = 0.6, interval: int = 4, speed_kimg: float = 100.0, p: float = 0.0):
        self.target = target
        self.interval = max(1, int(interval))
        self.speed_kimg = speed_kimg
        self.p = float(p)
        self.sign_sum = 0.0
        self.count = 0.0
        self.steps = 0
        self.last_rt: float | None = None

    def accumulate(self, sign_sum: float, count: float) -> None:
        """Add one step's ``sum(sign(D(real)))`` over ``count`` outputs (already summed over ranks)."""
        self.sign_sum += float(sign_sum)
        self.count += float(count)
        self.steps += 1

    def due(self) -> bool:
        """True when enough steps were accumulated for an adjustment."""
        return self.steps >= self.interval

    def adjust(self, images: int) -> float:
        """Apply one adjustment for ``images`` images seen since the last one; returns the new ``p``."""
        if self.count > 0:
            rt = self.sign_sum / self.count
            self.last_rt = rt
            step = (1.0 if rt > self.target else -1.0) * images / (self.speed_kimg * 1000.0)
            self.p = min(1.0, max(0.0, self.p + step))
        self.sign_sum = self.count = 0.0
        self.steps = 0
        return self.p

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (saved in checkpoints)."""
        return {
            "p": self.p,
            "sign_sum": self.sign_sum,
            "count": self.count,
            "steps": self.steps,
            "last_rt": self.last_rt,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output."""
        self.p = float(state["p"])
        self.sign_sum = float(state["sign_sum"])
        self.count = float(state["count"])
        self.steps = int(state["steps"])
        self.last_rt = state.get("last_rt")
