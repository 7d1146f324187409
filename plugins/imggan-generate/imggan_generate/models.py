"""The generation head's networks, chosen by resolution: MLP (8 px), DCGAN-style (16-32 px), FastGAN-style
(32-128 px) generators, and a spectral-norm residual discriminator with an optional projection head.

Every generator maps ``(z, label)`` to an ``N x C x R x R`` image in [-1, 1]; ``label`` is ``None`` for an
unconditional model. With ``native_resolution`` below ``R`` the network draws at that side and a fixed
(non-learned) bicubic layer upsamples to ``R``, the same resize the data pipeline applies to small sources (the
8x8 digits): G then only makes images that the pipeline could have made, smooth at the finest scale.
Class conditioning in G is conditional batch norm (a per-class scale and shift after each normalisation;
Dumoulin et al. 2017), in the MLP a learned class embedding concatenated to ``z``.

The discriminator reads the class from extra input channels: :func:`with_label_channels` appends a one-hot map
of ``num_classes`` planes to the images (the recipe's ``condition``), so the trainer's DiffAugment moves it with
the image (translation, cutout) and leaves it alone for colour. :class:`ProjectionDiscriminator` recovers the
one-hot vector from those planes (their spatial sums, normalised) and adds the projection term
``<embed(y), phi(x)>`` to the logit (Miyato & Koyama 2018).

Example:
    >>> import torch
    >>> from imggan_generate.models import build_generator, build_discriminator, with_label_channels
    >>> cfg = {"arch": "fastgan", "resolution": 32, "channels": 3, "z_dim": 16, "width": 8, "num_classes": 10}
    >>> G, D = build_generator(cfg), build_discriminator(cfg)
    >>> labels = torch.tensor([3, 7])
    >>> x = G(torch.randn(2, 16), labels)
    >>> tuple(x.shape), tuple(D(with_label_channels(x, labels, 10)).shape)
    ((2, 3, 32, 32), (2, 1))
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

ARCHS = ("mlp", "dcgan", "fastgan")


def auto_arch(resolution: int) -> str:
    """The architecture for ``resolution``: ``mlp`` up to 8 px, ``dcgan`` at 16 px, ``fastgan`` from 32 px."""
    if resolution <= 8:
        return "mlp"
    return "dcgan" if resolution <= 16 else "fastgan"


def with_label_channels(images: Tensor, labels: Tensor | None, num_classes: int) -> Tensor:
    """Append ``num_classes`` one-hot planes (1 on the label's plane) to ``images``; no-op when unconditional."""
    if not num_classes or labels is None:
        return images
    n, _, h, w = images.shape
    onehot = F.one_hot(labels.long(), num_classes).to(images.dtype)
    return torch.cat([images, onehot.view(n, num_classes, 1, 1).expand(n, num_classes, h, w)], dim=1)


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose scale and shift come from the class (or are learned constants when unconditional)."""

    def __init__(self, channels: int, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(channels, affine=not num_classes)
        if num_classes:
            self.gamma = nn.Embedding(num_classes, channels)
            self.beta = nn.Embedding(num_classes, channels)
            nn.init.ones_(self.gamma.weight)
            nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, labels: Tensor | None) -> Tensor:
        x = self.bn(x)
        if not self.num_classes:
            return x
        if labels is None:
            raise ValueError("this generator is conditional: pass a label per sample")
        return x * self.gamma(labels)[:, :, None, None] + self.beta(labels)[:, :, None, None]


class UpBlock(nn.Module):
    """Nearest x2 upsampling, 3x3 conv, conditional batch norm, ReLU (DCGAN's layer without checkerboards)."""

    def __init__(self, cin: int, cout: int, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.norm = ConditionalBatchNorm(cout, num_classes)

    def forward(self, x: Tensor, labels: Tensor | None) -> Tensor:
        return F.relu(self.norm(self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest")), labels))


class ResUpBlock(nn.Module):
    """Residual up block (BigGAN-style): CBN-ReLU-up-conv-CBN-ReLU-conv plus an upsampled 1x1 shortcut."""

    def __init__(self, cin: int, cout: int, num_classes: int) -> None:
        super().__init__()
        self.norm1 = ConditionalBatchNorm(cin, num_classes)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = ConditionalBatchNorm(cout, num_classes)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, x: Tensor, labels: Tensor | None) -> Tensor:
        up = F.interpolate(F.relu(self.norm1(x, labels)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.norm2(self.conv1(up), labels)))
        return h + self.skip(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class SkipExcitation(nn.Module):
    """FastGAN's skip-layer excitation: a low-resolution map gates the channels of a high-resolution one."""

    def __init__(self, cin_low: int, cout_high: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(cin_low, cout_high, 4, 1, 0),
            nn.LeakyReLU(0.1),
            nn.Conv2d(cout_high, cout_high, 1),
            nn.Sigmoid(),
        )

    def forward(self, high: Tensor, low: Tensor) -> Tensor:
        return high * self.body(low)


def upsample_to(images: Tensor, resolution: int) -> Tensor:
    """Fixed bicubic upsampling to ``resolution`` (a no-op at that side), clipped to [-1, 1].

    It equals OpenCV's ``INTER_CUBIC`` resize (a = -0.75, half-pixel centres, replicated border) that
    :func:`imggan_generate.data.resize` applies to the data, and the clip matches its clip to uint8.
    """
    if images.shape[-1] == resolution:
        return images
    up = F.interpolate(images, size=(resolution, resolution), mode="bicubic", align_corners=False)
    return up.clamp(-1.0, 1.0)


def _widths(width: int, stages: int, cap: int = 8) -> list[int]:
    """Channels per resolution, coarsest first: ``width * 8, width * 4, ...`` down to ``width``."""
    return [width * min(cap, 2 ** max(0, stages - i)) for i in range(stages + 1)]


class ConvGenerator(nn.Module):
    """z -> 4x4 -> ... -> R x R with up blocks; ``fastgan`` uses residual blocks and skip-layer excitation.

    Args:
        resolution: output side, a power of two >= 8.
        channels: image channels (1 or 3).
        z_dim: latent size.
        width: channels at the finest resolution (coarser ones have up to 8x as many).
        num_classes: 0 for unconditional, else the number of classes for conditional batch norm.
        style: ``dcgan`` (plain up blocks) or ``fastgan`` (residual up blocks + skip-layer excitation).
        native_resolution: the side the network draws at (0 = ``resolution``), upsampled by :func:`upsample_to`.
    """

    def __init__(
        self,
        resolution: int,
        channels: int = 3,
        z_dim: int = 64,
        width: int = 32,
        num_classes: int = 0,
        style: str = "dcgan",
        native_resolution: int = 0,
    ) -> None:
        super().__init__()
        self.resolution = resolution
        native = _native(resolution, native_resolution)
        stages = int(round(math.log2(native))) - 2
        if 2 ** (stages + 2) != native or stages < 1:
            raise ValueError(f"resolution must be a power of two >= 8, got {native}")
        self.z_dim, self.num_classes, self.style = z_dim, num_classes, style
        widths = _widths(width, stages)
        self.fc = nn.Linear(z_dim, widths[0] * 16)
        self.norm0 = ConditionalBatchNorm(widths[0], num_classes)
        block = ResUpBlock if style == "fastgan" else UpBlock
        self.blocks = nn.ModuleList(block(widths[i], widths[i + 1], num_classes) for i in range(stages))
        # skip-layer excitation from the 4x4 / 8x8 maps to the maps 3 stages finer (16 / 32 px, ...)
        self.sle = nn.ModuleDict()
        if style == "fastgan":
            for src in range(stages + 1):
                dst = src + 3
                if dst <= stages:
                    self.sle[str(dst)] = SkipExcitation(widths[src], widths[dst])
        self.out_norm = ConditionalBatchNorm(widths[-1], num_classes) if style == "fastgan" else None
        self.to_rgb = nn.Conv2d(widths[-1], channels, 3, 1, 1)

    def first_features(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The 4x4 map after the first layer (what ``--explore`` can take principal directions of)."""
        return self.fc(z).view(z.shape[0], -1, 4, 4)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.from_features(self.first_features(z, labels), labels)

    def from_features(self, features: Tensor, labels: Tensor | None = None) -> Tensor:
        """The rest of the network after :meth:`first_features` (edits in feature space go through here)."""
        h = F.relu(self.norm0(features, labels))
        maps = [h]
        for i, block in enumerate(self.blocks, start=1):
            h = block(h, labels)
            if str(i) in self.sle:
                h = self.sle[str(i)](h, maps[i - 3])
            maps.append(h)
        if self.out_norm is not None:
            h = F.relu(self.out_norm(h, labels))
        return upsample_to(torch.tanh(self.to_rgb(h)), self.resolution)


class MLPGenerator(nn.Module):
    """The founding article's MLP generator (Dense 128-128-256, ReLU), conditioned by a class embedding.

    The article's sigmoid output becomes tanh so that every generator here speaks [-1, 1]. With
    ``native_resolution`` the MLP draws ``native x native`` pixels, upsampled by :func:`upsample_to`.
    """

    def __init__(
        self, resolution: int, channels: int = 1, z_dim: int = 64, num_classes: int = 0, native_resolution: int = 0
    ) -> None:
        super().__init__()
        from imggan.nn.mlp import MLP

        self.z_dim, self.num_classes, self.resolution, self.channels = z_dim, num_classes, resolution, channels
        self.native = _native(resolution, native_resolution)
        self.embed = nn.Embedding(num_classes, 16) if num_classes else None
        extra = 16 if num_classes else 0
        self.mlp = MLP(z_dim + extra, [128, 128, 256], channels * self.native**2, act="relu", out_act="tanh")

    def first_features(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The first hidden layer's activations."""
        return self.mlp.hidden[0](self._input(z, labels))

    def _input(self, z: Tensor, labels: Tensor | None) -> Tensor:
        if self.embed is None:
            return z
        if labels is None:
            raise ValueError("this generator is conditional: pass a label per sample")
        return torch.cat([z, self.embed(labels)], dim=1)

    def from_features(self, features: Tensor, labels: Tensor | None = None) -> Tensor:
        """The rest of the network after :meth:`first_features`."""
        h = features
        for layer in self.mlp.hidden[1:]:
            h = layer(h)
        out = self.mlp.out_act(self.mlp.out(h))
        return upsample_to(out.view(features.shape[0], self.channels, self.native, self.native), self.resolution)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.from_features(self.first_features(z, labels), labels)


class DownBlock(nn.Module):
    """Spectral-norm residual down block: LReLU-conv-LReLU-conv-avgpool plus an avgpooled 1x1 shortcut."""

    def __init__(self, cin: int, cout: int, first: bool = False) -> None:
        super().__init__()
        self.first = first
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, 1, 1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, 1, 1))
        self.skip = spectral_norm(nn.Conv2d(cin, cout, 1))

    def forward(self, x: Tensor) -> Tensor:
        h = x if self.first else F.leaky_relu(x, 0.2)
        h = self.conv2(F.leaky_relu(self.conv1(h), 0.2))
        return F.avg_pool2d(h, 2) + F.avg_pool2d(self.skip(x), 2)


class ProjectionDiscriminator(nn.Module):
    """Image (+ one-hot label planes) -> one logit; residual SN blocks, sum pooling, projection head.

    Args:
        resolution: input side.
        channels: image channels; the input has ``channels + num_classes`` planes when conditional.
        width: channels of the first block (doubling per block, up to 8x).
        num_classes: 0 for an unconditional D.
    """

    def __init__(self, resolution: int, channels: int = 3, width: int = 32, num_classes: int = 0) -> None:
        super().__init__()
        self.channels, self.num_classes = channels, num_classes
        stages = max(1, int(round(math.log2(resolution))) - 2)  # down to 4x4
        widths = [width * min(8, 2**i) for i in range(stages)]
        cins = [channels, *widths[:-1]]
        pairs = enumerate(zip(cins, widths, strict=True))
        self.blocks = nn.Sequential(*(DownBlock(a, b, first=i == 0) for i, (a, b) in pairs))
        self.linear = spectral_norm(nn.Linear(widths[-1], 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, widths[-1])) if num_classes else None

    def labels_of(self, x: Tensor) -> Tensor | None:
        """The soft one-hot labels read back from the label planes (``None`` when unconditional)."""
        if not self.num_classes:
            return None
        sums = x[:, self.channels :].detach().float().sum(dim=(2, 3)).clamp_min(0)
        return sums / sums.sum(dim=1, keepdim=True).clamp_min(1e-6)

    def features(self, x: Tensor) -> Tensor:
        """``phi(x)``: the sum-pooled last block (N x width*8)."""
        h = self.blocks(x[:, : self.channels])
        return F.leaky_relu(h, 0.2).sum(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        h = self.features(x)
        out = self.linear(h)
        y = self.labels_of(x)
        if y is not None and self.embed is not None:
            out = out + (y.to(h.dtype) @ self.embed.weight * h).sum(dim=1, keepdim=True)
        return out


class MLPDiscriminator(nn.Module):
    """The article's MLP discriminator (Dense 128-128, LeakyReLU) with a projection head for the class."""

    def __init__(self, resolution: int, channels: int = 1, num_classes: int = 0) -> None:
        super().__init__()
        self.channels, self.num_classes = channels, num_classes
        self.body = nn.Sequential(
            spectral_norm(nn.Linear(channels * resolution**2, 128)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Linear(128, 128)),
            nn.LeakyReLU(0.2),
        )
        self.linear = spectral_norm(nn.Linear(128, 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, 128)) if num_classes else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.body(x[:, : self.channels].flatten(1))
        out = self.linear(h)
        if self.embed is not None:
            sums = x[:, self.channels :].detach().float().sum(dim=(2, 3)).clamp_min(0)
            y = sums / sums.sum(dim=1, keepdim=True).clamp_min(1e-6)
            out = out + (y.to(h.dtype) @ self.embed.weight * h).sum(dim=1, keepdim=True)
        return out


def _native(resolution: int, native_resolution: int) -> int:
    """The side a generator draws at: ``native_resolution`` (0 = ``resolution``), at most ``resolution``."""
    native = int(native_resolution or resolution)
    if not 1 <= native <= resolution:
        raise ValueError(f"native_resolution must be 1..{resolution}, got {native_resolution}")
    return native


def resolve_arch(config: dict[str, Any]) -> str:
    """``config["arch"]``, with ``auto`` resolved from the resolution."""
    arch = str(config.get("arch") or "auto")
    if arch == "auto":
        arch = auto_arch(int(config["resolution"]))
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; known: auto, {', '.join(ARCHS)}")
    return arch


def generator_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able arguments that rebuild the generator (stored in the model card).

    ``native_resolution`` is stored only when it differs from ``resolution`` (cards without it draw at
    ``resolution``).
    """
    kw = {
        "arch": resolve_arch(config),
        "resolution": int(config["resolution"]),
        "channels": int(config["channels"]),
        "z_dim": int(config["z_dim"]),
        "width": int(config.get("width") or 32),
        "num_classes": int(config.get("num_classes") or 0),
    }
    native = int(config.get("native_resolution") or 0)
    if native and native != kw["resolution"]:
        kw["native_resolution"] = _native(kw["resolution"], native)
    return kw


def build_generator(config: dict[str, Any]) -> nn.Module:
    """The generator for ``config`` (keys: arch, resolution, channels, z_dim, width, num_classes, and
    optionally native_resolution)."""
    kw = generator_kwargs(config)
    native = kw.get("native_resolution", 0)
    if kw["arch"] == "mlp":
        return MLPGenerator(kw["resolution"], kw["channels"], kw["z_dim"], kw["num_classes"], native)
    return ConvGenerator(
        kw["resolution"], kw["channels"], kw["z_dim"], kw["width"], kw["num_classes"], kw["arch"], native
    )


def build_discriminator(config: dict[str, Any]) -> nn.Module:
    """The matching spectral-norm discriminator (projection head when conditional)."""
    kw = generator_kwargs(config)
    classes = kw["num_classes"]
    if kw["arch"] == "mlp":
        return MLPDiscriminator(kw["resolution"], kw["channels"], classes)
    d_width = int(config.get("d_width") or kw["width"])
    return ProjectionDiscriminator(kw["resolution"], kw["channels"], d_width, classes)
