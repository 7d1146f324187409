"""``imggan train inpaint``: the :class:`~imggan.train.recipe.TrainRecipe` of the inpainting head.

Batches are random multi-scale photo crops (:class:`imggan.data.crops.CropSampler`) with a synthetic hole
mask each (:func:`imggan_inpaint.masks.training_mask`: strokes, rectangles, blobs; 5-50% of the area). On
the training device each batch gets a light kornia colour augmentation and its classical fill, so the
generator learns the residual the fill leaves. The discriminator sees images with the hole mask as a
fourth channel.

Example:
    >>> from imggan_inpaint.recipes import build_recipe
    >>> recipe = build_recipe()
    >>> recipe.name, sorted(recipe.losses)
    ('inpaint', ['adv', 'fm', 'hole_grad', 'hole_l1', 'hole_pattern', 'hole_swd'])
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from imggan.data.splits import object_mask
from imggan_inpaint.fill import pyramid_fill
from imggan_inpaint.masks import training_mask
from imggan_inpaint.models import ARCH_NAME, HoleDiscriminator, InpaintGenerator, build_generator

DEFAULTS: dict[str, Any] = {
    "crop": 128,
    "scales": [1.0, 0.5, 0.25],
    "batch_size": 8,
    "steps": 20000,
    "lr_g": 2e-4,
    "lr_d": 2e-4,
    "betas": [0.5, 0.99],
    "gan_loss": "hinge",
    "threads": 1,
    "grad_clip": 0.5,
    "ema_beta": 0.999,
    "widths": [32, 64, 96],
    "blocks": 4,
    "fourier": True,
    "fill_iterations": 8,
    "upsample": "resize",
    "noise": True,
    "texture_gate": True,
    "texture_strength": 1.0,
    "d_width": 32,
    "mask_coverage": [0.05, 0.5],
    "rect_prob": 0.2,
    "object_prob": 0.25,
    "smooth_prob": 0.15,
}


LOSSES: dict[str, float] = {
    "hole_l1": 1.0,
    "hole_grad": 0.5,
    "hole_pattern": 0.5,
    "hole_swd": 0.2,
    "adv": 0.02,
    "fm": 1.0,
}


def _config_fields() -> list[Any]:
    from imggan.train.schema import ConfigField

    helps = {
        "crop": "side of the training crops (pixels)",
        "scales": "downscale factors of the training photos kept in memory",
        "widths": "generator widths per level (architecture; --init takes the card's)",
        "blocks": "residual blocks at the bottleneck (architecture)",
        "fourier": "Fourier-unit blocks at the bottleneck (architecture)",
        "fill_iterations": "iterations of the classical pyramid fill the generator refines (training and export)",
        "d_width": "discriminator base width",
        "mask_coverage": "[low, high] fraction of the crop a training hole covers",
        "rect_prob": "probability of a rectangular hole (else strokes and blobs)",
        "noise": "noise inputs and a full-resolution texture head (architecture; old cards: off)",
        "texture_gate": "scale the texture head's noise by the surroundings' fine detail (architecture)",
        "texture_strength": "factor on the texture head's noise (1 in training; chosen on val for export)",
        "upsample": "generator head: resize (half-res residual, bilinear x2: no checkerboard) or shuffle (older)",
        "object_prob": "probability of an object-shaped hole (tuxpaint silhouette from masks/train)",
        "smooth_prob": "probability that a crop is replaced by a procedural flat or ramp image",
    }
    return [ConfigField(k, v) for k, v in helps.items()]


CONFIG_FIELDS = _config_fields()
# Fine-tuning the shipped model: a quarter of the from-scratch rate with a warm-up (as its card's runs did).
FINETUNE: dict[str, Any] = {"lr_g": 5e-5, "lr_warmup": 200, "lr_schedule": "cosine"}


def card_config(card: dict[str, Any]) -> dict[str, Any]:
    """The config keys that rebuild an ``--init`` card's generator (no ``upsample`` on a card: ``shuffle``)."""
    arch = dict(card.get("arch") or {})
    return {"upsample": "shuffle", **{k: v for k, v in arch.items() if k in DEFAULTS}}


def _data_dir(config: dict[str, Any]) -> Path:
    for key in ("data", "data_dir"):
        if config.get(key):
            return Path(config[key]).expanduser()
    from imggan.data.sources import DEFAULT_ROOT

    return DEFAULT_ROOT / "train"


def _silhouettes(config: dict[str, Any]) -> list[np.ndarray]:
    """Training object silhouettes (tuxpaint stamps' alpha, ``masks/train`` beside the data folder), or none."""
    from imggan.data.splits import load_silhouettes

    try:
        return load_silhouettes("train", _data_dir(config).parent)
    except FileNotFoundError:
        return []


def smooth_field(size: int, rng: np.random.Generator) -> np.ndarray:
    """A procedural 3xHxW image in [0, 1]: a flat colour or a ramp, sometimes with a slow wave on top, faint
    noise or 8-bit rounding.

    Mixed into the batches so the generator learns to add nothing where the surroundings hold no texture.
    """
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    channels = []
    for _ in range(3):
        base = rng.uniform(0.15, 0.85)
        gx, gy = rng.uniform(-0.5, 0.5, 2) if rng.random() < 0.7 else (0.0, 0.0)
        wave = rng.uniform(0, 0.08) * np.sin(rng.uniform(1, 6) * (x * rng.uniform(-1, 1) + y) + rng.uniform(0, 6))
        channels.append(base + gx * (x - 0.5) + gy * (y - 0.5) + (wave if rng.random() < 0.4 else 0.0))
    image = np.stack(channels)
    if rng.random() < 0.5:  # sensor-like noise of up to 1.5 8-bit levels
        image = image + rng.normal(0, rng.uniform(0, 1.5 / 255), image.shape)
    if rng.random() < 0.5:  # 8-bit quantisation, as in the saved photos and the tests' ramps
        image = np.round(image * 255) / 255
    return np.clip(image, 0, 1).astype(np.float32)


def make_batches(config: dict[str, Any], seed: int) -> Iterator[dict[str, torch.Tensor]]:
    """Endless CPU batches ``{"target": Bx3xHxW in [0, 1], "hole": Bx1xHxW in {0, 1}}``.

    Holes: the synthetic mix of :func:`training_mask`, and with probability ``object_prob`` an object
    silhouette from the training stamps (when ``imggan data fetch`` wrote them). With probability
    ``smooth_prob`` a crop is replaced by a procedural flat or ramp image (:func:`smooth_field`).

    Draws only from its own seeded generators (crops and masks), saved by the trainer for exact resume.
    """
    from imggan.data.crops import CropSampler

    cfg = {**DEFAULTS, **{k: v for k, v in config.items() if v is not None}}
    crop, batch_size = int(cfg["crop"]), int(cfg["batch_size"])
    sampler = CropSampler(_data_dir(cfg), crop=crop, scales=tuple(cfg["scales"]), seed=seed)
    rng = np.random.default_rng(seed + 1)
    coverage = tuple(cfg["mask_coverage"])
    rect_prob, object_prob = float(cfg["rect_prob"]), float(cfg.get("object_prob") or 0.0)
    silhouettes = _silhouettes(cfg) if object_prob > 0 else []

    def one_mask() -> np.ndarray:
        if silhouettes and rng.random() < object_prob:
            return object_mask(silhouettes, crop, rng, (max(coverage[0], 0.1), min(coverage[1], 0.35)))
        return training_mask(crop, crop, rng, coverage, rect_prob)

    smooth_prob = float(cfg.get("smooth_prob") or 0.0)

    def draw() -> dict[str, torch.Tensor]:
        target = sampler.batch(batch_size)
        for i in np.nonzero(rng.random(batch_size) < smooth_prob)[0]:
            target[i] = torch.from_numpy(smooth_field(crop, rng))
        masks = np.stack([one_mask() for _ in range(batch_size)])
        return {"target": target, "hole": torch.from_numpy(masks > 0).float()[:, None]}

    try:
        from imggan.train.data import StatefulBatches
    except ImportError:  # an older core: a plain generator
        return iter(draw, None)
    return StatefulBatches(draw, [sampler.rng, rng])


_JIGGLE: nn.Module | None = None


def prepare_batch(
    batch: dict[str, torch.Tensor], device: torch.device, config: dict[str, Any] | None = None
) -> dict[str, torch.Tensor]:
    """On the device: colour augmentation (kornia) and the classical fill of each hole.

    The fill runs ``config["fill_iterations"]`` iterations (the trainer passes the run's config), the same
    number the exported generator uses at inference.
    """
    global _JIGGLE
    import kornia.augmentation as K

    if _JIGGLE is None:
        _JIGGLE = K.ColorJiggle(0.1, 0.1, 0.15, 0.02, p=0.5)
    target = batch["target"].to(device, non_blocking=True)
    hole = batch["hole"].to(device, non_blocking=True)
    with torch.no_grad():
        target = _JIGGLE.to(device)(target).clamp(0, 1)
        iterations = int({**DEFAULTS, **(config or {})}["fill_iterations"])
        filled = pyramid_fill(target * (1 - hole), hole, iterations=iterations)
    return {"target": target, "hole": hole, "filled": filled}


def generate(generator: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The generator's completion of the batch (known pixels copied from the target)."""
    return generator(batch["target"], batch["hole"], batch.get("filled"))


def condition(batch: dict[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    """What the discriminator sees: the image with the hole mask as a fourth channel."""
    return torch.cat([images, batch["hole"]], 1)


def build_discriminator(config: dict[str, Any]) -> nn.Module:
    """Spectral-norm PatchGAN over image + mask, its logits weighted to the hole."""
    return HoleDiscriminator(width=int({**DEFAULTS, **config}["d_width"]))


def build(config: dict[str, Any]) -> InpaintGenerator:
    """The generator for ``config`` (defaults filled in)."""
    return build_generator({**DEFAULTS, **config})


def _sources() -> dict[str, Any]:
    from imggan.data.sources import DEFAULT_ROOT

    path = DEFAULT_ROOT / "SOURCES.json"
    if path.is_file():
        held_out = ("heldout/", "test/", "masks/val/", "masks/test/")  # never trained on
        return {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith(held_out)}
    return {}


def export(generator: nn.Module, config: dict[str, Any], run_dir: Path) -> Path:
    """Write the (EMA) generator as ``RUN/export/inpaint.safetensors`` + card (the core's card writer)."""
    from imggan.cards import export_model

    return export_model(
        generator, run_dir, "inpaint", {"name": ARCH_NAME, **generator.config}, config, sources=_sources()
    )


_EVAL_BATCH: dict[str, torch.Tensor] | None = None


def evaluate(generator: nn.Module, config: dict[str, Any]) -> dict[str, float]:
    """Hole PSNR (dB) and L1 on a fixed batch of 16 training-set crops with fixed masks (not held-out)."""
    global _EVAL_BATCH
    if _EVAL_BATCH is None:
        cfg = {**DEFAULTS, **{k: v for k, v in config.items() if v is not None}, "batch_size": 16}
        with torch.random.fork_rng():
            torch.manual_seed(0)
            _EVAL_BATCH = prepare_batch(next(make_batches(cfg, seed=987654)), torch.device("cpu"), cfg)
    device = next(generator.parameters()).device
    batch = {k: v.to(device) for k, v in _EVAL_BATCH.items()}
    with torch.no_grad():
        fake = generate(generator, batch).clamp(0, 1)
    hole = batch["hole"]
    mse = ((fake - batch["target"]) ** 2 * hole).sum() / (hole.sum() * 3)
    l1 = ((fake - batch["target"]).abs() * hole).sum() / (hole.sum() * 3)
    return {"hole_psnr": float(10 * torch.log10(1 / mse.clamp_min(1e-10))), "hole_l1": float(l1)}


def build_recipe() -> Any:
    """The ``inpaint`` training recipe for the core trainer."""
    from imggan.train.recipe import TrainRecipe

    return TrainRecipe(
        name="inpaint",
        help="Train the inpainting generator (residual over a classical fill) on random crops and masks.",
        build_generator=build,
        build_discriminator=build_discriminator,
        make_batches=make_batches,
        generate=generate,
        prepare_batch=prepare_batch,
        condition=condition,
        losses=dict(LOSSES),
        defaults=dict(DEFAULTS),
        export=export,
        evaluate=evaluate,
        config_fields=CONFIG_FIELDS,
        finetune=dict(FINETUNE),
        card_config=card_config,
    )
