"""What a task contributes to ``imggan train <task>``: a :class:`TrainRecipe`.

The trainer (``imggan.train.trainer``) is generic: it owns the optimisers, the adversarial game, EMA,
regularisers, augmentation, AMP, checkpoints, logs and distributed training. A recipe supplies only what
is specific to a task: the networks, the batches, how G is applied to a batch, and the default objective.

Batches are dicts of tensors. ``make_batches`` yields them on the CPU (decoding and cropping in worker
threads/processes); ``prepare_batch`` runs on the training device (synthetic masks, noise, downscaling),
so the expensive per-sample work happens where the compute is.

Example (a 2-D toy recipe):
    >>> import torch
    >>> from imggan.train.recipe import TrainRecipe
    >>> def batches(config, seed):
    ...     g = torch.Generator().manual_seed(seed)
    ...     while True:
    ...         yield {"target": torch.randn(config["batch_size"], 2, generator=g)}
    >>> recipe = TrainRecipe(
    ...     name="toy2d",
    ...     help="Fit a 2-D point cloud.",
    ...     build_generator=lambda cfg: torch.nn.Linear(8, 2),
    ...     build_discriminator=lambda cfg: torch.nn.Linear(2, 1),
    ...     make_batches=batches,
    ...     generate=lambda G, batch: G(torch.randn(batch["target"].shape[0], 8)),
    ...     losses={"adv": 1.0},
    ... )
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click
    import torch
    from torch import nn

    from imggan.train.schema import ConfigField

Batch = dict[str, "torch.Tensor"]


def _identity_batch(batch: Batch, device: torch.device) -> Batch:
    return {k: v.to(device, non_blocking=True) if hasattr(v, "to") else v for k, v in batch.items()}


def _real_target(batch: Batch) -> torch.Tensor:
    return batch["target"]


def _unconditional(batch: Batch, images: torch.Tensor) -> torch.Tensor:
    return images


@dataclass
class TrainRecipe:
    """How to train one task with the core trainer.

    Attributes:
        name: the task name, ``imggan train <name>``.
        help: ``--help`` text of that command.
        build_generator: ``config -> nn.Module``; the config is the merged defaults/TOML/CLI dict.
        build_discriminator: ``config -> nn.Module`` returning logits (and, for feature matching, a
            ``features`` list through ``forward(x, return_features=True)``); ``None`` for recipes that
            train without an adversary.
        make_batches: ``(config, seed) -> iterator of CPU batches``; infinite; ``seed`` differs per
            distributed rank so ranks see different data.
        generate: ``(G, batch) -> fake images``; conditional heads feed G the masked image and mask.
        prepare_batch: ``(batch, device[, config]) -> batch`` run on the device each step (synthetic
            degradations).
        real: ``batch -> real images`` that D sees as real (default ``batch["target"]``).
        condition: ``(batch, images) -> D input`` (e.g. concatenate the mask); default: the images.
        losses: default generator objective, ``{term name: weight}``; overridable by ``--loss``.
        defaults: default config values (``steps``, ``batch_size``, ``lr_g``, ``lr_d``, ``crop``, ...).
        export: ``(G_ema, config, run_dir) -> Path`` writes the trained generator as a model
            (safetensors + JSON card) and returns its path.
        options: extra click options for ``imggan train <name>``; values land in the config.
        evaluate: optional ``(G_ema, config) -> {metric: value}`` run at sample time and logged.
        preview: optional ``(fake, batch) -> NxCxHxW images in [0, 1]`` for the sample grid (default: G's
            output itself when it is an image batch, a scatter plot when it is 2-D points).
        config_fields: optional typed declarations of the recipe's own keys: a sequence of
            :class:`~imggan.train.schema.ConfigField` (``ConfigField("crop", "side of the crops")``: type and
            default then come from ``defaults``) or a dataclass whose fields carry ``metadata={"help": ...}``.
            Keys of ``defaults`` that no field declares are typed by their default value's type.
        finetune: config defaults used instead of the trainer's when the run starts from ``--init`` weights
            (a lower learning rate, a warm-up); ``None``: :data:`imggan.train.config.FINETUNE_DEFAULTS`.
        required: keys that must be set for a run (e.g. ``("data",)``); a missing one is a usage error.
        card_config: optional ``card -> {config key: value}`` that rebuilds the architecture an ``--init``
            model's card describes (default: :func:`imggan.train.finetune.arch_overrides`' generic rule); for
            cards that leave a key out when it had an older default, say.

    ``prepare_batch`` may also take the run's config as a third argument, ``(batch, device, config)``: the
    trainer passes it whenever the callable accepts it.
    """

    name: str
    help: str
    build_generator: Callable[[dict[str, Any]], nn.Module]
    build_discriminator: Callable[[dict[str, Any]], nn.Module] | None
    make_batches: Callable[[dict[str, Any], int], Iterator[Batch]]
    generate: Callable[[nn.Module, Batch], torch.Tensor]
    prepare_batch: Callable[[Batch, torch.device], Batch] = _identity_batch
    real: Callable[[Batch], torch.Tensor] = _real_target
    condition: Callable[[Batch, torch.Tensor], torch.Tensor] = _unconditional
    losses: dict[str, float] = field(default_factory=lambda: {"adv": 1.0})
    defaults: dict[str, Any] = field(default_factory=dict)
    export: Callable[[nn.Module, dict[str, Any], Path], Path] | None = None
    options: Sequence[click.Parameter] = ()
    evaluate: Callable[[nn.Module, dict[str, Any]], dict[str, float]] | None = None
    preview: Callable[[torch.Tensor, Batch], torch.Tensor] | None = None
    config_fields: Sequence[ConfigField] | type | None = None
    finetune: dict[str, Any] | None = None
    required: Sequence[str] = ()
    card_config: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def prepare_on_device(recipe: TrainRecipe, batch: Batch, device: torch.device, config: dict[str, Any]) -> Batch:
    """``recipe.prepare_batch`` with the run's config when it takes one (``(batch, device, config)``)."""
    fn = recipe.prepare_batch
    if _takes_config(fn):
        return fn(batch, device, config)  # type: ignore[call-arg]
    return fn(batch, device)


def _takes_config(fn: Callable[..., Any]) -> bool:
    import inspect

    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3 or any(p.name == "config" for p in params)
