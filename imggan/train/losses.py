"""Named generator loss terms: the pieces of the multi-objective ``--loss adv=1,l1=10``.

The generator's objective is a weighted sum of terms. Each term is a :class:`LossTerm` registered through
the ``register_losses`` hook; it receives a :class:`LossContext` holding everything the trainer computed
this step (the batch, G's output, the target, D's logits and feature maps) and returns a scalar tensor.
Every term is logged separately (``g/<name>``) along with the weighted total.

Built-in terms (registered by ``imggan.builtin.training``):
``adv`` the generator side of the configured ``gan_loss``; ``l1``, ``l2`` pixel reconstruction; ``ssim``
(1 - SSIM, kornia, images in [0, 1]); ``fm`` feature matching (L1 between D's feature maps on the fake and
on the real, as in pix2pixHD).

This module does not import torch at import time, so registering terms keeps ``imggan --help`` fast.

Example (a head's own term):
    >>> from imggan.train.losses import LossContext, LossTerm
    >>> def hole_l1(ctx: LossContext):
    ...     mask = ctx.batch["mask"]
    ...     return ((ctx.fake - ctx.real).abs() * mask).sum() / mask.sum().clamp_min(1)
    >>> term = LossTerm("hole_l1", "L1 inside the hole only.", hole_l1)
    >>> term.needs_discriminator
    False
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor


@dataclass
class LossContext:
    """What a loss term may look at, for one generator step.

    Attributes:
        batch: the prepared batch (on the device).
        fake: G's output for the batch.
        real: the target (``recipe.real(batch)``), same shape as ``fake`` for reconstruction terms.
        d_fake: D's logits on the conditioned, augmented fake; ``None`` when no discriminator runs.
        d_fake_features: D's feature maps on that input (when D supports ``return_features``), else ``None``.
        d_real_features: D's feature maps on the conditioned, augmented real (computed without gradients,
            only when an active term sets ``needs_real_features``), else ``None``.
        gan_loss: the configured adversarial loss name (``nonsaturating``, ``hinge``, ...).
        config: the merged training config (read-only by convention).
        step: the current training step.
    """

    batch: dict[str, Any]
    fake: Tensor
    real: Tensor
    d_fake: Tensor | None = None
    d_fake_features: list[Tensor] | None = None
    d_real_features: list[Tensor] | None = None
    gan_loss: str = "nonsaturating"
    config: dict[str, Any] = field(default_factory=dict)
    step: int = 0


@dataclass(frozen=True)
class LossTerm:
    """A named generator loss term.

    Attributes:
        name: the name used in ``--loss name=weight`` and in the logs.
        help: one line for ``imggan train TASK --help``.
        fn: ``LossContext -> scalar tensor``.
        needs_discriminator: the term reads D's outputs (``d_fake``/features); the trainer runs D in the
            G step only when some active term says so.
        needs_real_features: the term reads ``d_real_features`` (an extra D pass on reals, no gradients).
    """

    name: str
    help: str
    fn: Callable[[LossContext], Tensor]
    needs_discriminator: bool = False
    needs_real_features: bool = False


def adversarial(ctx: LossContext) -> Tensor:
    """The generator side of ``ctx.gan_loss`` on ``ctx.d_fake``."""
    from imggan.train.gan_losses import get_gan_loss

    if ctx.d_fake is None:
        raise ValueError("the adv term needs a discriminator; the recipe has none")
    return get_gan_loss(ctx.gan_loss).g_loss(ctx.d_fake.float())


def l1(ctx: LossContext) -> Tensor:
    """Mean absolute error between fake and real."""
    return (ctx.fake.float() - ctx.real.float()).abs().mean()


def l2(ctx: LossContext) -> Tensor:
    """Mean squared error between fake and real."""
    return (ctx.fake.float() - ctx.real.float()).square().mean()


def ssim(ctx: LossContext) -> Tensor:
    """``1 - SSIM`` (11x11 Gaussian window, kornia) of NxCxHxW images in [0, 1]."""
    from kornia.losses import ssim_loss

    # kornia's ssim_loss is (1 - SSIM) / 2; doubling gives the usual 1 - SSIM.
    return 2.0 * ssim_loss(ctx.fake.float(), ctx.real.float(), window_size=11, max_val=1.0)


def feature_matching(ctx: LossContext) -> Tensor:
    """Mean over D's layers of the L1 distance between feature maps on fake and on real."""
    if not ctx.d_fake_features or not ctx.d_real_features:
        raise ValueError("the fm term needs a discriminator that returns features (return_features=True)")
    total = None
    for fake, real in zip(ctx.d_fake_features, ctx.d_real_features, strict=True):
        term = (fake.float() - real.detach().float()).abs().mean()
        total = term if total is None else total + term
    return total / len(ctx.d_fake_features)


BUILTIN_TERMS: tuple[LossTerm, ...] = (
    LossTerm("adv", "Adversarial term: the generator side of --set gan_loss=...", adversarial, True),
    LossTerm("l1", "Mean absolute error to the target.", l1),
    LossTerm("l2", "Mean squared error to the target.", l2),
    LossTerm("ssim", "1 - SSIM to the target (kornia, 11x11 window, images in [0, 1]).", ssim),
    LossTerm(
        "fm",
        "Feature matching: L1 between D's feature maps on fake and real.",
        feature_matching,
        needs_discriminator=True,
        needs_real_features=True,
    ),
)
