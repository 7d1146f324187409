"""Fine-tuning: ``--init NAME|PATH`` starts G from trained weights, with the architecture from their card.

``NAME`` is a registered model of the recipe's task (``imggan models`` lists them), ``PATH`` a
``.safetensors`` file with its JSON card beside it. The card's ``arch`` decides how G is built, so no
``--set arch.*`` is needed: when the recipe has an ``arch`` table (``defaults["arch"] = {...}``) the whole
card ``arch`` goes there; every other ``arch`` entry that is one of the recipe's keys (``widths``, ``scale``)
sets that key (a recipe's ``card_config`` replaces this rule). Options the user gives still win over the
card. A fine-tuning run also takes the recipe's ``finetune`` defaults (else
:data:`imggan.train.config.FINETUNE_DEFAULTS`): Adam's moments start at zero, and a full learning rate on the
first steps wrecks trained weights.

Example:
    >>> from imggan.train.finetune import arch_overrides
    >>> from imggan.train.schema import ConfigField, Schema
    >>> schema = Schema([ConfigField("widths", "", list[int], [8], "demo"), ConfigField("crop", "", int, 64, "demo")])
    >>> arch_overrides({"arch": {"name": "unet", "widths": [32, 64], "note": 1}}, schema)
    {'widths': [32, 64]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from imggan.errors import ImgganError, ModelNotFoundError
from imggan.train.schema import Schema

ARCH_SKIP = ("name",)


def resolve_init(task: str, name_or_path: str) -> Path:
    """The weights file of ``--init``: a registered model name of ``task``, or a path.

    Raises:
        ImgganError: neither a known model name nor a ``.safetensors`` file.
    """
    path = Path(name_or_path).expanduser()
    if path.suffix == ".json":
        path = path.with_suffix(".safetensors")
    if path.is_file():
        return path
    entries: list[Any] = []
    try:
        from imggan.plugins import get_registry

        entries = list(get_registry().models)
    except Exception:  # no plugin manager (embedding, tests): paths only
        entries = []
    from imggan.weights import resolve_model

    try:
        return Path(resolve_model(task, name_or_path, entries).path)
    except ModelNotFoundError as exc:
        raise ImgganError(f"--init: {exc}") from None


def read_init_card(path: Path) -> dict[str, Any]:
    """The JSON card beside the ``--init`` weights (empty when there is none)."""
    from imggan.weights import read_card

    try:
        return read_card(Path(path))
    except Exception:  # an unreadable card: the recipe's architecture is used
        return {}


def arch_overrides(card: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """Config values that rebuild the card's architecture (see the module docstring)."""
    arch = card.get("arch")
    if not isinstance(arch, dict):
        return {}
    out: dict[str, Any] = {}
    table = schema.fields.get("arch")
    if table is not None and isinstance(table.default, dict):
        out["arch"] = dict(arch)
    for key, value in arch.items():
        f = schema.fields.get(key)
        if key in ARCH_SKIP or f is None or f.owner == "trainer" or (key == "arch" and "arch" in out):
            continue
        out[key] = schema.check_item(key, value, f"--init card arch.{key}")
    return out


def finetune_layer(recipe: Any, schema: Schema, init: str) -> tuple[dict[str, Any], Path]:
    """The config layer of a run from ``--init``: fine-tune defaults, the card's architecture, the resolved path."""
    from imggan.train.config import FINETUNE_DEFAULTS

    path = resolve_init(str(recipe.name), init)
    defaults = FINETUNE_DEFAULTS if getattr(recipe, "finetune", None) is None else recipe.finetune
    layer = dict(schema.check(dict(defaults), "fine-tune defaults"))
    card = read_init_card(path)
    custom = getattr(recipe, "card_config", None)
    layer.update(schema.check(custom(card), "--init card") if custom is not None else arch_overrides(card, schema))
    layer["init"] = str(path)
    return layer, path


def load_init(generator: nn.Module, path: str) -> None:
    """Copy G's weights from ``path`` (a model export, or a checkpoint's ``G_ema/`` or ``G/`` tensors).

    Raises:
        ImgganError: the tensors do not fit the generator (names or shapes), with the first differences.
    """
    from imggan.train.checkpoint import strip_prefix
    from imggan.weights import load_weights

    tensors, _ = load_weights(Path(path))
    own = generator.state_dict()
    for prefix in ("", "G_ema/", "G/"):
        candidate = strip_prefix(tensors, prefix) if prefix else tensors
        if own and set(own) <= set(candidate):
            wrong = [k for k, v in own.items() if tuple(candidate[k].shape) != tuple(v.shape)]
            if wrong:
                k = wrong[0]
                raise ImgganError(
                    f"--init {path}: {len(wrong)} tensor(s) have other shapes than this generator's (e.g. {k}: "
                    f"{tuple(candidate[k].shape)} vs {tuple(own[k].shape)}); the architecture options given "
                    "differ from the model's card"
                )
            generator.load_state_dict({k: candidate[k] for k in own})
            return
    missing = sorted(set(own) - set(tensors))[:5]
    raise ImgganError(f"--init {path}: its tensors do not match the generator (missing e.g. {missing})")
