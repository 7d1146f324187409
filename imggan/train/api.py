"""The trainer's public API, mirrored by ``imggan train TASK``: configure, train, dry-run, export, list keys.

- :func:`configure`: the layered, checked config of a run (what ``--config``, the options and ``--set``
  become); unknown keys and wrong types raise :class:`~imggan.train.schema.ConfigError` before anything is
  built, ``--init`` adds the fine-tune defaults and the init model's architecture.
- :func:`train`: a full run into a run folder (resume included); :func:`dry_run`: two steps, nothing
  written; :func:`export_run`: the model of a checkpoint; :func:`list_config`: every key of a recipe's run.

Example:
    >>> from imggan.train.api import configure
    >>> from imggan.train.toy2d import make_recipe
    >>> configure(make_recipe(), sets=["gan_loss=hinge"])["gan_loss"]
    'hinge'
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from imggan.errors import ImgganError
from imggan.train import checkpoint as ckpt
from imggan.train import distributed as dist_utils
from imggan.train.config import FINETUNE_DEFAULTS, merge_config, schema_for
from imggan.train.monitor import LogCapture
from imggan.train.recipe import TrainRecipe
from imggan.train.schema import ConfigError

# Keys a resumed run may change; everything else comes from the checkpoint so the run continues exactly.
RESUME_OVERRIDES = (
    "steps",
    "device",
    "progress",
    "tensorboard",
    "threads",
    "sample_every",
    "sample_count",
    "ckpt_every",
    "keep_last",
    "log_every",
    "check_every",
    "export",
    "prefetch",
    "compile",
    "guard_growth",
)


def configure(
    recipe: TrainRecipe,
    given: Mapping[str, Any] | None = None,
    toml: Mapping[str, Any] | None = None,
    sets: Iterable[str] = (),
    require: bool = True,
) -> dict[str, Any]:
    """The checked config of a run of ``recipe``.

    Args:
        recipe: the task's recipe.
        given: explicit values (the command line's options, or a Python caller's dict; ``None`` = not given).
        toml: the ``--config`` file's content.
        sets: ``--set key=value`` items (applied last).
        require: check the recipe's ``required`` keys (off for ``--export``, which trains nothing).

    Raises:
        ConfigError: an unknown key (the message names the closest ones), a wrong type (it names the key
            and the expected type), a missing required key, or an ``--init`` that resolves to nothing.
    """
    schema = schema_for(recipe)
    sets = list(sets)
    try:
        config = merge_config(recipe.defaults, recipe.losses, toml, given, sets, schema=schema)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if config.get("init"):
        from imggan.train.finetune import finetune_layer

        layer, path = finetune_layer(recipe, schema, str(config["init"]))
        config = merge_config(recipe.defaults, recipe.losses, toml, given, sets, schema=schema, finetune=layer)
        config["init"] = str(path)
    for key in getattr(recipe, "required", ()) if require else ():
        if config.get(key) in (None, ""):
            flag = f"--{key.replace('_', '-')}" if key == "data" else f"--set {key}=..."
            what = " DIR (a folder of training images)" if key == "data" else ""
            raise ConfigError(f"imggan train {recipe.name}: {flag}{what} is required")
    return config


def list_config(recipe: TrainRecipe) -> str:
    """Every key of a run of ``recipe`` with its type, default and help (``imggan train TASK --list-config``)."""
    finetune = FINETUNE_DEFAULTS if getattr(recipe, "finetune", None) is None else recipe.finetune
    return schema_for(recipe).table(finetune)


def _resume_config(
    saved: dict[str, Any], config: dict[str, Any], given: Collection[str], notes: list[str]
) -> dict[str, Any]:
    """The checkpoint's config, with the keys of :data:`RESUME_OVERRIDES` that the caller ``given`` set."""
    resumed = dict(saved)
    for key in given:
        if key not in config:
            continue
        if key in RESUME_OVERRIDES:
            resumed[key] = config[key]
        elif key in saved and saved[key] != config[key]:
            notes.append(f"--resume keeps the checkpoint's {key}={saved[key]!r} (given {config[key]!r})")
    return resumed


def train(
    recipe: TrainRecipe,
    config: dict[str, Any],
    run_dir: Path,
    resume: bool = False,
    given: Collection[str] | None = None,
) -> dict[str, Any]:
    """Train ``recipe`` for ``config["steps"]`` steps, writing into ``run_dir``; return the final stats.

    Args:
        recipe: the task's recipe.
        config: the config; keys not given take the trainer's and the recipe's defaults (checked by
            :func:`configure`).
        run_dir: the run folder (``checkpoints/``, ``samples/``, ``log.jsonl``, ``tb/``, exported model).
        resume: continue from the newest checkpoint in ``run_dir`` that reads back whole (its config is kept,
            except the keys of :data:`RESUME_OVERRIDES` that were given); starts fresh when there is none.
        given: the keys the caller set on purpose (the command line's options, ``--config`` and ``--set``);
            default: the keys of ``config`` as passed. A resumed run takes only these from ``config``, so an
            option left out (``ckpt_every``, ``sample_every``, ...) keeps the checkpoint's value instead of
            the default's.

    Returns:
        ``{"step", "losses" (last logged means), "interrupted", "rollbacks", "checkpoint", "export",
        "ada_p", "seconds", "run_dir"}``.

    Raises:
        TrainingDiverged: non-finite values after every rollback, or a loss that grew by orders of magnitude.
        ImgganError: a bad config (unknown key, loss term or augmentation, missing discriminator, bad data).
    """
    run_dir = Path(run_dir)
    given = set(config) if given is None else set(given)
    config = configure(recipe, config)
    notes: list[str] = []
    info = dist_utils.from_env()
    if info.is_main:
        removed = ckpt.remove_temp_files(run_dir)
        if removed:
            notes.append(f"removed {len(removed)} temporary file(s) left by an interrupted write")
    if not resume and ckpt.list_checkpoints(run_dir):
        raise ImgganError(f"{run_dir} already holds a run's checkpoints: pass --resume, or choose another --out")
    latest, loaded = None, None
    if resume:
        latest, loaded, skipped = ckpt.latest_valid_checkpoint(run_dir)
        for path, reason in skipped:
            notes.append(f"checkpoint {path.name} is unreadable ({reason}); falling back to an older one")
        if skipped and latest is None:
            raise ImgganError(f"{run_dir}: no checkpoint reads back whole ({skipped[0][1]}); cannot --resume")
    if loaded is not None:
        config = _resume_config(loaded[1]["config"], config, given, notes)
    started = time.perf_counter()
    from imggan.train.loop import run_loop
    from imggan.train.trainer import Trainer

    with LogCapture() as capture:
        trainer = Trainer(recipe, config, run_dir)
        try:
            if latest is not None:
                trainer.load_checkpoint(latest, loaded)
            else:
                torch.manual_seed(int(config["seed"]) + 7919 * trainer.info.rank)
                if trainer.info.enabled:
                    dist_utils.broadcast_module(trainer.G)
                    dist_utils.broadcast_module(trainer.G_ema)
            return run_loop(trainer, latest, notes, started, capture)
        finally:
            trainer.close()


def export_model(recipe: TrainRecipe, G_ema: nn.Module, config: dict[str, Any], run_dir: Path, step: int) -> Path:
    """``recipe.export(G_ema, config, run_dir)``, or ``RUN/generator.safetensors`` + card when it has none."""
    if recipe.export is not None:
        return Path(recipe.export(G_ema, config, run_dir))
    from imggan.weights import save_weights

    path = Path(run_dir) / "generator.safetensors"
    card = {
        "task": recipe.name,
        "arch": {"recipe": recipe.name},
        "steps": step,
        "config": {k: v for k, v in config.items() if k != "init"},
    }
    save_weights(path, G_ema.state_dict(), card)
    return path


def export_run(recipe: TrainRecipe, run_dir: Path, checkpoint: str | Path | None = None) -> Path:
    """Export the EMA generator of a checkpoint in ``run_dir`` (default: the newest) without training.

    Args:
        recipe: the run's recipe.
        run_dir: the run folder.
        checkpoint: a step number (``"4000"``) or a checkpoint file; ``None`` = the newest that reads whole.

    Raises:
        ImgganError: the run has no checkpoint, or not the one asked for.
    """
    if checkpoint is None:
        chosen, loaded, _ = ckpt.latest_valid_checkpoint(Path(run_dir))
        if chosen is None or loaded is None:
            raise ImgganError(f"{run_dir} has no checkpoint to export")
        tensors, meta = loaded
    else:
        text = str(checkpoint)
        chosen = ckpt.checkpoint_path(Path(run_dir), int(text)) if text.isdigit() else Path(text).expanduser()
        if not chosen.is_file():
            have = ", ".join(p.stem for p in ckpt.list_checkpoints(Path(run_dir))) or "none"
            raise ImgganError(f"checkpoint {checkpoint}: no such file {chosen} (the run has: {have})")
        tensors, meta = ckpt.load_checkpoint(chosen)
    config = meta["config"]
    torch.manual_seed(int(config["seed"]))
    generator = recipe.build_generator(config)
    generator.load_state_dict(ckpt.strip_prefix(tensors, "G_ema/"))
    generator.eval().requires_grad_(False)
    return export_model(recipe, generator, config, Path(run_dir), int(meta["step"]))


def dry_run(recipe: TrainRecipe, config: dict[str, Any]) -> dict[str, Any]:
    """Build everything and run two steps without writing anything; report shapes, sizes, losses, timing.

    Used by ``imggan train TASK --dry-run`` to check a config before a long run.
    """
    from imggan.train.trainer import Trainer

    config = configure(recipe, config)
    trainer = Trainer(recipe, config, None)
    try:
        torch.manual_seed(int(config["seed"]))
        batch = trainer.prepare(next(trainer.stream))
        shapes = {k: list(v.shape) for k, v in batch.items() if isinstance(v, Tensor)}
        trainer.train_step()
        trainer.rec.reset()
        t0 = time.perf_counter()
        trainer.train_step()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize(trainer.device)
        seconds = time.perf_counter() - t0
        losses = trainer.rec.means()

        def count(m: nn.Module | None) -> int:
            return sum(p.numel() for p in m.parameters()) if m is not None else 0

        return {
            "recipe": recipe.name,
            "device": str(trainer.device),
            "amp": str(trainer.amp_dtype) if trainer.amp_dtype else "fp32",
            "generator_params": count(trainer.G),
            "discriminator_params": count(trainer.D),
            "objective": trainer.weights,
            "batch": shapes,
            "losses": losses,
            "seconds_per_step": seconds,
            "config": config,
        }
    finally:
        trainer.close()
