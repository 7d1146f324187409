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

from imggan_style.histmatch import laplacian_bands, match_statistics, quantile_map, quantiles_of

STYLE_NET_ARCH: dict[str, Any] = {"name": "style-net", "widths": [16, 32, 48], "blocks": 3}


def _norm(channels: int, eps: float = 1e-5) -> nn.Module:
    return nn.InstanceNorm2d(channels, affine=True, eps=eps)


class ColorStage(nn.Module):
    """The fixed colour stage of a trained style: the output's per-channel histogram becomes the reference's,
    and with ``bands`` the histograms of its finest Laplacian bands too.

    Not learned: ``quantiles`` (C x Q, a buffer saved with the weights) are the reference's per-channel
    colour quantiles and ``band_quantiles`` (bands x C x Q) those of its finest Laplacian bands, set once
    from the reference image (:meth:`set_reference`). The network before it learns texture and structure;
    the palette is exact by construction (what histogram matching, the classical baseline, gets right), and
    with bands so is the amount and contrast of fine texture: at inference the stage maps the colours, then
    ``iterations`` rounds of each band and the colours again (Heeger and Bergen's matching,
    :func:`imggan_style.histmatch.match_statistics`, as the default path ends with). In training mode the
    stage is the identity: training sees crops, and mapping a 96x96 crop of sky onto the whole reference's
    palette is wrong (a run that did, with gradients passed straight through, drifted to off-palette
    colours: its joint colours went free while the per-channel histograms were forced). The network thus
    learns palette and texture as without the stage, which then corrects the whole picture's histograms at
    inference.
    """

    def __init__(self, levels: int = 256, channels: int = 3, bands: int = 0, iterations: int = 1) -> None:
        super().__init__()
        self.register_buffer("quantiles", torch.linspace(0, 1, levels).repeat(channels, 1))
        self.bands = int(bands)
        self.iterations = int(iterations)
        if self.bands:
            self.register_buffer("band_quantiles", torch.zeros(self.bands, channels, levels))
        self._bands_set = False

    @torch.no_grad()
    def set_reference(self, image: Tensor) -> None:
        """Store the colour (and band) quantiles of a CxHxW (or 1xCxHxW) reference image in [0, 1]."""
        image = image.reshape(1, *image.shape[-3:]).float()
        levels = self.quantiles.shape[1]
        self.quantiles.copy_(quantiles_of(image[0], levels))
        if self.bands:
            bands, _ = laplacian_bands(image, self.bands)
            if len(bands) < self.bands:
                raise ValueError(f"reference {tuple(image.shape[-2:])} too small for {self.bands} bands")
            for i, band in enumerate(bands):
                self.band_quantiles[i].copy_(quantiles_of(band[0], levels))
            self._bands_set = True

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any, **kwargs: Any) -> None:
        """A state without ``band_quantiles`` (a checkpoint of a run trained before the stage matched bands)
        keeps the ones :meth:`set_reference` computed from the same reference; without a reference set,
        the key is missing as usual. The bands are not learned, so the network's weights load unchanged."""
        key = prefix + "band_quantiles"
        if self.bands and self._bands_set and key not in state_dict:
            state_dict[key] = self.band_quantiles.clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, y: Tensor) -> Tensor:
        if self.training:  # crops: a crop's own colours are not the whole picture's (see the class docstring)
            return y
        y = quantile_map(y, self.quantiles)
        if not self.bands:
            return y
        return match_statistics(y, self.quantiles, list(self.band_quantiles), self.iterations)


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


# Which input rows (columns) a 3-tap kernel on a nearest-upsampled signal reads, per output phase: an even
# output 2i reads upsampled rows 2i-1, 2i, 2i+1 = input rows i-1, i, i; an odd one 2i+1 reads i, i, i+1.
_PHASES = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])


class _Up(nn.Module):
    """Nearest-neighbour upsampling by 2, then a 3x3 convolution (mirrored borders), instance norm, ReLU.

    Computed without making the upsampled image: each of the four output phases (even/odd row and
    column) is a 2x2 convolution of the input (the 3x3 kernel's taps that read the same input pixel
    summed), so one 2x2 convolution with four times the output channels on the input, padded by
    replication (a mirrored border of the upsampled image repeats the input's edge), and an interleave
    give the same result as ``conv(interpolate(x))`` with 4/9 of the multiplications and no
    full-resolution copies: about half the time of the block on a CPU.
    """

    def __init__(self, cin: int, cout: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.conv = _conv(cin, cout, 3, eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        conv = self.conv[0]
        phases = _PHASES.to(conv.weight)
        # (a, b, out, in, 2, 2): phase a of the rows, b of the columns
        weight = torch.einsum("ayk,bxl,oikl->aboiyx", phases, phases, conv.weight)
        n, _, h, w = x.shape
        cout = weight.shape[2]
        bias = conv.bias.repeat(4) if conv.bias is not None else None
        out = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight.reshape(4 * cout, -1, 2, 2), bias)
        out = out.view(n, 2, 2, cout, h + 1, w + 1)
        y = out.new_empty(n, cout, h, 2, w, 2)
        for a in (0, 1):
            for b in (0, 1):
                y[:, :, :, a, :, b] = out[:, a, b, :, a : a + h, b : b + w]
        y = y.view(n, cout, 2 * h, 2 * w)
        return self.conv[2](self.conv[1](y))


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
        color_bands: Laplacian bands the colour stage matches too (0: colours only).
        color_iterations: rounds of band and colour matching (:func:`imggan_style.histmatch.match_statistics`).
    """

    def __init__(
        self,
        widths: tuple[int, int, int] | list[int] = (16, 32, 48),
        blocks: int = 3,
        norm_eps: float = 1e-5,
        color_levels: int = 0,
        color_bands: int = 0,
        color_iterations: int = 1,
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
        self.color = (
            ColorStage(int(color_levels), bands=int(color_bands), iterations=int(color_iterations))
            if color_levels
            else None
        )
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
        color_bands=int(arch.get("color_bands", 0)),
        color_iterations=int(arch.get("color_iterations", 1)),
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
