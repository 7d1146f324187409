"""The training config: typed trainer fields, and the layers trainer < recipe < fine-tune < TOML < options < --set.

The config is one flat dict (JSON-able, stored in every checkpoint) plus ``losses``, the generator objective
``{term: weight}``. Every key is declared: the trainer's fields are :data:`TRAINER_FIELDS`, a recipe adds its
own (see :mod:`imggan.train.schema`), and each layer is checked against that schema before anything is built.
A TOML file may set any key at the top level and the objective either as ``losses = {adv = 1, l1 = 10}`` or
in a ``[losses]`` table. On the command line ``--loss adv=1,l1=10`` replaces the objective and ``--set
key=value`` sets any key (the value is read as TOML: ``3``, ``0.5``, ``true``, ``[0.0, 0.99]``, ``"text"``;
anything that is not valid TOML is kept as a string). With ``--init`` (fine-tuning) the recipe's
``finetune`` defaults (else :data:`FINETUNE_DEFAULTS`) and the architecture on the init model's card come
between the recipe's defaults and the TOML file.

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
from typing import Any, Literal

from imggan.train.schema import ConfigError, ConfigField, Schema, build_schema

AUTO = Literal["auto"]
F = ConfigField
TRAINER_FIELDS: list[ConfigField] = [
    F("data", "training data folder (its meaning is the recipe's)", str | None, None),
    F("steps", "optimizer steps (each over batch_size * accum samples per process)", int, 10_000),
    F("batch_size", "samples per process and per micro-batch", int, 16),
    F("lr_g", "generator learning rate (Adam)", float, 2e-4),
    F("lr_d", "discriminator learning rate (TTUR: set it apart from lr_g)", float, 2e-4),
    F("betas", "Adam betas of both optimizers", list[float], [0.0, 0.99]),
    F(
        "lr_schedule",
        "decay of both learning rates towards lr_min_factor",
        Literal["constant", "cosine", "linear"],
        "constant",
    ),  # fmt: skip
    F("lr_warmup", "steps of linear warm-up from 0 (counted from the run's first step)", int, 0),
    F("lr_decay_start", "step where the decay begins (e.g. where a fine-tuning run starts)", int, 0),
    F("lr_min_factor", "the schedule ends at base lr * this at step `steps`", float, 0.0),
    F("weight_decay", "Adam weight decay", float, 0.0),
    F("seed", "random seed (networks, data, noise)", int, 0),
    F("device", "auto|cpu|cuda[:N]|mps", str, "auto"),
    F("gan_loss", "minimax | nonsaturating | hinge | lsgan | wgan-gp", str, "nonsaturating"),
    F("gp_weight", "WGAN-GP penalty weight", float, 10.0),
    F("r1_gamma", "R1 weight gamma (penalty gamma/2 * |grad D(real)|^2); 0 = off", float, 0.0),
    F("r1_every", "lazy regularisation interval (steps) of R1", int, 16),
    F("spectral_norm", "wrap every conv/linear weight of D in spectral norm", bool, False),
    F("d_steps", "D updates per G update", int, 1),
    F("ema_beta", "EMA decay of G's weights (0 = no averaging)", float, 0.999),
    F("ema_rampup", "beta_t = min(ema_beta, (t + 1) / (t + 1 + ema_rampup))", float, 10.0),
    F("augment", 'DiffAugment names for D\'s input, e.g. ["color", "translation", "cutout"]', list[str], []),
    F("augment_p", "fixed augmentation probability (none: ADA when ada_target > 0, else 1)", float | None, None),
    F("ada_target", "ADA target for E[sign(D(real))]; 0 disables the controller", float, 0.6),
    F("ada_interval", "steps between ADA adjustments", int, 4),
    F("ada_kimg", "thousands of images for the ADA probability to go from 0 to 1", float, 100.0),
    F("amp", "autocast: auto (bf16 on CUDA, fp32 on CPU) | true | false", bool | AUTO, "auto"),
    F("channels_last", "channels_last memory format: auto (on CUDA) | true | false", bool | AUTO, "auto"),
    F("compile", "torch.compile G and D (falls back to eager when compilation fails)", bool, False),
    F(
        "optimizer_impl",
        "Adam kernel: auto (fused on CUDA, foreach elsewhere) | fused | foreach | loop",
        Literal["auto", "fused", "foreach", "loop"],
        "auto",
    ),  # fmt: skip
    F("grad_clip", "max gradient norm of G and D (0 = off)", float, 0.0),
    F("accum", "gradient accumulation micro-batches", int, 1),
    F("sample_every", "EMA sample grid (and recipe.evaluate) every N steps; 0 = only at the end", int, 500),
    F("sample_count", "images in the sample grid", int, 64),
    F("ckpt_every", "checkpoint interval (steps; 0 = only at the end)", int, 1000),
    F("keep_last", "checkpoints kept (0 = all)", int, 3),
    F("log_every", "steps between log records: losses are read from the device only then", int, 10),
    F("guard_every", "snapshot interval of the NaN/inf guard (steps)", int, 50),
    F("guard_lr_factor", "learning rates are multiplied by this on each rollback", float, 0.5),
    F("guard_max_rollbacks", "rollbacks allowed; then the run stops with an error instead of looping", int, 8),
    F("guard_growth", "stop when the mean G loss exceeds its first value by this factor (0 = off)", float, 1e4),
    F("check_every", "steps between finiteness/stop checks, a device sync (auto: = log_every)", int | AUTO, "auto"),
    F("threads", "torch CPU threads (0 = torch's choice)", int, 0),
    F("prefetch", "batches drawn ahead in a thread (auto: 2 on CUDA, 0 on CPU)", int | AUTO, "auto"),
    F("find_unused", "DDP find_unused_parameters", bool, False),
    F("init", "model name or .safetensors to start G from (fine-tuning; arch from its card)", str | None, None),
    F("progress", "show a progress bar", bool, True),
    F("tensorboard", "TensorBoard scalars under RUN/tb: auto (when installed) | true | false", bool | AUTO, "auto"),
    F("export", "export the model at the end (recipe.export)", bool, True),
    F("losses", "the generator objective {term: weight} (--loss adv=1,l1=10)", dict[str, float], {}),
]
del F
TRAINER_DEFAULTS: dict[str, Any] = {f.name: f.default for f in TRAINER_FIELDS if f.name != "losses"}

# Fine-tuning defaults for a recipe that declares none: a short warm-up (Adam's moments start at zero, and a
# full-size first step wrecks trained weights) and a cosine decay.
FINETUNE_DEFAULTS: dict[str, Any] = {"lr_warmup": 100, "lr_schedule": "cosine"}


def schema_for(recipe: Any) -> Schema:
    """The typed schema of a run of ``recipe`` (trainer fields + the recipe's)."""
    return build_schema(TRAINER_FIELDS, recipe)


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
    """Read a TOML config; a ``[losses]`` table or ``losses = {...}`` becomes the objective.

    Raises:
        ConfigError: the file is not valid TOML.
    """
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {path}: not valid TOML ({exc})") from None


def merge_config(
    recipe_defaults: Mapping[str, Any],
    recipe_losses: Mapping[str, float],
    toml: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    sets: Iterable[str] = (),
    schema: Schema | None = None,
    finetune: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge the layers of the config in priority order and return a fresh dict.

    Args:
        recipe_defaults: ``recipe.defaults``.
        recipe_losses: ``recipe.losses`` (the default objective).
        toml: the ``--config`` file's content.
        cli: options given on the command line (``None`` values are skipped); ``losses`` replaces the
            objective.
        sets: ``--set key=value`` items, applied last.
        schema: when given, every layer above the recipe's defaults is checked against it (unknown keys and
            wrong types raise :class:`~imggan.train.schema.ConfigError`) and values are coerced to its types.
        finetune: fine-tuning defaults and the init model's architecture (between the recipe and the TOML).

    Raises:
        ConfigError: with ``schema``, a key it does not know or a value of the wrong type.
    """

    def checked(layer: Mapping[str, Any], source: str) -> Mapping[str, Any]:
        return schema.check(layer, source) if schema is not None else layer

    config = copy.deepcopy(TRAINER_DEFAULTS)
    config["losses"] = dict(recipe_losses)
    layers = [(recipe_defaults, "recipe defaults"), (finetune or {}, "fine-tune defaults")]
    layers += [(toml or {}, "--config"), (cli or {}, "options")]
    for layer, source in layers:
        for key, value in checked(layer, source).items():
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
        config[key] = checked({key: value}, f"--set {item}").get(key, value)
    return config


def active_losses(config: Mapping[str, Any]) -> dict[str, float]:
    """The objective without zero-weight terms."""
    return {name: float(w) for name, w in dict(config.get("losses", {})).items() if float(w) != 0.0}
