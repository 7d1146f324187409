"""The inpainting networks: a residual generator over a classical fill, and a PatchGAN discriminator.

The generator never starts from nothing: :func:`imggan_inpaint.fill.pyramid_fill` first fills the hole with
a smooth continuation of its surroundings (already as good as a biharmonic solve), and the network only adds
a residual inside the hole. Its body is a small U-Net that works at half resolution (pixel-unshuffle) with
dilated residual blocks and a Fourier unit at 1/8 resolution, so one pass sees the whole image cheaply.
The head is zero-initialised: an untrained generator returns exactly the classical fill.

Upsampling to full resolution (``upsample``): ``"resize"`` (the default) predicts the residual at half
resolution and resizes it bilinearly, which cannot produce a 2-px checkerboard; ``"shuffle"`` (a conv
followed by ``PixelShuffle(2)``) is the older head, kept so older weights still load. It can and did: each
of its four sub-pixel filters learns on its own, and their mismatch paints a 2-px grid into the fill.
:func:`shuffle_to_resize` turns shuffle weights into resize weights (the four sub-pixel filters averaged).

The discriminator (:class:`HoleDiscriminator`) judges the hole: its patch logits are averaged with weights
equal to each patch cell's hole fraction, so known pixels (identical in real and fake) dilute nothing.

Example:
    >>> import torch
    >>> from imggan_inpaint.models import InpaintGenerator
    >>> g = InpaintGenerator(widths=(8, 16, 24), blocks=1)
    >>> image = torch.rand(1, 3, 64, 64); hole = torch.zeros(1, 1, 64, 64); hole[..., 8:24, 8:24] = 1
    >>> out = g(image, hole)
    >>> tuple(out.shape), bool(torch.equal(out * (1 - hole), image * (1 - hole)))
    ((1, 3, 64, 64), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from imggan_inpaint.fill import hole_box, pyramid_fill

ARCH_NAME = "imggan-inpaint-residual-unet-v2"
TEXTURE_FEATURES = 4  # decoder channels the full-resolution texture head sees
TEXTURE_WIDTH = 12  # hidden channels of the texture head (it runs at full resolution: kept small)
NOISE_SEED = 12345  # eval-mode noise seed: deterministic fills
GATE_SCALE = 10.0  # detail amplitudes (~0-0.1 in [0, 1] units) scaled to the head's input range
TEXTURE_REACH = 2  # px: how far the texture head (two 3x3 convolutions) reads around an output pixel


def _blur5(x: torch.Tensor) -> torch.Tensor:
    """Separable [1, 4, 6, 4, 1] / 16 blur (replicate border)."""
    k = (1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16)
    p = F.pad(x, (2, 2, 2, 2), mode="replicate")
    rows = sum(k[i] * p[..., i : i + x.shape[-2], :] for i in range(5))
    return sum(k[i] * rows[..., i : i + x.shape[-1]] for i in range(5))


def detail_amplitude(filled: torch.Tensor, hole: torch.Tensor, iterations: int = 8) -> torch.Tensor:
    """Bx1xHxW: the RMS fine detail (gray minus a 5-tap blur) of the known pixels, carried into the hole.

    The detail energy of known pixels whose blur reaches neither into the hole nor over the image's border
    is averaged over 4x4 blocks
    and filled into the hole by :func:`pyramid_fill` at that 1/4 resolution (cheap), then resized back:
    a smooth map of how much fine texture the surroundings of each hole pixel hold (about 0 next to a ramp
    or a flat colour).
    """
    gray = filled.float().mean(1, keepdim=True)
    energy = (gray - _blur5(gray)).square()
    known = (F.avg_pool2d((hole > 0.5).float(), 5, 1, 2) == 0).float()  # no hole within 2 px (a 5x5 max, cheaper)
    known = F.pad(known[..., 2:-2, 2:-2], (2, 2, 2, 2))  # the blur's border padding is no detail either
    weight = F.avg_pool2d(known, 4, ceil_mode=True)
    local = F.avg_pool2d(energy * known, 4, ceil_mode=True) / weight.clamp_min(1e-6)
    valid = (weight > 0.25).float()
    coarse = pyramid_fill(local * valid, 1.0 - valid, iterations=iterations)
    return F.interpolate(coarse, size=gray.shape[-2:], mode="bilinear", align_corners=False).clamp_min(0).sqrt()


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)


class ResBlock(nn.Module):
    """Two 3x3 convolutions (the first dilated) with a scaled residual path; no normalisation."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation, padding_mode="reflect")
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.act = _act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.5 * self.conv2(self.act(self.conv1(x)))


class FourierUnit(nn.Module):
    """A 1x1 convolution in the 2-D Fourier domain: every output pixel sees the whole feature map."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.act = _act()
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        spec = torch.fft.rfft2(x.float(), norm="ortho")
        z = torch.cat([spec.real, spec.imag], 1)
        z = self.act(self.conv(z))
        real, imag = z.chunk(2, 1)
        y = torch.fft.irfft2(torch.complex(real.float(), imag.float()), s=(h, w), norm="ortho").to(x.dtype)
        return x + 0.5 * self.out(y)


class InpaintGenerator(nn.Module):
    """Residual U-Net over the pyramid fill; known pixels are always copied back exactly.

    Args:
        widths: channels at 1/2, 1/4 and 1/8 resolution.
        blocks: dilated residual blocks at 1/8 resolution (dilations cycle 1, 2, 4, 8).
        fourier: add a global Fourier unit after the blocks.
        fill_iterations: Jacobi sweeps of the classical fill on the finest level.
        upsample: ``"resize"`` (half-resolution residual, bilinear x2: no checkerboard) or ``"shuffle"``
            (conv + PixelShuffle(2), the older head).
        noise: give the generator noise to synthesise texture from: a noise map added (learned per-channel
            gain) to the decoder's half-resolution features, and a full-resolution texture head (two 3x3
            convolutions over the upsampled residual and features, the fill, the mask and a full-resolution
            noise map) whose output adds to the residual. Both start at zero, so weights without them load
            with the same output. In eval mode the noise is drawn from a fixed seed: the same input always
            gives the same fill.
        texture_gate: scale the texture head's full-resolution noise by :func:`detail_amplitude` (the fine
            detail of the known pixels around the hole, carried into it) and give it that amplitude as one
            more input: noise where the surroundings are textured, none where they are smooth, so the head
            only has to shape it.
        texture_strength: a factor on the noise (chosen on the validation split after training: the
            texture distance falls and the SSIM falls with more of it; 1 = as trained).
    """

    def __init__(
        self,
        widths: Sequence[int] = (32, 64, 96),
        blocks: int = 4,
        fourier: bool = True,
        fill_iterations: int = 8,
        upsample: str = "resize",
        noise: bool = False,
        texture_gate: bool = False,
        texture_strength: float = 1.0,
    ) -> None:
        super().__init__()
        if upsample not in ("resize", "shuffle"):
            raise ValueError(f"upsample must be 'resize' or 'shuffle', not {upsample!r}")
        c1, c2, c3 = widths
        self.config: dict[str, Any] = {
            "widths": list(widths),
            "blocks": blocks,
            "fourier": fourier,
            "fill_iterations": fill_iterations,
            "upsample": upsample,
            "noise": noise,
            "texture_gate": texture_gate,
            "texture_strength": texture_strength,
        }
        self.fill_iterations = fill_iterations
        self.upsample = upsample
        self.stem = nn.Sequential(nn.PixelUnshuffle(2), nn.Conv2d(24, c1, 3, padding=1, padding_mode="reflect"), _act())
        self.down1 = nn.Sequential(nn.Conv2d(c1, c2, 4, stride=2, padding=1, padding_mode="reflect"), _act())
        self.down2 = nn.Sequential(nn.Conv2d(c2, c3, 4, stride=2, padding=1, padding_mode="reflect"), _act())
        body: list[nn.Module] = [ResBlock(c3, (1, 2, 4, 8)[i % 4]) for i in range(blocks)]
        if fourier:
            body.append(FourierUnit(c3))
        self.body = nn.Sequential(*body)
        # Decoder: a 1x1 projection at the coarse scale, bilinear upsampling, the skip added, one 3x3 conv.
        self.up2 = nn.Conv2d(c3, c2, 1)
        self.merge2 = nn.Sequential(nn.Conv2d(c2, c2, 3, padding=1, padding_mode="reflect"), _act())
        self.up1 = nn.Conv2d(c2, c1, 1)
        self.merge1 = nn.Sequential(nn.Conv2d(c1, c1, 3, padding=1, padding_mode="reflect"), _act())
        if upsample == "shuffle":
            self.head = nn.Sequential(nn.Conv2d(c1, 12, 3, padding=1, padding_mode="reflect"), nn.PixelShuffle(2))
        else:
            self.head = nn.Sequential(nn.Conv2d(c1, 3, 3, padding=1, padding_mode="reflect"))
        nn.init.zeros_(self.head[0].weight)
        nn.init.zeros_(self.head[0].bias)
        self.noise = noise
        self.texture_gate = noise and texture_gate
        self.texture_strength = float(texture_strength)
        if noise:
            self.noise_gain = nn.Parameter(torch.zeros(1, c1, 1, 1))
            self.texture_features = nn.Conv2d(c1, TEXTURE_FEATURES, 1)
            width = 3 + 3 + 1 + 1 + TEXTURE_FEATURES + int(texture_gate)
            self.texture = nn.Sequential(
                nn.Conv2d(width, TEXTURE_WIDTH, 3, padding=1, padding_mode="reflect"),
                _act(),
                nn.Conv2d(TEXTURE_WIDTH, 3, 3, padding=1, padding_mode="reflect"),
            )
            nn.init.zeros_(self.texture[2].weight)
            nn.init.zeros_(self.texture[2].bias)
        if self.texture_gate:
            # The gated noise's direct path: a linear 3x3 filter per colour, starting as half the surroundings'
            # detail amplitude in every colour (a texture to shape from: see add_texture_head).
            self.noise_filter = nn.Conv2d(1, 3, 3, padding=1, bias=False)
            nn.init.zeros_(self.noise_filter.weight)
            with torch.no_grad():
                self.noise_filter.weight[:, 0, 1, 1] = 0.5 / GATE_SCALE

    def _noise(self, like: torch.Tensor, size: tuple[int, int], slot: int) -> torch.Tensor:
        """Bx1xHxW standard normal noise: fresh in training, from a fixed seed per ``slot`` in eval mode."""
        shape = (like.shape[0], 1, *size)
        if self.training:
            return torch.randn(shape, device=like.device, dtype=like.dtype)
        generator = torch.Generator(device=like.device).manual_seed(NOISE_SEED + slot)
        return torch.randn(shape, device=like.device, dtype=torch.float32, generator=generator).to(like.dtype)

    def residual(self, filled: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """The network's correction to ``filled`` (any size; padded internally, cropped back)."""
        h, w = filled.shape[-2:]
        # Multiples of 8, and at least 80 px so the dilated convolutions at 1/8 scale fit their padding.
        ph, pw = max((-h) % 8, 80 - h), max((-w) % 8, 80 - w)
        x = torch.cat([filled * 2 - 1, hole, 1 - hole, filled.mean(1, keepdim=True) * 2 - 1], 1)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        s1 = self.stem(x)
        s2 = self.down1(s1)
        y = self.body(self.down2(s2))
        y = F.interpolate(self.up2(y), size=s2.shape[-2:], mode="bilinear", align_corners=False)
        y = self.merge2(y + s2)
        y = F.interpolate(self.up1(y), size=s1.shape[-2:], mode="bilinear", align_corners=False)
        if self.noise:
            y = y + self.noise_gain * self._noise(y, s1.shape[-2:], 0)
        features = self.merge1(y + s1)
        y = self.head(features)
        if self.upsample == "resize":
            y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        if self.noise and (box := hole_box(x[:, 3:4], TEXTURE_REACH)) is not None:
            y = self._add_texture(y, x, features, box)
        return y[..., :h, :w]

    def _add_texture(
        self, y: torch.Tensor, x: torch.Tensor, features: torch.Tensor, box: tuple[int, int, int, int]
    ) -> torch.Tensor:
        """``y`` plus the full-resolution texture head's output, computed on ``box`` only.

        ``box`` is the hole's box grown by the head's reach (:data:`TEXTURE_REACH`): inside the hole that
        gives the whole image's result (up to float rounding), and the residual outside the hole is never
        used. The noise is drawn for the whole image and cropped: a pixel gets the same noise whatever the box.
        """
        y0, y1, x0, x1 = box
        crop = (..., slice(y0, y1), slice(x0, x1))
        up = F.interpolate(self.texture_features(features), size=x.shape[-2:], mode="bilinear", align_corners=False)
        noise = self._noise(y, x.shape[-2:], 1)[crop] * self.texture_strength
        extra = []
        if self.texture_gate:
            amplitude = GATE_SCALE * detail_amplitude(x[:, :3] * 0.5 + 0.5, x[:, 3:4], self.fill_iterations)
            amplitude = amplitude[crop].to(noise.dtype)
            noise, extra = noise * amplitude, [amplitude]
        texture = self.texture(torch.cat([y[crop], x[:, :4][crop], noise, up[crop], *extra], 1))
        inner = y[crop] + texture + (self.noise_filter(noise) if self.texture_gate else 0)
        y = y.clone()
        y[crop] = inner
        return y

    def forward(self, image: torch.Tensor, hole: torch.Tensor, filled: torch.Tensor | None = None) -> torch.Tensor:
        """Fill the holes of ``image`` (Bx3xHxW in [0, 1]); ``hole`` is Bx1xHxW, 1 = missing.

        ``filled`` may pass a precomputed classical fill. The result equals ``image`` outside the hole.
        """
        hole = (hole > 0.5).to(image.dtype)
        known = image * (1 - hole)
        if filled is None:
            with torch.no_grad():
                filled = pyramid_fill(known, hole, iterations=self.fill_iterations)
        out = filled + self.residual(filled, hole)
        return known + out * hole


def shuffle_to_resize(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights of a ``"shuffle"`` generator as a ``"resize"`` one: each colour's 4 sub-pixel filters averaged.

    The resized head then predicts the mean of every 2x2 block of the old residual (its low-pass part), and
    the body is kept as it was: a starting point for fine-tuning without the 2-px grid.
    """
    out = dict(state)
    weight, bias = state["head.0.weight"], state["head.0.bias"]
    # PixelShuffle(2) reads channel 4 * c + k as sub-pixel k of colour c.
    out["head.0.weight"] = weight.reshape(3, 4, *weight.shape[1:]).mean(1)
    out["head.0.bias"] = bias.reshape(3, 4).mean(1)
    return out


class HoleDiscriminator(nn.Module):
    """A PatchGAN over image + hole mask whose logit is the hole-weighted mean of its patch logits.

    Real and fake images agree outside the hole, so a plain mean over patches mostly averages patches that
    carry no signal (the reason a plain PatchGAN's accuracy stays near 0.5 on inpainting). Here every patch
    cell's logit is weighted by the fraction of that cell inside the hole (the mask is D's 4th input
    channel, moved along by D's augmentation), and one logit per image is returned.

    Args:
        width: channels of the first PatchGAN layer (doubled twice, capped at ``4 * width``).
        in_channels: 3 image channels + 1 mask channel (the mask must be the last channel).
    """

    def __init__(self, width: int = 32, in_channels: int = 4) -> None:
        super().__init__()
        self.patches = PatchDiscriminator(width=width, in_channels=in_channels)

    def patch_logits(self, x: torch.Tensor, return_features: bool = False) -> tuple[torch.Tensor, ...]:
        """The patch logit map, each cell's hole fraction (same shape) and, on request, the features."""
        logits, features = self.patches(x, return_features=True)
        weight = F.adaptive_avg_pool2d(x[:, -1:].float().clamp(0, 1), logits.shape[-2:]).to(logits.dtype)
        return (logits, weight, features) if return_features else (logits, weight)

    def forward(self, x: torch.Tensor, return_features: bool = False) -> Any:
        """Bx1 logits (hole-weighted patch means; the plain mean for an image without a hole)."""
        logits, weight, features = self.patch_logits(x, return_features=True)
        total = weight.sum((1, 2, 3))
        weighted = (logits * weight).sum((1, 2, 3)) / total.clamp_min(1e-6)
        out = torch.where(total > 1e-6, weighted, logits.mean((1, 2, 3)))[:, None]
        return (out, features) if return_features else out


def PatchDiscriminator(width: int = 32, in_channels: int = 4) -> nn.Module:  # noqa: N802 - reads as a class
    """The core's spectral-norm PatchGAN (``imggan.nn.discriminator``) sized for image + hole mask.

    Args:
        width: channels of the first layer (doubled twice, capped at ``4 * width``).
        in_channels: 3 image channels + 1 mask channel.
    """
    from imggan.nn.discriminator import PatchDiscriminator as CorePatchDiscriminator

    return CorePatchDiscriminator(
        in_channels=in_channels, width=width, layers=3, spectral_norm=True, max_width=4 * width
    )


def build_generator(config: dict[str, Any]) -> InpaintGenerator:
    """Build the generator from a config/card ``arch`` dict (unknown keys ignored; no ``upsample``: shuffle)."""
    return InpaintGenerator(
        widths=tuple(config.get("widths", (32, 64, 96))),
        blocks=int(config.get("blocks", 4)),
        fourier=bool(config.get("fourier", True)),
        fill_iterations=int(config.get("fill_iterations", 8)),
        upsample=str(config.get("upsample", "shuffle")),  # cards written before the resize head have no key
        noise=bool(config.get("noise", False)),  # cards written before the texture head have no key
        texture_gate=bool(config.get("texture_gate", False)),
        texture_strength=float(config.get("texture_strength", 1.0)),
    )


def add_texture_head(
    state: dict[str, torch.Tensor], generator: InpaintGenerator, last_std: float = 0.0, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Weights of a generator without ``noise`` (or with an untrained texture head) completed for ``generator``.

    The new tensors take ``generator``'s own initial values (zero gains and a zero last layer), so the
    completed weights fill exactly as the originals did. ``last_std`` > 0 instead draws the texture head's
    last layer from N(0, last_std): a faint noise texture to start from. A distribution loss such as
    ``hole_swd`` cannot grow texture out of exactly zero noise (with no noise in the output, the sorted
    matching of its patches ignores the noise, so the gradient on the noise's amplitude averages out),
    so a fine-tuning run that should learn texture starts with some.
    """
    out = dict(generator.state_dict())
    if last_std > 0:
        g = torch.Generator().manual_seed(seed)
        weight = out["texture.2.weight"]
        out["texture.2.weight"] = torch.randn(weight.shape, generator=g, dtype=weight.dtype) * last_std
    missing = set(out) - set(state)
    if not all(k.startswith(("noise_gain", "texture", "noise_filter")) for k in missing):
        raise ValueError(f"weights miss more than the texture head: {sorted(missing)[:5]}")
    keep = {"texture.2.weight"} if last_std > 0 else set()
    # Texture-head tensors of another shape (a head without the gate's input) are drawn afresh too.
    out.update(
        {
            k: v
            for k, v in state.items()
            if k in out and k not in keep and (tuple(v.shape) == tuple(out[k].shape) or not k.startswith("texture"))
        }
    )
    return out
