"""The adversarial losses: both sides of each GAN objective, and the gradient penalties.

Every loss takes D's raw outputs (logits, any shape: a PatchGAN map is averaged over all its elements).
With ``s`` the logistic sigmoid, ``D(x) = s(logit)`` is the article's "probability that x is real":

================  ==========================================  ==========================================
name              discriminator minimises                     generator minimises
================  ==========================================  ==========================================
``minimax``       -log D(x) - log(1 - D(G(z)))                log(1 - D(G(z)))   (the article's game)
``nonsaturating`` same as minimax                             -log D(G(z))       (same fixed point,
                                                                                  strong early gradients)
``hinge``         relu(1 - l_real) + relu(1 + l_fake)         -l_fake
``lsgan``         ((l_real - 1)^2 + l_fake^2) / 2             (l_fake - 1)^2 / 2
``wgan-gp``       l_fake - l_real (+ gradient penalty)        -l_fake
================  ==========================================  ==========================================

The log terms are written with ``softplus`` (``-log s(l) = softplus(-l)``, ``-log(1 - s(l)) = softplus(l)``)
so they never take the log of a rounded-to-zero probability.

Example:
    >>> import torch
    >>> from imggan.train.gan_losses import get_gan_loss
    >>> hinge = get_gan_loss("hinge")
    >>> float(hinge.d_loss(torch.tensor([2.0]), torch.tensor([-2.0])))
    0.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class GanLoss:
    """One adversarial objective.

    Attributes:
        name: the ``gan_loss`` config value.
        d_loss: ``(logits on reals, logits on fakes) -> scalar`` that D minimises.
        g_loss: ``logits on fakes -> scalar`` that G minimises.
        gradient_penalty: the objective needs the WGAN-GP penalty on interpolates in the D step.
        threshold: logit value that separates "real" from "fake" decisions (for D's accuracy).
    """

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    gradient_penalty: bool = False
    threshold: float = 0.0


def _logistic_d(real: Tensor, fake: Tensor) -> Tensor:
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def _minimax_g(fake: Tensor) -> Tensor:
    # log(1 - s(l)) = -softplus(l): G minimises it, i.e. pushes D(G(z)) toward 1.
    return -F.softplus(fake).mean()


def _nonsaturating_g(fake: Tensor) -> Tensor:
    return F.softplus(-fake).mean()


def _hinge_d(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _mean_neg(fake: Tensor) -> Tensor:
    return -fake.mean()


def _lsgan_d(real: Tensor, fake: Tensor) -> Tensor:
    return 0.5 * ((real - 1.0).square().mean() + fake.square().mean())


def _lsgan_g(fake: Tensor) -> Tensor:
    return 0.5 * (fake - 1.0).square().mean()


def _wgan_d(real: Tensor, fake: Tensor) -> Tensor:
    return fake.mean() - real.mean()


GAN_LOSSES: dict[str, GanLoss] = {
    loss.name: loss
    for loss in (
        GanLoss("minimax", _logistic_d, _minimax_g),
        GanLoss("nonsaturating", _logistic_d, _nonsaturating_g),
        GanLoss("hinge", _hinge_d, _mean_neg),
        GanLoss("lsgan", _lsgan_d, _lsgan_g, threshold=0.5),
        GanLoss("wgan-gp", _wgan_d, _mean_neg, gradient_penalty=True),
    )
}
ALIASES = {"non-saturating": "nonsaturating", "ns": "nonsaturating", "wgan": "wgan-gp", "ls": "lsgan"}


def get_gan_loss(name: str) -> GanLoss:
    """Look up an adversarial objective by name (aliases: ``non-saturating``, ``ns``, ``wgan``, ``ls``).

    Raises:
        KeyError: an unknown name; the message lists the known ones.
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key not in GAN_LOSSES:
        raise KeyError(f"unknown gan_loss {name!r}; known: {', '.join(GAN_LOSSES)}")
    return GAN_LOSSES[key]


def _per_sample_sq_norm(grad: Tensor) -> Tensor:
    return grad.reshape(grad.shape[0], -1).square().sum(1)


def r1_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1: the mean over samples of ``|| d D(x) / d x ||^2`` on reals (Mescheder et al. 2018).

    The caller weights it by ``gamma / 2`` (times the lazy interval). The graph is kept so the penalty can be
    back-propagated into D's parameters.

    Args:
        discriminator: maps D's input to logits.
        real: D's input on real data (already conditioned and augmented); not modified.
    """
    x = real.detach().requires_grad_(True)
    logits = discriminator(x)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return _per_sample_sq_norm(grad).mean()


def gradient_penalty(
    discriminator: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP: ``mean((|| d D(x_hat) / d x_hat || - 1)^2)`` on random interpolates of real and fake.

    Args:
        discriminator: maps D's input to logits.
        real, fake: D's inputs of the same shape; the interpolation weight is drawn per sample.
        generator: random generator for the interpolation weights (default: torch's global one).
    """
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)
    x = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    logits = discriminator(x)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    norm = _per_sample_sq_norm(grad).add(1e-12).sqrt()
    return (norm - 1.0).square().mean()


def d_accuracy(real: Tensor, fake: Tensor, threshold: float = 0.0) -> Tensor:
    """Fraction of D's decisions that are right (real above ``threshold``, fake below), as a tensor."""
    right = (real.detach() > threshold).float().mean() + (fake.detach() < threshold).float().mean()
    return right / 2


def call_discriminator(discriminator: nn.Module, x: Tensor, features: bool) -> tuple[Tensor, list[Tensor] | None]:
    """Run D, asking for its intermediate feature maps when ``features`` is true.

    A discriminator that supports feature matching takes ``return_features=True`` and returns
    ``(logits, [feature maps])``; any other D is called plainly and ``None`` is returned for the features.
    """
    if features:
        out = discriminator(x, return_features=True)
        if isinstance(out, tuple):
            return out[0], list(out[1])
        return out, None
    out = discriminator(x)
    if isinstance(out, tuple):  # a D that always returns its features
        return out[0], list(out[1])
    return out, None
