"""PatchGAN discriminator: judges overlapping patches, returns a logit map and, on request, its features.

A patch discriminator (Isola et al. 2017) classifies every receptive-field-sized patch as real or fake; for
image-to-image heads that is what matters (local texture), it has few parameters and works at any image size.
``forward(x, return_features=True)`` also returns the activations after every block, for the feature-matching
loss term ``fm``.

Example:
    >>> import torch
    >>> from imggan.nn.discriminator import PatchDiscriminator
    >>> d = PatchDiscriminator(in_channels=4, width=16, layers=3, spectral_norm=True)
    >>> logits, feats = d(torch.zeros(2, 4, 64, 64), return_features=True)
    >>> tuple(logits.shape), len(feats)
    ((2, 1, 6, 6), 4)
"""

from __future__ import annotations

from torch import Tensor, nn

from imggan.nn.blocks import ConvBlock
from imggan.nn.spectral import maybe_sn


class PatchDiscriminator(nn.Module):
    """``layers`` stride-2 4x4 conv blocks, a stride-1 block, then a 1-channel 4x4 conv (logits).

    Args:
        in_channels: channels of D's input (image channels plus any condition, e.g. a mask).
        width: channels of the first block; doubled per block up to ``max_width``.
        layers: number of stride-2 blocks (receptive field grows with it: 3 -> 70x70 patches).
        norm: ``none`` (default; pairs with spectral norm), ``instance``, ``group`` or ``batch``.
        spectral_norm: spectral-normalise every conv.
        max_width: channel cap.
    """

    def __init__(
        self,
        in_channels: int = 3,
        width: int = 64,
        layers: int = 3,
        norm: str = "none",
        spectral_norm: bool = True,
        max_width: int = 512,
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = [ConvBlock(in_channels, width, 4, 2, norm="none", sn=spectral_norm)]
        channels = width
        for _ in range(layers - 1):
            nxt = min(channels * 2, max_width)
            blocks.append(ConvBlock(channels, nxt, 4, 2, norm=norm, sn=spectral_norm))
            channels = nxt
        nxt = min(channels * 2, max_width)
        blocks.append(ConvBlock(channels, nxt, 4, 1, norm=norm, sn=spectral_norm))
        self.blocks = nn.ModuleList(blocks)
        self.head = maybe_sn(nn.Conv2d(nxt, 1, 4, 1, 1), spectral_norm)

    def forward(self, x: Tensor, return_features: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        logits = self.head(x)
        return (logits, features) if return_features else logits
