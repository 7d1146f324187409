"""Loss terms of the style head, registered with the core trainer (``--loss style_swd=1,...``).

* ``style_swd``: sliced Wasserstein distance between the 7x7 patches of G's output and of the reference
  crops in ``batch["style"]``, at two octaves (:func:`imggan_style.swd.multiscale_patch_swd`).
* ``style_content``: mean squared difference of the low-passed, standardised luminance of G's output and
  of its input ``batch["content"]`` (:func:`imggan_style.optimize.structure`): shapes kept, colour free.
* ``cut_nce``: CUT's PatchNCE loss, computed by the translate recipe's ``generate`` (it needs G's own
  encoder) and handed over in ``batch["nce"]``.

Example:
    >>> import torch
    >>> from imggan.train.losses import LossContext
    >>> from imggan_style.losses import content_term
    >>> x = torch.rand(2, 3, 32, 32)
    >>> float(content_term(LossContext(batch={"content": x}, fake=x, real=x)))
    0.0
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from imggan.train.losses import LossContext, LossTerm


def style_term(ctx: LossContext) -> torch.Tensor:
    """Two-octave patch SWD between ``ctx.fake`` and the reference crops ``batch["style"]``."""
    from imggan_style.swd import multiscale_patch_swd

    count = int(ctx.config.get("swd_patches", 1024))
    projections = int(ctx.config.get("swd_projections", 64))
    return multiscale_patch_swd(ctx.fake.float(), ctx.batch["style"].float(), 2, count, projections)


def content_term(ctx: LossContext) -> torch.Tensor:
    """Structure (low-passed standardised luminance) of ``ctx.fake`` against ``batch["content"]``."""
    from imggan_style.optimize import structure

    return (structure(ctx.fake.float()) - structure(ctx.batch["content"].float())).square().mean()


def nce_term(ctx: LossContext) -> torch.Tensor:
    """The PatchNCE loss the translate recipe computed with G's encoder (``batch["nce"]``)."""
    if "nce" in ctx.batch:
        return ctx.batch["nce"]
    if "a" in ctx.batch:  # the translate recipe in CycleGAN mode: no PatchNCE
        return ctx.fake.new_zeros(())
    raise ValueError("cut_nce needs the translate recipe (its generate step computes the PatchNCE loss)")


def patch_nce(
    features_q: list[torch.Tensor],
    features_k: list[torch.Tensor],
    heads: Any,
    patches: int = 256,
    temperature: float = 0.07,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """CUT's PatchNCE: each output location should match the input's feature at the same place, not others.

    Args:
        features_q: encoder features of G's output (queries), one tensor per layer.
        features_k: encoder features of G's input (positive and negative keys), same shapes.
        heads: :class:`imggan_style.models.PatchNCEHeads`.
        patches: locations sampled per layer and image (negatives come from the same image).
        temperature: softmax temperature.
        generator: source of the sampled locations.

    Returns:
        The mean cross-entropy over layers, images and locations.
    """
    total = features_q[0].new_zeros(())
    for layer, (fq, fk) in enumerate(zip(features_q, features_k, strict=True)):
        n, c, h, w = fq.shape
        count = min(patches, h * w)
        pick = torch.randperm(h * w, generator=generator)[:count].to(fq.device)
        q = heads(layer, fq.flatten(2)[:, :, pick].permute(0, 2, 1).reshape(-1, c))
        k = heads(layer, fk.flatten(2)[:, :, pick].permute(0, 2, 1).reshape(-1, c)).detach()
        q, k = q.view(n, count, -1), k.view(n, count, -1)
        logits = torch.bmm(q, k.transpose(1, 2)) / temperature  # n x count x count: diagonal = positives
        target = torch.arange(count, device=fq.device).expand(n, count)
        total = total + F.cross_entropy(logits.reshape(n * count, count), target.reshape(-1))
    return total / len(features_q)


TERMS: tuple[LossTerm, ...] = (
    LossTerm("style_swd", "Sliced Wasserstein distance of 7x7 patches to the reference (two octaves).", style_term),
    LossTerm("style_content", "Low-passed luminance structure of the output against its input photo.", content_term),
    LossTerm("cut_nce", "CUT's PatchNCE loss on G's own encoder features (translate recipe).", nce_term),
)
