"""The training config: trainer defaults < recipe defaults < TOML file < command line.

The config is one flat dict (JSON-able, stored in every checkpoint) plus ``losses``, the generator objective
``{term: weight}``. A TOML file may set any key at the top level and the objective either as
``losses = {adv = 1, l1 = 10}`` or in a ``[losses]`` table. On the command line ``--loss adv=1,l1=10``
replaces the objective and ``--set key=value`` sets any key (the value is read as TOML: ``3``, ``0.5``,
``true``, ``[0.0, 0.99]``, ``"text"``; anything that is not valid TOML is kept as a string).

Example:
    >>> from imggan.train.config import parse_loss_spec, parse_set
    >>> parse_loss_spec("adv=1,l1=10")
    {'adv': 1.0, 'l1': 10.0}
    >>> parse_set("betas=[0.0, 0.99]")
    ('betas', [0.0, 0.99])
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TRAINER_DEFAULTS: dict[str, Any] = {
    "data": None,  # training data folder (recipe-specific meaning)
    "steps": 10_000,  # optimizer steps (each over batch_size * accum samples per process)
    "batch_size": 16,  # per process and per micro-batch
    "lr_g": 2e-4,
    "lr_d": 2e-4,  # TTUR: set it apart from lr_g
    "betas": [0.0, 0.99],
    "lr_schedule": "constant",  # constant | cosine | linear: decay of both learning rates towards lr_min_factor
    "lr_warmup": 0,  # steps of linear warm-up from 0 (counted from the run's first step)
    "lr_decay_start": 0,  # step where the decay begins (e.g. the step a fine-tuning run resumes from)
    "lr_min_factor": 0.0,  # the schedule ends at base lr * this at step `steps`
    "weight_decay": 0.0,
    "seed": 0,
    "device": "auto",
    "gan_loss": "nonsaturating",  # minimax | nonsaturating | hinge | lsgan | wgan-gp
    "gp_weight": 10.0,  # WGAN-GP penalty weight
    "r1_gamma": 0.0,  # R1 weight gamma (penalty gamma/2 * |grad|^2); 0 = off
    "r1_every": 16,  # lazy regularisation interval (steps)
    "spectral_norm": False,  # wrap every conv/linear weight of D in spectral norm
    "d_steps": 1,  # D updates per G update
    "ema_beta": 0.999,  # EMA of G's weights (0 = no averaging)
    "ema_rampup": 10.0,  # beta_t = min(ema_beta, (t + 1) / (t + 1 + ema_rampup))
    "augment": [],  # DiffAugment names, e.g. ["color", "translation", "cutout"]
    "augment_p": None,  # fixed probability (None: ADA-controlled when ada_target > 0, else 1.0)
    "ada_target": 0.6,  # ADA target for E[sign(D(real))]; 0 disables the controller
    "ada_interval": 4,
    "ada_kimg": 100.0,  # thousands of images for p to go from 0 to 1
    "amp": "auto",  # auto (bf16 on CUDA, fp32 on CPU) | true | false
    "channels_last": "auto",  # auto (on CUDA) | true | false
    "compile": False,  # torch.compile G and D
    "grad_clip": 0.0,  # max gradient norm for G and D (0 = off)
    "accum": 1,  # gradient accumulation micro-batches
    "sample_every": 500,  # EMA sample grid (and recipe.evaluate) every N steps; 0 = only at the end
    "sample_count": 64,
    "ckpt_every": 1000,
    "keep_last": 3,
    "log_every": 10,
    "guard_every": 50,  # snapshot interval of the NaN/inf guard
    "guard_lr_factor": 0.5,  # learning rates are multiplied by this on each rollback
    "guard_max_rollbacks": 8,  # then the run stops with an error instead of looping
    "check_every": "auto",  # steps between finiteness/interrupt checks, a device sync (auto: 1 CPU, 10 CUDA)
    "threads": 0,  # torch CPU threads (0 = torch's choice)
    "prefetch": "auto",  # batches drawn ahead in a thread (auto: 2 on CUDA, 0 on CPU)
    "find_unused": False,  # DDP find_unused_parameters
    "init": None,  # .safetensors to initialise G from (fine-tuning)
    "progress": True,
    "tensorboard": True,
    "export": True,  # call recipe.export at the end
}


def parse_value(text: str) -> Any:
    """Read ``text`` as a TOML value; return it unchanged when it is not one (a bare word)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_set(item: str) -> tuple[str, Any]:
    """``"key=value"`` -> ``(key, parsed value)``.

    Raises:
        ValueError: no ``=`` in ``item``.
    """
    if "=" not in item:
        raise ValueError(f"--set {item!r}: expected key=value")
    key, value = item.split("=", 1)
    return key.strip(), parse_value(value.strip())


def parse_loss_spec(spec: str) -> dict[str, float]:
    """``"adv=1,l1=10"`` -> ``{"adv": 1.0, "l1": 10.0}``; a bare name means weight 1.

    Raises:
        ValueError: a weight that is not a number.
    """
    out: dict[str, float] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, weight = part.partition("=")
        try:
            out[name.strip()] = float(weight) if weight.strip() else 1.0
        except ValueError as exc:
            raise ValueError(f"--loss {part!r}: the weight must be a number") from exc
    return out


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML config; a ``[losses]`` table or ``losses = {...}`` becomes the objective."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return data


def merge_config(
    recipe_defaults: Mapping[str, Any],
    recipe_losses: Mapping[str, float],
    toml: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    sets: Iterable[str] = (),
) -> dict[str, Any]:
    """Merge the layers of the config in priority order and return a fresh dict.

    Args:
        recipe_defaults: ``recipe.defaults``.
        recipe_losses: ``recipe.losses`` (the default objective).
        toml: the ``--config`` file's content.
        cli: options given on the command line (``None`` values are skipped); ``losses`` replaces the
            objective.
        sets: ``--set key=value`` items, applied last.
    """
    config = copy.deepcopy(TRAINER_DEFAULTS)
    config["losses"] = dict(recipe_losses)
    for layer in (recipe_defaults, toml or {}, cli or {}):
        for key, value in layer.items():
            if value is None:
                continue
            if key == "losses":
                config["losses"] = {k: float(v) for k, v in dict(value).items()}
            else:
                config[key] = copy.deepcopy(value)
    for item in sets:
        key, value = parse_set(item)
        if key == "losses" and isinstance(value, str):
            value = parse_loss_spec(value)
        config[key] = value
    return config


def active_losses(config: Mapping[str, Any]) -> dict[str, float]:
    """The objective without zero-weight terms."""
    return {name: float(w) for name, w in dict(config.get("losses", {})).items() if float(w) != 0.0}
