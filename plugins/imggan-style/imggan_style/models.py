"""The networks of the style head: a small feed-forward image-to-image net, PatchNCE heads, a patch critic.

:class:`StyleNet` serves both trained styles (``imggan train style``) and unpaired translation (``imggan
train translate``): a 5x5 stem, two stride-2 convolutions, residual blocks at a quarter of the
resolution, two nearest-neighbour upsampling convolutions and a 5x5 head, instance-normalised (styles are
statistics of whole images, which instance norm exposes). About 170k parameters at the default widths,
so a 512x512 image takes a fraction of a second on a CPU. A trained style may end in a fixed
:class:`ColorStage` (the reference's per-channel colour quantiles, stored with the weights). Inputs of
any size are padded (reflect) to a multiple of 4 and the output cropped back, so rectangular and odd
sizes come out at their own size.

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


def _norm(channels: int, eps: float = 1e-5) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True, eps=eps)


def quantile_map(y: Tensor, quantiles: Tensor, bins: int = 4096) -> Tensor:
    """Give each channel of each image in ``y`` (NxCxHxW, values in [0, 1]) the distribution ``quantiles``
    (C x Q, the values at probabilities 0, 1/(Q-1), ..., 1) describes: histogram matching.

    A value's probability is its place in the channel's own cumulative histogram (``bins`` bins, linear
    within a bin, so the image's order of values is kept), and its new value the reference's quantile at
    that probability (linear between the Q stored ones). Counting instead of sorting: O(H*W) per channel,
    a few milliseconds at 512x512, finer than an 8-bit output.
    """
    n, c, h, w = y.shape
    flat = y.reshape(n * c, h * w).clamp(0, 1)
    scaled = flat * bins
    index = scaled.long().clamp_max(bins - 1)
    counts = torch.zeros(n * c, bins, device=y.device, dtype=y.dtype).scatter_add_(1, index, torch.ones_like(flat))
    before = counts.cumsum(1) - counts  # values in lower bins
    within = (scaled - index.to(y.dtype)).clamp(0, 1)
    prob = (before.gather(1, index) + within * counts.gather(1, index)) / (h * w)
    levels = quantiles.shape[1]
    at = prob * (levels - 1)
    lo = at.floor().long().clamp(0, max(levels - 2, 0))
    frac = (at - lo.to(y.dtype)).clamp(0, 1)
    q = quantiles.to(y.dtype).repeat(n, 1)  # (N*C) x Q
    values = q.gather(1, lo) * (1 - frac) + q.gather(1, (lo + 1).clamp_max(levels - 1)) * frac
    return values.reshape(n, c, h, w)


class ColorStage(nn.Module):
    """The fixed colour stage of a trained style: the output's per-channel histogram becomes the reference's.

    Not learned: ``quantiles`` (C x Q, a buffer saved with the weights) are the reference's per-channel
    colour quantiles, set once from the reference image (:meth:`set_reference`). The network before it
    learns texture and structure; the palette is exact by construction (what histogram matching, the
    classical baseline, gets right). In training mode the stage is the identity: training sees crops,
    and mapping a 96x96 crop of sky onto the whole reference's palette is wrong (a run that did, with
    gradients passed straight through, drifted to off-palette colours: its joint colours went free while
    the per-channel histograms were forced). The network thus learns palette and texture as without the
    stage, which then corrects the whole picture's per-channel histograms at inference.
    """

    def __init__(self, levels: int = 256, channels: int = 3) -> None:
        super().__init__()
        self.register_buffer("quantiles", torch.linspace(0, 1, levels).repeat(channels, 1))

    @torch.no_grad()
    def set_reference(self, image: Tensor) -> None:
        """Store the quantiles of a CxHxW (or 1xCxHxW) reference image in [0, 1]."""
        flat = image.reshape(image.shape[-3], -1).float()
        probs = torch.linspace(0, 1, self.quantiles.shape[1], dtype=torch.float64)
        values = torch.quantile(flat.double(), probs, dim=1).T  # C x Q
        self.quantiles.copy_(values.to(self.quantiles.dtype))

    def forward(self, y: Tensor) -> Tensor:
        if self.training:  # crops: a crop's own colours are not the whole picture's (see the class docstring)
            return y
        return quantile_map(y, self.quantiles)


class _Res(nn.Module):
    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            _norm(channels, eps),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            _norm(channels, eps),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def _conv(cin: int, cout: int, k: int, stride: int = 1, eps: float = 1e-5) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, padding=k // 2, padding_mode="reflect"), _norm(cout, eps), nn.ReLU(inplace=True)
    )


class _Up(nn.Module):
    def __init__(self, cin: int, cout: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.conv = _conv(cin, cout, 3, eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class StyleNet(nn.Module):
    """Feed-forward RGB -> RGB network (images in [0, 1]); see the module docstring.

    Args:
        widths: channels at full, half and quarter resolution.
        blocks: residual blocks at quarter resolution.
        norm_eps: instance norm's epsilon. On a flat input (a crop of sky or of a plain wall) every
            feature map is constant, and each normalised layer multiplies the gradient of what little
            varies (rounding) by up to ``1 / sqrt(eps)``; through eight such layers PyTorch's default 1e-5
            gave gradient norms of 1e15 on one flat crop (ordinary crops: 0.3-0.5), which ruins Adam's
            second-moment estimate for thousands of steps. 1e-3 still gave 2e3; 1e-2 gives 0.1 and
            leaves ordinary crops alike (the default of ``imggan train style``).
        color_levels: quantiles of the fixed :class:`ColorStage` after the network (0: none).
    """

    def __init__(
        self,
        widths: tuple[int, int, int] | list[int] = (16, 32, 48),
        blocks: int = 3,
        norm_eps: float = 1e-5,
        color_levels: int = 0,
    ) -> None:
        super().__init__()
        w1, w2, w3 = (int(w) for w in widths)
        eps = float(norm_eps)
        self.stem = _conv(3, w1, 5, eps=eps)
        self.down1 = _conv(w1, w2, 3, 2, eps=eps)
        self.down2 = _conv(w2, w3, 3, 2, eps=eps)
        self.res = nn.ModuleList(_Res(w3, eps) for _ in range(int(blocks)))
        self.up1 = _Up(w3, w2, eps)
        self.up2 = _Up(w2, w1, eps)
        self.head = nn.Conv2d(w1, 3, 5, padding=2, padding_mode="reflect")
        self.color = ColorStage(int(color_levels)) if color_levels else None
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
        y = ((torch.tanh(y) + 1) / 2)[..., :h, :w]
        return self.color(y) if self.color is not None else y


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
    return StyleNet(
        arch.get("widths", STYLE_NET_ARCH["widths"]),
        arch.get("blocks", STYLE_NET_ARCH["blocks"]),
        norm_eps=float(arch.get("norm_eps", 1e-5)),
        color_levels=int(arch.get("color_levels", 0)),
    )


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
