"""``imggan train generate``: unconditional or class-conditional image generation with the core trainer.

The data (``--data``) is a folder of images, a folder of class folders, or a packaged set (``sklearn:digits``,
``skimage:lfw``; see :mod:`imggan_generate.data`). The images are loaded once, resized to ``--resolution`` and
kept in memory as a tensor in [-1, 1]; every step draws a fresh random batch with its latents (and labels).

Defaults follow current practice for small GANs: hinge loss, spectral-norm discriminator, lazy R1, EMA of G,
Adam (0, 0.99) with TTUR (D's rate twice G's). ``--augment`` switches on DiffAugment (colour, translation,
cutout) under the ADA controller, the limited-data remedy. The sample grid uses a fixed batch of latents (the
trainer's fixed sample batch), sorted by class for a conditional model, so grids are comparable step to step.

Example:
    >>> from imggan_generate.recipes import generate_recipe
    >>> recipe = generate_recipe()
    >>> recipe.name, recipe.defaults["gan_loss"]
    ('generate', 'hinge')
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from imggan.errors import ImgganError
from imggan.train.recipe import TrainRecipe

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor, nn

DEFAULTS: dict[str, Any] = {
    "steps": 10_000,
    "batch_size": 64,
    "resolution": 64,
    "conditional": False,
    "arch": "auto",  # auto | mlp | dcgan | fastgan (auto: mlp <= 8 px, dcgan 16 px, fastgan >= 32 px)
    "native_resolution": 0,  # G draws at this side, then a fixed bicubic layer upsamples (0 = --resolution)
    "z_dim": 64,
    "width": 32,
    "d_width": 32,
    "lr_g": 2e-4,
    "lr_d": 4e-4,
    "betas": [0.0, 0.99],
    "gan_loss": "hinge",
    "r1_gamma": 0.1,
    "r1_every": 16,
    "ema_beta": 0.999,
    "ema_rampup": 10.0,
    "flip": False,  # random horizontal flips of the real images (faces yes, digits no)
    "augment": [],
    "ada_target": 0.6,
    "ada_kimg": 20.0,
    "sample_every": 1000,
    "sample_count": 100,
    "ckpt_every": 1000,
    "keep_last": 20,
    "log_every": 50,
    "eval_count": 500,  # samples scored at each sample grid (SWD to the val split, label accuracy); 0 = off
}

HELP = """Train a generator on a folder of images, or on one sub-folder per class (--conditional).

\b
--data is a folder, or a packaged set: sklearn:digits (8x8 digits, 10 classes), skimage:lfw-faces
(100 faces; skimage:lfw is all 200 images of lfw_subset, half of them non-face patches), emoji:google
(Noto emoji, 9 categories; after `imggan data fetch --emoji`), optionally with a split suffix (:train, the
default; :val, :test, :all).
The architecture follows --resolution (--set arch=mlp|dcgan|fastgan to choose): the founding article's MLP
at 8 px, a DCGAN-style generator at 16 px, a residual FastGAN-style one with skip-layer excitation from
32 px; the discriminator is a spectral-norm residual net with a projection head for the class.
--set native_resolution=8 makes G draw at 8 px and upsample with the data's own fixed bicubic resize (for
sources smaller than --resolution, like the 8x8 digits).
--augment adds DiffAugment (colour, translation, cutout) with ADA's adaptive probability: use it with a few
hundred images. The model is written to RUN/export/generate.safetensors (+ card); try it with
`imggan generate --model RUN --grid -o grid.png`.
"""


@functools.lru_cache(maxsize=4)
def _load(data: str, resolution: int) -> Any:
    from imggan_generate.data import load_image_set

    return load_image_set(data, resolution)


def image_set(config: dict[str, Any]) -> Any:
    """The config's training images (cached per data source and resolution)."""
    if not config.get("data"):
        raise ImgganError(
            "--data is required: a folder of images (or class folders), sklearn:digits or skimage:lfw-faces"
        )
    return _load(str(config["data"]), int(config["resolution"]))


def complete_config(config: dict[str, Any]) -> dict[str, Any]:
    """Fill in what the data decides (``channels``, ``num_classes``, ``class_names``); checks ``conditional``.

    The values are written into ``config`` itself, so they are saved with every checkpoint and a resumed or
    exported run rebuilds the same networks without reading the data again.

    Raises:
        ImgganError: ``conditional`` asked for on data without classes, or a resolution that is no power of two.
    """
    apply_augment_flag(config)
    if "channels" in config and "num_classes" in config:
        return config
    resolution = int(config["resolution"])
    if resolution < 8 or resolution & (resolution - 1):
        raise ImgganError(f"--resolution {resolution}: use a power of two from 8 (8, 16, 32, 64, 128)")
    found = image_set(config)
    if config.get("conditional") and not found.num_classes:
        raise ImgganError(f"--conditional needs one sub-folder per class in --data {config['data']}")
    config["channels"] = found.channels
    config["num_classes"] = found.num_classes if config.get("conditional") else 0
    config["class_names"] = list(found.class_names) if config.get("conditional") else []
    return config


def build_generator(config: dict[str, Any]) -> nn.Module:
    """The generator chosen by :func:`imggan_generate.models.build_generator` for the completed config."""
    from imggan_generate.models import build_generator as build

    return build(complete_config(config))


def build_discriminator(config: dict[str, Any]) -> nn.Module:
    """The matching spectral-norm (projection) discriminator."""
    from imggan_generate.models import build_discriminator as build

    return build(complete_config(config))


def _batches(config: dict[str, Any], seed: int) -> Any:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from imggan.train.data import StatefulBatches

    complete_config(config)
    found = image_set(config)
    data = torch.from_numpy(found.images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()
    labels = torch.from_numpy(found.labels) if found.labels is not None else None
    classes = int(config["num_classes"])
    rng = np.random.default_rng(seed)
    n, z_dim, flip = int(config["batch_size"]), int(config["z_dim"]), bool(config.get("flip"))

    def draw() -> dict[str, Tensor]:
        index = torch.from_numpy(rng.integers(0, len(data), n))
        target = data[index]
        if flip:
            mirror = torch.from_numpy(rng.random(n) < 0.5)
            target = torch.where(mirror[:, None, None, None], target.flip(3), target)
        batch = {"target": target, "z": torch.from_numpy(rng.standard_normal((n, z_dim), dtype=np.float32))}
        if classes:
            assert labels is not None
            batch["label"] = labels[index]
            batch["onehot"] = F.one_hot(labels[index], classes).float()
        return batch

    return StatefulBatches(draw, [rng])


def _generate(G: nn.Module, batch: dict[str, Tensor]) -> Tensor:
    return G(batch["z"], batch.get("label"))


def _condition(batch: dict[str, Tensor], images: Tensor) -> Tensor:
    onehot = batch.get("onehot")
    if onehot is None:
        return images
    import torch

    n, _, h, w = images.shape
    planes = onehot.to(images.dtype).view(n, -1, 1, 1).expand(n, onehot.shape[1], h, w)
    return torch.cat([images, planes], dim=1)


def _preview(fake: Tensor, batch: dict[str, Tensor]) -> Tensor:
    images = fake.detach().float().add(1.0).div(2.0).clamp(0, 1)
    if "label" in batch:
        images = images[batch["label"].argsort(stable=True)]
    return images


def samples_uint8(images: Tensor) -> np.ndarray:
    """G's output (N x C x H x W in [-1, 1]) as uint8 N x H x W x C."""
    import numpy as np

    array = images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).byte().cpu().numpy()
    return np.ascontiguousarray(array.transpose(0, 2, 3, 1))


def _validation_set(config: dict[str, Any]) -> Any:
    """The ``:val`` split of a packaged source, or ``None`` (folders have no split)."""
    from imggan_generate.data import PACKAGED

    text = str(config["data"])
    base = next((name for name in PACKAGED if text == name or text.startswith(name + ":")), None)
    if base is None:
        return None
    found = _load(f"{base}:val", int(config["resolution"]))
    return found if len(found.images) else None


def _evaluate(G: nn.Module, config: dict[str, Any]) -> dict[str, float]:
    """Multi-scale SWD to the validation images (else the training images) and, conditional, label accuracy."""
    import torch

    from imggan.metrics import multiscale_swd
    from imggan_generate.api import draw_samples

    count = int(config.get("eval_count") or 0)
    if count <= 0:
        return {}
    reference = _validation_set(config) or image_set(config)
    classes = int(config.get("num_classes") or 0)
    labels = torch.arange(count) % classes if classes else None
    with torch.no_grad():
        fake = samples_uint8(draw_samples(G, count, seed=12345, labels=labels))
    out = {"swd": multiscale_swd(list(fake), list(reference.images), patches_per_image=64)["mean"]}
    if classes and reference.labels is not None:
        from imggan.metrics.generation import label_accuracy

        clf = _classifier(str(config["data"]), int(config["resolution"]))
        out["label_acc"] = label_accuracy(clf, fake, labels.numpy())["mean"]
    return out


@functools.lru_cache(maxsize=2)
def _classifier(data: str, resolution: int) -> Any:
    from imggan.metrics.generation import train_classifier

    found = _load(data, resolution)
    return train_classifier(found.images, found.labels, steps=600, seed=0)


def _export(G: nn.Module, config: dict[str, Any], run_dir: Path) -> Path:
    """``RUN/export/generate.safetensors`` + card, written by the core (:func:`imggan.cards.export_model`).

    The card's ``arch`` (``name`` ``generate``; ``arch`` the network: mlp, dcgan or fastgan) rebuilds G;
    ``class_names`` names the classes ``--label`` takes; ``sources`` is the ``--data`` it was trained on.
    """
    from imggan.cards import export_model
    from imggan_generate.models import generator_kwargs

    return export_model(
        G,
        run_dir,
        "generate",
        {"name": "generate", **generator_kwargs(config)},
        config,
        name=Path(run_dir).name,
        description=f"generator trained on {config['data']}",
        class_names=list(config.get("class_names") or []),
        sources=[str(config["data"])],
    )


def generate_recipe() -> TrainRecipe:
    """The ``generate`` recipe (``imggan train generate``)."""
    return TrainRecipe(
        name="generate",
        help=HELP,
        build_generator=build_generator,
        build_discriminator=build_discriminator,
        make_batches=_batches,
        generate=_generate,
        condition=_condition,
        losses={"adv": 1.0},
        defaults=dict(DEFAULTS),
        export=_export,
        evaluate=_evaluate,
        preview=_preview,
        options=[
            click.Option(["--resolution"], type=int, default=None, help="Image side in pixels (default 64)."),
            click.Option(
                ["--conditional/--unconditional"],
                default=None,
                help="Learn one class per sub-folder of --data; generate with --label K.",
            ),
            click.Option(
                ["--augment/--no-augment", "augment_flag"],
                default=None,
                help="DiffAugment (colour, translation, cutout) under the ADA controller: for small data.",
            ),
        ],
    )


def apply_augment_flag(config: dict[str, Any]) -> dict[str, Any]:
    """Turn the ``--augment`` flag into the trainer's ``augment`` list (leaves an explicit list alone)."""
    flag = config.pop("augment_flag", None)
    if flag and not config.get("augment"):
        config["augment"] = ["color", "translation", "cutout"]
    elif flag is False:
        config["augment"] = []
    return config
