"""Unpaired translation for the core trainer: CUT (default) and CycleGAN wrapped as one G and one D.

The trainer plays one generator against one critic, so each method is packaged to fit:

* :class:`CUTModel` holds the generator (a :class:`~imggan_style.models.StyleNet`) and the PatchNCE heads.
  :meth:`CUTModel.step` translates A -> B and, when gradients are on, computes PatchNCE between the input's
  and the output's encoder features (and between B and G(B), CUT's identity term); the loss travels to the
  ``cut_nce`` term in ``batch["nce"]``.
* :class:`CycleModel` holds G_ab and G_ba; :meth:`CycleModel.step` returns ``[G_ab(A); G_ba(B)]`` and puts
  the cycle and identity L1 losses in the batch (terms ``cycle_l1``, ``cycle_identity``). The recipe's
  objective lists the terms of both methods; those of the other method are zero.
* :class:`DomainCritics` routes each image to the critic of its domain by a flag channel that
  :func:`condition` appends (0 = domain B, 1 = domain A). With CycleGAN, :func:`condition` also swaps half
  of the critic's fakes for older ones from a 50-image history buffer (Shrivastava et al. 2017), which
  steadies the critics.

Example:
    >>> import torch
    >>> from imggan_style.translate import CUTModel
    >>> model = CUTModel((8, 8, 8), 1)
    >>> batch = {"a": torch.rand(2, 3, 32, 32), "b": torch.rand(2, 3, 32, 32)}
    >>> tuple(model.step(batch).shape), float(batch["nce"].detach()) > 0
    ((2, 3, 32, 32), True)
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import Tensor, nn

from imggan.train.losses import LossContext, LossTerm
from imggan_style.losses import patch_nce
from imggan_style.models import PatchCritic, PatchNCEHeads, StyleNet


class CUTModel(nn.Module):
    """CUT's generator and its PatchNCE projection heads."""

    def __init__(self, widths: Any = (16, 32, 48), blocks: int = 3, nce_dim: int = 128, patches: int = 256) -> None:
        super().__init__()
        self.net = StyleNet(widths, blocks)
        self.heads = PatchNCEHeads(self.net.feature_channels, nce_dim)
        self.patches = patches

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def nce(self, source: Tensor, output: Tensor) -> Tensor:
        """PatchNCE between G's encoder features of ``source`` and of ``output``."""
        return patch_nce(self.net.features(output), self.net.features(source), self.heads, self.patches)

    def step(self, batch: dict[str, Any]) -> Tensor:
        """A -> B fakes; with gradients on, also ``batch["nce"]`` (PatchNCE on A and on B's identity)."""
        fake = self.net(batch["a"])
        if torch.is_grad_enabled():
            identity = self.net(batch["b"])
            batch["nce"] = 0.5 * (self.nce(batch["a"], fake) + self.nce(batch["b"], identity))
        return fake

    def export_module(self) -> nn.ModuleDict:
        """What is exported: the generator as the ``a2b`` way (the heads stay behind)."""
        return nn.ModuleDict({"a2b": self.net})


class CycleModel(nn.Module):
    """CycleGAN's two generators."""

    def __init__(self, widths: Any = (16, 32, 48), blocks: int = 3) -> None:
        super().__init__()
        self.a2b = StyleNet(widths, blocks)
        self.b2a = StyleNet(widths, blocks)

    def forward(self, x: Tensor) -> Tensor:
        return self.a2b(x)

    def step(self, batch: dict[str, Any]) -> Tensor:
        """``[G_ab(A); G_ba(B)]``; with gradients on, also the cycle and identity L1 losses in the batch."""
        a, b = batch["a"], batch["b"]
        fake_b, fake_a = self.a2b(a), self.b2a(b)
        if torch.is_grad_enabled():
            batch["cycle"] = (self.b2a(fake_b) - a).abs().mean() + (self.a2b(fake_a) - b).abs().mean()
            batch["identity"] = (self.a2b(b) - b).abs().mean() + (self.b2a(a) - a).abs().mean()
        return torch.cat([fake_b, fake_a])

    def export_module(self) -> nn.ModuleDict:
        """What is exported: both generators, as the ``a2b`` and ``b2a`` ways."""
        return nn.ModuleDict({"a2b": self.a2b, "b2a": self.b2a})


def real_images(batch: dict[str, Any]) -> Tensor:
    """What the critics see as real: B (CUT), or ``[B; A]`` in the order of :meth:`CycleModel.step`."""
    if "real" not in batch:
        batch["real"] = torch.cat([batch["b"], batch["a"]]) if batch.get("cyclegan") else batch["b"]
    return batch["real"]


class ImagePool:
    """A history of up to ``size`` fakes; each query returns, per image, the new one or (p = 0.5) an old one."""

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        self.size = size
        self.images: list[Tensor] = []
        self.rng = random.Random(seed)

    def query(self, images: Tensor) -> Tensor:
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif self.rng.random() < 0.5:
                i = self.rng.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


_POOLS: dict[int, ImagePool] = {}


def condition(batch: dict[str, Any], images: Tensor) -> Tensor:
    """Append the domain flag channel; for CycleGAN route the critic's fakes through the history buffer.

    The critic's own step hands over detached fakes (no gradient, not the batch's reals); only those are
    swapped with buffered ones, so the generator's adversarial term always sees its current output.
    """
    n = batch["a"].shape[0]
    cyclegan = bool(batch.get("cyclegan"))
    if cyclegan and images is not batch.get("real") and not images.requires_grad:
        pool = _POOLS.setdefault(0, ImagePool())
        images = torch.cat([pool.query(images[:n]), pool.query(images[n:])]) if len(images) == 2 * n else images
    flag = torch.zeros(images.shape[0], 1, *images.shape[2:], device=images.device, dtype=images.dtype)
    if cyclegan and images.shape[0] == 2 * n:
        flag[n:] = 1.0  # second half: domain A
    return torch.cat([images, flag], 1)


class DomainCritics(nn.Module):
    """Critic of domain B (and, for CycleGAN, of domain A) chosen per image by the flag channel."""

    def __init__(self, width: int = 32, layers: int = 3, mode: str = "cut") -> None:
        super().__init__()
        self.b = PatchCritic(width, layers)
        self.a = PatchCritic(width, layers) if mode == "cyclegan" else None

    def forward(self, x: Tensor) -> Tensor:
        images, flag = x[:, :3], x[:, 3:4, 0, 0].flatten() > 0.5
        if self.a is None or not bool(flag.any()):
            return self.b(images)
        if bool(flag.all()):
            return self.a(images)
        out_b, out_a = self.b(images[~flag]), self.a(images[flag])
        out = out_b.new_empty(images.shape[0], *out_b.shape[1:])
        out[~flag], out[flag] = out_b, out_a
        return out


def _cycle(ctx: LossContext) -> Tensor:
    return ctx.batch["cycle"] if "cycle" in ctx.batch else ctx.fake.new_zeros(())


def _identity(ctx: LossContext) -> Tensor:
    return ctx.batch["identity"] if "identity" in ctx.batch else ctx.fake.new_zeros(())


CYCLE_TERMS: tuple[LossTerm, ...] = (
    LossTerm("cycle_l1", "CycleGAN's cycle consistency: L1 of A -> B -> A and B -> A -> B.", _cycle),
    LossTerm("cycle_identity", "CycleGAN's identity term: L1 of G_ab(B) - B and G_ba(A) - A.", _identity),
)
