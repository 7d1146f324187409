"""Training recipes: ``imggan train style`` (one reference -> a feed-forward net) and ``imggan train translate``.

style
    Batches hold photo crops (``--data``) and crops of the reference (``--style``), resized like the
    optimiser does it (the reference's area equals a 512x512 picture, times ``style_scale``). G is a
    :class:`~imggan_style.models.StyleNet`; its objective is ``style_swd`` (patch sliced Wasserstein to the
    reference crops) + ``style_content`` (luminance structure of its input) + a small ``adv`` term from a
    patch critic that sees reference crops as real (LSGAN). G ends in the fixed colour stage
    (``color_levels``, the reference's colour quantiles, set when G is built; identity in training) and
    uses instance norm with ``norm_eps`` 1e-2.

translate
    Unpaired two-folder translation (``--domain-a``, ``--domain-b``). ``--mode cut`` (default): CUT, one
    generator, PatchNCE on its own encoder features between input and output (and B -> G(B) as identity),
    plus LSGAN. ``--mode cyclegan``: two generators and two critics, cycle (L1, weight 10) and identity
    (weight 5) terms, LSGAN, and a 50-image history buffer of fakes for the critics.

Both export ``RUN/export/stylize.safetensors`` + card (the core's :func:`imggan.cards.export_model`), loadable
with ``imggan stylize --model RUN``.

Example:
    >>> from imggan_style.recipes import style_recipe, translate_recipe
    >>> style_recipe().losses, translate_recipe().name
    ({'style_swd': 1.0, 'style_content': 0.3, 'adv': 0.05}, 'translate')
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from imggan.train.recipe import TrainRecipe

STYLE_DEFAULTS: dict[str, Any] = {
    "steps": 2000,
    "batch_size": 4,
    "crop": 128,
    "lr_g": 1e-3,
    "lr_d": 2e-4,
    "betas": [0.5, 0.99],
    "gan_loss": "lsgan",
    "ema_beta": 0.99,
    "sample_every": 250,
    "sample_count": 8,
    "ckpt_every": 250,
    "log_every": 25,
    "ada_target": 0.0,
    "style_scale": 1.0,
    "max_side": 1024,
    "swd_patches": 1024,
    "swd_projections": 64,
    "widths": [16, 32, 48],
    "blocks": 3,
    "norm_eps": 1e-2,  # instance norm's epsilon (StyleNet: bounds the gradient on flat crops)
    "color_levels": 256,  # quantiles of the fixed colour stage after the network (0: none)
    "color_bands": 3,  # Laplacian bands the colour stage matches too (0: colours only)
    "color_iterations": 3,  # rounds of band and colour matching in the colour stage
    "d_width": 32,  # the patch critic's first width
    "d_layers": 3,  # the patch critic's strided layers
    "tensorboard": False,
}

TRANSLATE_DEFAULTS: dict[str, Any] = {
    **{k: v for k, v in STYLE_DEFAULTS.items() if not k.startswith(("style", "swd", "norm_eps", "color_"))},
    "lr_g": 2e-4,
    "mode": "cut",
    "nce_patches": 256,
}


def _need(config: dict[str, Any], key: str, flag: str) -> Path:
    from imggan.errors import ImgganError

    value = config.get(key)
    if not value:
        raise ImgganError(f"{flag} is required")
    path = Path(str(value)).expanduser()
    if not path.exists():
        raise ImgganError(f"{flag} {path}: no such file or folder")
    return path


def read_rgb(path: Path):
    """Decode an image file (unicode paths, any format OpenCV reads) to HxWx3 uint8 RGB; ImgganError if not."""
    import cv2
    import numpy as np

    from imggan.errors import ImgganError

    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if image is None:
        raise ImgganError(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class ReferenceCrops:
    """Random crops (flips, 90-degree turns) of one image; resumable through its NumPy generator."""

    def __init__(self, image, crop: int, seed: int) -> None:
        import numpy as np

        self.image = image
        self.crop = min(crop, *image.shape[:2])
        self.rng = np.random.default_rng(seed)

    def batch(self, count: int):
        """``count`` crops as a count x 3 x crop x crop float tensor in [0, 1]."""
        import numpy as np
        import torch

        h, w = self.image.shape[:2]
        crops = []
        for _ in range(count):
            y, x = int(self.rng.integers(0, h - self.crop + 1)), int(self.rng.integers(0, w - self.crop + 1))
            patch = self.image[y : y + self.crop, x : x + self.crop]
            if self.rng.random() < 0.5:
                patch = patch[:, ::-1]
            crops.append(np.ascontiguousarray(np.rot90(patch, int(self.rng.integers(0, 4)))))
        return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div_(255.0)


def style_reference(path: Path, style_scale: float = 1.0):
    """The reference as trained on: RGB uint8 resized to the pixel area of 512x512 times ``style_scale``^2."""
    import cv2

    image = read_rgb(path)
    h, w = image.shape[:2]
    factor = math.sqrt(512 * 512 / (h * w)) * float(style_scale)
    size = (max(16, round(w * factor)), max(16, round(h * factor)))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)


def _photo_sampler(folder: Path, crop: int, seed: int, max_side: int):
    from imggan.data.crops import CropSampler

    return CropSampler(folder, crop=crop, scales=(1.0, 0.5), seed=seed, max_side=max_side)


def style_batches(config: dict[str, Any], seed: int) -> Iterator[dict[str, Any]]:
    """Endless ``{"content": photo crops, "style": reference crops}`` batches."""
    from imggan.train.data import StatefulBatches

    crop, n = int(config["crop"]), int(config["batch_size"])
    photos = _photo_sampler(_need(config, "data", "--data"), crop, seed, int(config["max_side"]))
    reference = ReferenceCrops(style_reference(_need(config, "style", "--style"), config["style_scale"]), crop, seed)
    return StatefulBatches(
        lambda: {"content": photos.batch(n), "style": reference.batch(n)}, [photos.rng, reference.rng]
    )


def _color_stage(config: dict[str, Any]) -> tuple[int, int, int]:
    """``(color_levels, color_bands, color_iterations)`` of a run's config. A run with a colour stage whose
    config predates the band keys gets today's defaults: the stage is fixed (not learned) and the identity
    in training, so an older checkpoint exports with it unchanged otherwise."""
    levels = int(config.get("color_levels", 0))
    if not levels:
        return 0, 0, 1
    bands = int(config.get("color_bands", STYLE_DEFAULTS["color_bands"]))
    return levels, bands, int(config.get("color_iterations", STYLE_DEFAULTS["color_iterations"])) if bands else 1


def _build_style_net(config: dict[str, Any]) -> Any:
    """The StyleNet of ``config``; with ``color_levels``, its colour stage holds the reference's quantiles."""
    import torch

    from imggan_style.models import StyleNet

    levels, bands, iterations = _color_stage(config)
    net = StyleNet(
        config.get("widths", (16, 32, 48)),
        int(config.get("blocks", 3)),
        norm_eps=float(config.get("norm_eps", 1e-5)),
        color_levels=levels,
        color_bands=bands,
        color_iterations=iterations,
    )
    if levels and net.color is not None:
        reference = style_reference(_need(config, "style", "--style"), config.get("style_scale", 1.0))
        net.color.set_reference(torch.from_numpy(reference.transpose(2, 0, 1).copy()).float() / 255)
    return net


def _build_critic(config: dict[str, Any]) -> Any:
    from imggan_style.models import PatchCritic

    return PatchCritic(int(config.get("d_width", 32)), int(config.get("d_layers", 3)))


def _arch(config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The card's ``arch``: what :func:`imggan_style.models.build_stylize_net` rebuilds the network from."""
    widths = list(config.get("widths", [16, 32, 48]))
    arch = {"name": "style-net", "widths": widths, "blocks": config.get("blocks", 3)}
    if "norm_eps" in config:
        arch["norm_eps"] = float(config["norm_eps"])
    levels, bands, iterations = _color_stage(config)
    if levels:
        arch["color_levels"] = levels
    if bands:
        arch["color_bands"], arch["color_iterations"] = bands, iterations
    return {**arch, **extra}


def export_style(G: Any, config: dict[str, Any], run_dir: Path) -> Path:
    """``RUN/export/stylize.safetensors`` (the EMA generator) + card, written by the core
    (:func:`imggan.cards.export_model`): ``kind`` ``style``, ``arch`` ``style-net``, the reference as ``style``.
    """
    from imggan.cards import export_model

    name = str(config.get("name") or "style")
    style = str(config.get("style"))
    return export_model(G, run_dir, "stylize", _arch(config), config, kind="style", name=name, style=style)


def style_recipe() -> TrainRecipe:
    """``imggan train style --style REF --data PHOTOS --out RUN``."""
    return TrainRecipe(
        name="style",
        help="Train a fast feed-forward network for one style (a reference image) on a folder of photos.",
        build_generator=_build_style_net,
        build_discriminator=_build_critic,
        make_batches=style_batches,
        generate=lambda G, batch: G(batch["content"]),
        real=lambda batch: batch["style"],
        losses={"style_swd": 1.0, "style_content": 0.3, "adv": 0.05},
        defaults=dict(STYLE_DEFAULTS),
        export=export_style,
        options=[
            click.Option(["--style"], type=click.Path(), help="The style reference image."),
            click.Option(
                ["--style-scale", "style_scale"], type=float, help="Texture scale (1: the reference at 512² area)."
            ),
            click.Option(["--name"], help="The model's name in its card."),
        ],
        preview=lambda fake, batch: __import__("torch").cat([batch["content"], fake.clamp(0, 1)]),
    )


# ------------------------------------------------------------------------------------------- translate


def translate_batches(config: dict[str, Any], seed: int) -> Iterator[dict[str, Any]]:
    """Endless ``{"a": domain A crops, "b": domain B crops}`` batches."""
    from imggan.train.data import StatefulBatches

    crop, n, side = int(config["crop"]), int(config["batch_size"]), int(config["max_side"])
    a = _photo_sampler(_need(config, "domain_a", "--domain-a"), crop, seed, side)
    b = _photo_sampler(_need(config, "domain_b", "--domain-b"), crop, seed + 7919, side)
    cyclegan = str(config.get("mode", "cut")) == "cyclegan"
    return StatefulBatches(lambda: {"a": a.batch(n), "b": b.batch(n), "cyclegan": cyclegan}, [a.rng, b.rng])


def _build_translator(config: dict[str, Any]) -> Any:
    from imggan_style.translate import CUTModel, CycleModel

    widths, blocks = config.get("widths", (16, 32, 48)), int(config.get("blocks", 3))
    if str(config.get("mode", "cut")) == "cyclegan":
        return CycleModel(widths, blocks)
    return CUTModel(widths, blocks)


def _build_translate_critic(config: dict[str, Any]) -> Any:
    from imggan_style.translate import DomainCritics

    return DomainCritics(int(config.get("d_width", 32)), int(config.get("d_layers", 3)), str(config.get("mode", "cut")))


def _translate_generate(G: Any, batch: dict[str, Any]) -> Any:
    return G.step(batch)


def _translate_real(batch: dict[str, Any]) -> Any:
    from imggan_style.translate import real_images

    return real_images(batch)


def _translate_condition(batch: dict[str, Any], images: Any) -> Any:
    from imggan_style.translate import condition

    return condition(batch, images)


def export_translate(G: Any, config: dict[str, Any], run_dir: Path) -> Path:
    """``RUN/export/stylize.safetensors`` + card (:func:`imggan.cards.export_model`): the a2b (and, for
    CycleGAN, b2a) generator; ``kind`` ``translate``, ``arch`` ``style-translate`` naming the ``directions``.
    """
    from imggan.cards import export_model

    module = G.export_module()
    mode = str(config.get("mode", "cut"))
    arch = _arch(config, name="style-translate", directions=sorted(module.keys()))
    name = str(config.get("name") or "translate")
    return export_model(module, run_dir, "stylize", arch, config, kind="translate", name=name, mode=mode)


def translate_recipe() -> TrainRecipe:
    """``imggan train translate --domain-a DIR --domain-b DIR --out RUN [--mode cut|cyclegan]``."""
    return TrainRecipe(
        name="translate",
        help="Unpaired translation between two folders of images: CUT (default) or CycleGAN.",
        build_generator=_build_translator,
        build_discriminator=_build_translate_critic,
        make_batches=translate_batches,
        generate=_translate_generate,
        real=_translate_real,
        condition=_translate_condition,
        losses={"adv": 1.0, "cut_nce": 1.0, "cycle_l1": 10.0, "cycle_identity": 5.0},
        defaults=dict(TRANSLATE_DEFAULTS),
        export=export_translate,
        options=[
            click.Option(["--domain-a", "domain_a"], type=click.Path(), help="Folder of domain A."),
            click.Option(["--domain-b", "domain_b"], type=click.Path(), help="Folder of domain B."),
            click.Option(
                ["--mode"],
                type=click.Choice(["cut", "cyclegan"]),
                help="cut (one-sided, PatchNCE; default) or cyclegan (cycle + identity; terms of the other are 0).",
            ),
            click.Option(["--name"], help="The model's name in its card."),
        ],
        preview=lambda fake, batch: fake[: batch["a"].shape[0]].clamp(0, 1),
    )
