"""Training recipes for ``imggan train denoise`` and ``imggan train upscale`` (the core trainer runs them).

Batches are clean multi-scale photo crops drawn on the CPU (:class:`imggan.data.crops.CropSampler`); the
degradation that makes the input happens on the training device in ``prepare_batch``:

* denoise: Gaussian noise with sigma ~ U[0, 50] per crop (8-bit scale), clipped and rounded to 8 bits;
  gray crops get the same noise in every channel; the noise level is given to the network for a fraction
  ``hint_fraction`` of the crops and hidden (blind) for the rest.
  With ``degradation="jpeg"`` the input is instead each crop saved as a JPEG (OpenCV, 4:2:0) at a quality
  drawn uniformly from ``jpeg_quality`` (default [10, 70]), always blind: the JPEG-artefact remover
  (the same network with other weights; shipped as ``imggan denoise --model jpeg``).
* upscale: antialiased bicubic downscaling by ``scale``, rounded to 8 bits; with ``robust=true`` half the
  batches are blurred first (sigma 0.4-1.2 px), half the crops get Gaussian noise (sigma up to 5) and half are
  JPEG round trips (quality 50-95) after downscaling (:func:`imggan_enhance.degrade.robust_lowres`).

Example:
    >>> from imggan_enhance.recipes import denoise_recipe, upscale_recipe
    >>> denoise_recipe().name, upscale_recipe().defaults["scale"]
    ('denoise', 4)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from imggan.train.recipe import TrainRecipe
from imggan.train.schema import ConfigField

DENOISE_ARCH: dict[str, Any] = {"name": "denoise-unet", "width": 32, "blocks": [1, 1, 2, 3], "max_width": 192}
UPSCALE_ARCH: dict[str, Any] = {"name": "upscale-res", "width": 48, "blocks": 8}
DISC_ARCH: dict[str, Any] = {"name": "patch-d", "width": 32, "layers": 3}

# The keys both recipes read (typed by these defaults; --list-config shows the help).
COMMON_DEFAULTS: dict[str, Any] = {
    "scales": [1.0, 0.5, 0.25],
    "grayscale_fraction": 0.1,
    "d": dict(DISC_ARCH),
}
COMMON_FIELDS = [
    ConfigField("crop", "side of the training crops (pixels, at the target resolution)"),
    ConfigField("scales", "downscale factors of the training photos kept in memory (crops see whole scenes)"),
    ConfigField("grayscale_fraction", "fraction of crops turned gray"),
    ConfigField("arch", "generator architecture table (arch.width, arch.blocks, ...; --init takes the card's)"),
    ConfigField("d", "discriminator table of the sharp fine-tune (d.width, d.layers)"),
]
# Fine-tuning a trained model: Adam's moments start at zero, so warm up, and take a tenth of the from-scratch
# rate (at the full rate the shipped denoiser's L1 grew to ~1e7 within 20 steps).
FINETUNE: dict[str, Any] = {"lr_g": 1e-4, "lr_warmup": 200, "lr_schedule": "cosine", "grad_clip": 1.0}


def _arch(config: dict[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    """The architecture: the default, updated by ``--set arch.KEY=VALUE`` style keys or an ``arch`` dict."""
    arch = dict(default)
    arch.update(config.get("arch") or {})
    for key, value in config.items():
        if key.startswith("arch."):
            arch[key[5:]] = value
    return arch


def denoise_arch(config: dict[str, Any]) -> dict[str, Any]:
    """The denoiser's ``arch`` dict for this config."""
    return _arch(config, DENOISE_ARCH)


def upscale_arch(config: dict[str, Any]) -> dict[str, Any]:
    """The upscaler's ``arch`` dict for this config (``scale`` from the config)."""
    arch = _arch(config, UPSCALE_ARCH)
    arch["scale"] = int(config.get("scale", arch.get("scale", 4)))
    return arch


def _crops(config: dict[str, Any], seed: int, crop: int) -> Iterator[dict[str, Any]]:
    from imggan.data.crops import CropSampler
    from imggan.train.data import StatefulBatches

    sampler = CropSampler(
        Path(config["data"]).expanduser(),
        crop=crop,
        scales=tuple(config.get("scales", (1.0, 0.5, 0.25))),
        seed=seed,
        grayscale_fraction=float(config.get("grayscale_fraction", 0.1)),
    )
    batch_size = int(config["batch_size"])
    return StatefulBatches(lambda: {"target": sampler.batch(batch_size)}, [sampler.rng])


def _is_gray(x: Any) -> Any:
    return ((x[:, 0] == x[:, 1]) & (x[:, 1] == x[:, 2])).flatten(1).all(1)


def denoise_batches(config: dict[str, Any], seed: int) -> Iterator[dict[str, Any]]:
    """Endless clean crops for the denoiser."""
    return _crops(config, seed, int(config["crop"]))


def make_denoise_prepare(config: dict[str, Any] | None = None):
    """``prepare_batch`` for the denoiser: noise the targets on the device (uses torch's global RNG)."""

    def prepare(batch: dict[str, Any], device: Any) -> dict[str, Any]:
        import torch

        from imggan_enhance.degrade import jpeg, quantize

        cfg = config or {}
        target = batch["target"].to(device, non_blocking=True)
        n = target.shape[0]
        degradation = str(cfg.get("degradation", "gaussian"))
        if degradation == "jpeg":
            q_low, q_high = (int(q) for q in cfg.get("jpeg_quality", (10, 70)))
            qualities = torch.randint(q_low, q_high + 1, (n,)).tolist()
            target = quantize(target)
            compressed = torch.cat([jpeg(target[i : i + 1], q) for i, q in enumerate(qualities)])
            return {"target": target, "input": compressed, "sigma": torch.full((n,), -1.0, device=device)}
        if degradation != "gaussian":
            raise ValueError(f"degradation {degradation!r}: expected 'gaussian' or 'jpeg'")
        low, high = float(cfg.get("sigma_min", 0.0)), float(cfg.get("sigma_max", 50.0))
        sigma = low + (high - low) * torch.rand(n, device=device)
        noise = torch.randn_like(target)
        gray = _is_gray(target)
        noise = torch.where(gray.view(n, 1, 1, 1), noise[:, :1].expand_as(noise), noise)
        noisy = target + noise * (sigma.view(n, 1, 1, 1) / 255.0)
        hinted = torch.rand(n, device=device) < float(cfg.get("hint_fraction", 0.3))
        return {
            "target": target,
            "input": quantize(noisy),
            "sigma": torch.where(hinted, sigma, torch.full_like(sigma, -1.0)),
        }

    return prepare


def denoise_generate(G: Any, batch: dict[str, Any]) -> Any:
    """Run the denoiser on a prepared batch (negative sigma = blind)."""
    return G(batch["input"], batch["sigma"])


def upscale_batches(config: dict[str, Any], seed: int) -> Iterator[dict[str, Any]]:
    """Endless clean HR crops (side ``crop``, a multiple of ``scale``)."""
    scale = int(config.get("scale", 4))
    crop = int(config["crop"]) // scale * scale
    return _crops(config, seed, crop)


def make_upscale_prepare(config: dict[str, Any] | None = None):
    """``prepare_batch`` for the upscaler: downscale (and for ``robust`` mildly degrade) on the device."""

    def prepare(batch: dict[str, Any], device: Any) -> dict[str, Any]:
        import torch

        from imggan_enhance.degrade import downscale, quantize, robust_lowres

        cfg = config or {}
        scale = int(cfg.get("scale", 4))
        target = batch["target"].to(device, non_blocking=True)
        if not cfg.get("robust"):
            return {"target": target, "input": quantize(downscale(target, scale))}
        n = target.shape[0]
        blur_sigma = 0.4 + 0.8 * float(torch.rand(())) if float(torch.rand(())) < 0.5 else 0.0
        noise = 5.0 * torch.rand(n) * (torch.rand(n) < 0.5)
        drawn = zip(torch.randint(50, 96, (n,)).tolist(), torch.rand(n).tolist(), strict=True)
        qualities = [q if use < 0.5 else None for q, use in drawn]
        return {"target": target, "input": robust_lowres(target, scale, blur_sigma, noise, qualities)}

    return prepare


def upscale_generate(G: Any, batch: dict[str, Any]) -> Any:
    """Run the upscaler on a prepared batch."""
    return G(batch["input"])


def _build(arch_fn):
    def build(config: dict[str, Any]):
        from imggan_enhance.models import build_model

        return build_model(arch_fn(config))

    return build


def build_discriminator(config: dict[str, Any]):
    """The PatchGAN discriminator of the sharp fine-tune."""
    from imggan_enhance.models import build_model

    return build_model(_arch({k[2:]: v for k, v in config.items() if k.startswith("d.")}, DISC_ARCH))


SOURCES = [
    {"source": "scikit-image skimage.data (14 images)", "licence": "BSD-3-Clause / CC0 / public domain"},
    {"source": "scikit-learn sample images china.jpg, flower.jpg", "licence": "CC-BY 2.0"},
    {"source": "matplotlib sample_data/grace_hopper.jpg", "licence": "public domain"},
    {
        "source": "Debian plasma-workspace-wallpapers: BytheWater, ColdRipple, DarkestHour, EveningGlow, "
        "FallenLeaf, Grey, MilkyWay, OneStandsOut, summer_1am (held out: ColorfulCups, Kite, Path, Volna)",
        "licence": "GPL-2+",
    },
]


def _export(task: str, arch_fn):
    def export(G: Any, config: dict[str, Any], run_dir: Path) -> Path:
        """``RUN/export/<task>.safetensors`` + card, written by the core (:func:`imggan.cards.export_model`)."""
        from imggan.cards import export_model

        return export_model(G, run_dir, task, arch_fn(config), config, sources=SOURCES)

    return export


class _Prepare:
    """A picklable ``prepare_batch`` bound late to the run's config (set by ``make_batches``)."""

    def __init__(self, factory) -> None:
        self.factory = factory
        self.config: dict[str, Any] = {}

    def __call__(self, batch: dict[str, Any], device: Any, config: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.factory(self.config if config is None else config)(batch, device)


def denoise_recipe() -> TrainRecipe:
    """``imggan train denoise``: blind + hinted Gaussian denoising, sigma in [0, 50]."""
    prepare = _Prepare(make_denoise_prepare)

    def batches(config: dict[str, Any], seed: int) -> Iterator[dict[str, Any]]:
        prepare.config = config
        return denoise_batches(config, seed)

    return TrainRecipe(
        name="denoise",
        help="Train the blind Gaussian denoiser (sigma 0-50) on clean photo crops "
        "(--set degradation=jpeg: the JPEG-artefact remover).",
        build_generator=_build(denoise_arch),
        build_discriminator=build_discriminator,
        make_batches=batches,
        generate=denoise_generate,
        prepare_batch=prepare,
        losses={"l1": 1.0},
        defaults={
            "steps": 40000,
            "batch_size": 16,
            "crop": 64,
            "lr_g": 1e-3,
            "lr_d": 2e-4,
            "arch": dict(DENOISE_ARCH),
            "degradation": "gaussian",
            "sigma_min": 0.0,
            "sigma_max": 50.0,
            "hint_fraction": 0.3,
            "jpeg_quality": [10, 70],
            **COMMON_DEFAULTS,
        },
        export=_export("denoise", denoise_arch),
        config_fields=[
            *COMMON_FIELDS,
            ConfigField("degradation", "gaussian (noise) or jpeg (artefact remover)", Literal["gaussian", "jpeg"]),
            ConfigField("sigma_min", "smallest noise sigma drawn (8-bit scale)"),
            ConfigField("sigma_max", "largest noise sigma drawn (8-bit scale)"),
            ConfigField("hint_fraction", "fraction of crops whose noise level is given to the network"),
            ConfigField("jpeg_quality", "[low, high] JPEG quality range of degradation=jpeg"),
        ],
        finetune=dict(FINETUNE),
        required=("data",),
    )


def upscale_recipe() -> TrainRecipe:
    """``imggan train upscale``: bicubic-degraded super-resolution by ``--set scale=2|4``."""
    prepare = _Prepare(make_upscale_prepare)

    def batches(config: dict[str, Any], seed: int) -> Iterator[dict[str, Any]]:
        prepare.config = config
        return upscale_batches(config, seed)

    return TrainRecipe(
        name="upscale",
        help="Train the x2/x4 super-resolution net (--set scale=2|4) on bicubic-downscaled photo crops.",
        build_generator=_build(upscale_arch),
        build_discriminator=build_discriminator,
        make_batches=batches,
        generate=upscale_generate,
        prepare_batch=prepare,
        losses={"l1": 1.0},
        defaults={
            "steps": 40000,
            "batch_size": 16,
            "crop": 96,
            "scale": 4,
            "lr_g": 5e-4,
            "lr_d": 2e-4,
            "arch": dict(UPSCALE_ARCH),
            "robust": False,
            **COMMON_DEFAULTS,
        },  # fmt: skip
        export=_export("upscale", upscale_arch),
        config_fields=[
            *COMMON_FIELDS,
            ConfigField("scale", "upscaling factor (2 or 4)"),
            ConfigField("robust", "also blur, noise and JPEG the low-resolution inputs (robust upscaler)"),
        ],
        finetune=dict(FINETUNE),
        required=("data",),
    )
