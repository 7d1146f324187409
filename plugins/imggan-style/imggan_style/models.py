"""The networks of the style head: a small feed-forward image-to-image net, PatchNCE heads, a patch critic.

:class:`StyleNet` serves both trained styles (``imggan train style``) and unpaired translation (``imggan
train translate``): a 5x5 stem, two stride-2 convolutions, residual blocks at a quarter of the
resolution, two nearest-neighbour upsampling convolutions and a 5x5 head, instance-normalised (styles are
statistics of whole images, which instance norm exposes). About 170k parameters at the default widths,
so a 512x512 image takes a fraction of a second on a CPU. Inputs of any size are padded (reflect) to a
multiple of 4 and the output cropped back, so rectangular and odd sizes come out at their own size.

:class:`PatchNCEHeads` are CUT's small MLPs that project :meth:`StyleNet.features` before the contrastive
loss (:func:`imggan_style.losses.patch_nce`).

Example:
    >>> import torch
    >>> from imggan_style.models import StyleNet
    >>> net = StyleNet()
    >>> tuple(net(torch.rand(1, 3, 37, 50)).shape)
    (1, 3, 37, 50)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

STYLE_NET_ARCH: dict[str, Any] = {"name": "style-net", "widths": [16, 32, 48], "blocks": 3}


def _norm(channels: int) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True)


class _Res(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            _norm(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            _norm(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, padding=k // 2, padding_mode="reflect"), _norm(cout), nn.ReLU(inplace=True)
    )


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = _conv(cin, cout, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class StyleNet(nn.Module):
    """Feed-forward RGB -> RGB network (images in [0, 1]); see the module docstring.

    Args:
        widths: channels at full, half and quarter resolution.
        blocks: residual blocks at quarter resolution.
    """

    def __init__(self, widths: tuple[int, int, int] | list[int] = (16, 32, 48), blocks: int = 3) -> None:
        super().__init__()
        w1, w2, w3 = (int(w) for w in widths)
        self.stem = _conv(3, w1, 5)
        self.down1 = _conv(w1, w2, 3, 2)
        self.down2 = _conv(w2, w3, 3, 2)
        self.res = nn.ModuleList(_Res(w3) for _ in range(int(blocks)))
        self.up1 = _Up(w3, w2)
        self.up2 = _Up(w2, w1)
        self.head = nn.Conv2d(w1, 3, 5, padding=2, padding_mode="reflect")
        self.feature_channels = [w1, w2, w3, w3]

    def _pad(self, x: Tensor) -> tuple[Tensor, int, int]:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        return x, h, w

    def features(self, x: Tensor) -> list[Tensor]:
        """Encoder feature maps used by PatchNCE: stem, both downsamplings, the first residual block."""
        x, _, _ = self._pad(x * 2 - 1)
        f1 = self.stem(x)
        f2 = self.down1(f1)
        f3 = self.down2(f2)
        f4 = self.res[0](f3) if len(self.res) else f3
        return [f1, f2, f3, f4]

    def forward(self, x: Tensor) -> Tensor:
        """RGB in [0, 1] -> RGB in [0, 1], same size."""
        x, h, w = self._pad(x * 2 - 1)
        y = self.down2(self.down1(self.stem(x)))
        for block in self.res:
            y = block(y)
        y = self.head(self.up2(self.up1(y)))
        return ((torch.tanh(y) + 1) / 2)[..., :h, :w]


class PatchNCEHeads(nn.Module):
    """One two-layer MLP per feature layer, projecting sampled feature vectors for PatchNCE (CUT)."""

    def __init__(self, channels: list[int], dim: int = 128) -> None:
        super().__init__()
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(c, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim)) for c in channels
        )

    def forward(self, index: int, vectors: Tensor) -> Tensor:
        """L2-normalised projection of ``vectors`` (N x C) by the ``index``-th head."""
        return F.normalize(self.mlps[index](vectors), dim=1)


class PatchCritic(nn.Module):
    """A small PatchGAN critic (logits per ~30x30 patch) on RGB in [0, 1]."""

    def __init__(self, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        modules: list[nn.Module] = []
        cin = 3
        for i in range(layers):
            cout = width * 2**i
            modules += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            cin = cout
        modules.append(nn.Conv2d(cin, 1, 3, 1, 1))
        self.net = nn.Sequential(*modules)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x * 2 - 1)


def build_style_net(arch: dict[str, Any]) -> StyleNet:
    """A :class:`StyleNet` from a card's ``arch`` dict (``name`` ``style-net``)."""
    if arch.get("name") != "style-net":
        raise ValueError(f"not a style-net architecture: {arch}")
    return StyleNet(arch.get("widths", STYLE_NET_ARCH["widths"]), arch.get("blocks", STYLE_NET_ARCH["blocks"]))


def build_stylize_net(arch: dict[str, Any]) -> nn.Module:
    """The network a ``stylize`` card's ``arch`` names: a trained style or a translation's generators.

    ``style-net``: one :class:`StyleNet`. ``style-translate``: an ``nn.ModuleDict`` with one
    :class:`StyleNet` per way in ``arch["directions"]`` (``a2b``; ``b2a`` too for CycleGAN), so the tensors
    are named ``a2b.*`` / ``b2a.*``.

    Example:
        >>> net = build_stylize_net({"name": "style-translate", "widths": [8, 8, 8], "blocks": 1,
        ...                          "directions": ["a2b", "b2a"]})
        >>> sorted(net.keys())
        ['a2b', 'b2a']
    """
    if arch.get("name") == "style-translate":
        directions = list(arch.get("directions") or ["a2b"])
        net_arch = {**arch, "name": "style-net"}
        return nn.ModuleDict({way: build_style_net(net_arch) for way in directions})
    return build_style_net(arch)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())
