"""Spectral normalisation of a discriminator's layers (Miyato et al. 2018).

Dividing each weight by its largest singular value bounds every layer's Lipschitz constant by 1, which keeps
D's gradients to G informative and its training stable. The trainer applies it to a recipe's D when the
config says ``spectral_norm = true``; :class:`~imggan.nn.discriminator.PatchDiscriminator` can also build
with it directly.

Example:
    >>> import torch
    >>> from imggan.nn.spectral import apply_spectral_norm, is_spectral_normed
    >>> d = apply_spectral_norm(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 1)))
    >>> is_spectral_normed(d[0])
    True
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

NORMED_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)


def is_spectral_normed(module: nn.Module) -> bool:
    """True when ``module.weight`` is already spectral-normalised (parametrization or the older hook API)."""
    if "weight_orig" in module._parameters:  # torch.nn.utils.spectral_norm (hook-based, deprecated)
        return True
    if not parametrize.is_parametrized(module, "weight"):
        return False
    return any(type(p).__name__ == "_SpectralNorm" for p in module.parametrizations["weight"])


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Wrap the weight of every linear/conv layer under ``module`` in spectral norm (in place, idempotent).

    Layers already normalised (either API) and layers without a plain ``weight`` parameter are left alone.
    """
    for sub in list(module.modules()):
        if not isinstance(sub, NORMED_TYPES) or is_spectral_normed(sub):
            continue
        if isinstance(sub._parameters.get("weight"), nn.Parameter) or parametrize.is_parametrized(sub, "weight"):
            spectral_norm(sub)
    return module


def maybe_sn(layer: nn.Module, enabled: bool) -> nn.Module:
    """``layer`` with spectral norm when ``enabled``."""
    return spectral_norm(layer) if enabled else layer
