"""Full-state training checkpoints as one safetensors file (tensors + JSON metadata), never pickle.

A checkpoint ``RUN/checkpoints/step-00001000.safetensors`` holds every tensor of the run -- G, D, the EMA of
G, both optimizers' moment buffers, torch's RNG states -- under prefixed names (``G/``, ``D/``, ``G_ema/``,
``opt_g/<param index>/<key>``, ``rng/...``), and everything else (step, config, optimizer hyper-parameters,
GradScaler, ADA, Python/NumPy/data-sampler RNG states, guard state) as JSON in the safetensors header under
the key ``imggan``. The file is written atomically (temporary file + rename), so it is always complete; a
readable copy of the JSON sits beside it. Only the last ``keep_last`` checkpoints are kept. A run resumes
from the newest checkpoint that reads back whole (:func:`latest_valid_checkpoint`; a damaged newer one is
reported and skipped), and the temporary files a killed write left behind are removed when the next run
starts (:func:`remove_temp_files`). :func:`capture_state` and :func:`restore_state` map a
:class:`~imggan.train.trainer.Trainer`'s state to and from these files.

Example:
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from imggan.train.checkpoint import flatten_optimizer, unflatten_optimizer
    >>> p = torch.nn.Parameter(torch.ones(2)); opt = torch.optim.Adam([p])
    >>> p.grad = torch.ones(2); opt.step()
    >>> tensors, meta = flatten_optimizer(opt.state_dict(), "opt/")
    >>> sorted(tensors)
    ['opt/0/exp_avg', 'opt/0/exp_avg_sq', 'opt/0/step']
    >>> unflatten_optimizer(tensors, meta, "opt/")["param_groups"][0]["lr"]
    0.001
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from imggan.weights import atomic_write_bytes

if TYPE_CHECKING:
    from imggan.train.trainer import Trainer

FORMAT = "imggan-train-checkpoint/1"
_NAME = re.compile(r"^step-(\d+)\.safetensors$")


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


def module_tensors(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """A module's ``state_dict`` under ``prefix``, as independent contiguous CPU tensors."""
    return {prefix + k: v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}


def strip_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of ``tensors`` that start with ``prefix``, with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def flatten_optimizer(state: dict[str, Any], prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer ``state_dict`` into tensors (``prefix<param>/<key>``) and JSON metadata."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}{index}/{key}"] = value.detach().to("cpu", copy=True).contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = _jsonable(value)
    meta = {"param_groups": _jsonable(state["param_groups"]), "scalars": scalars}
    return tensors, meta


def unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Rebuild the optimizer ``state_dict`` that :func:`flatten_optimizer` split."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if not name.startswith(prefix):
            continue
        index, key = name[len(prefix) :].split("/", 1)
        state.setdefault(int(index), {})[key] = value
    for index, entry in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(entry)
    groups = []
    for group in meta["param_groups"]:
        group = dict(group)
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
        groups.append(group)
    return {"state": state, "param_groups": groups}


def save_checkpoint(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Write ``tensors`` + ``meta`` atomically as one safetensors file, with a JSON copy of ``meta`` beside."""
    from safetensors.torch import save

    meta = {"format": FORMAT, **meta}
    text = json.dumps(_jsonable(meta), sort_keys=True)
    atomic_write_bytes(Path(path), save(tensors, metadata={"imggan": text}))
    atomic_write_bytes(Path(path).with_suffix(".json"), (json.dumps(json.loads(text), indent=1) + "\n").encode())
    return Path(path)


def load_checkpoint(path: Path, device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], dict]:
    """Read a checkpoint written by :func:`save_checkpoint`: ``(tensors, meta)``.

    Raises:
        ValueError: the file is not an imggan training checkpoint.
    """
    from safetensors import safe_open

    tensors = {}
    with safe_open(str(path), framework="pt", device=str(device)) as handle:
        header = handle.metadata() or {}
        for key in handle.keys():  # noqa: SIM118 - safe_open is not a mapping
            tensors[key] = handle.get_tensor(key)
    if "imggan" not in header:
        raise ValueError(f"{path} is not an imggan training checkpoint (no 'imggan' metadata)")
    meta = json.loads(header["imggan"])
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: unsupported checkpoint format {meta.get('format')!r}")
    return tensors, meta


def checkpoint_dir(run_dir: Path) -> Path:
    """Where a run keeps its checkpoints."""
    return Path(run_dir) / "checkpoints"


def checkpoint_path(run_dir: Path, step: int) -> Path:
    """The checkpoint file of ``step``."""
    return checkpoint_dir(run_dir) / f"step-{step:08d}.safetensors"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """The run's checkpoints, oldest first."""
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest checkpoint of the run, or ``None``."""
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def prune_checkpoints(run_dir: Path, keep_last: int) -> None:
    """Delete all but the newest ``keep_last`` checkpoints (and their JSON copies)."""
    if keep_last <= 0:
        return
    for path in list_checkpoints(run_dir)[:-keep_last]:
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)


def latest_valid_checkpoint(
    run_dir: Path,
) -> tuple[Path | None, tuple[dict[str, torch.Tensor], dict] | None, list[tuple[Path, str]]]:
    """The newest checkpoint that loads whole: ``(path, (tensors, meta), [(skipped path, reason), ...])``.

    Newer checkpoints that fail to load (truncated, overwritten, not a checkpoint) are listed as skipped;
    ``(None, None, skipped)`` when no checkpoint loads.
    """
    skipped: list[tuple[Path, str]] = []
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return path, load_checkpoint(path), skipped
        except Exception as exc:  # noqa: BLE001 - any damage: try the next older one
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            skipped.append((path, reason))
    return None, None, skipped


def remove_temp_files(run_dir: Path) -> list[Path]:
    """Delete the ``.NAME.XXXX.tmp`` files that writes killed midway left in the run folder; returns them."""
    removed = []
    for folder in (Path(run_dir), checkpoint_dir(run_dir), Path(run_dir) / "samples", Path(run_dir) / "export"):
        if not folder.is_dir():
            continue
        for path in folder.glob(".*.tmp"):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def capture_state(trainer: Trainer, ranks: list[tuple[dict[str, torch.Tensor], dict[str, Any]]]) -> tuple[dict, dict]:
    """The trainer's full state as ``(tensors, meta)``; ``ranks`` holds every rank's RNG and data position."""
    tensors: dict[str, torch.Tensor] = {}
    nets = trainer.nets
    tensors.update(module_tensors(nets.G.state_dict(), "G/"))
    tensors.update(module_tensors(nets.G_ema.state_dict(), "G_ema/"))
    meta: dict[str, Any] = {"step": trainer.step, "config": trainer.config, "recipe": trainer.recipe.name}
    opt_tensors, meta["opt_g"] = flatten_optimizer(trainer.opt_g.state_dict(), "opt_g/")
    tensors.update(opt_tensors)
    if nets.D is not None and trainer.opt_d is not None:
        tensors.update(module_tensors(nets.D.state_dict(), "D/"))
        opt_tensors, meta["opt_d"] = flatten_optimizer(trainer.opt_d.state_dict(), "opt_d/")
        tensors.update(opt_tensors)
    for name in ("scaler_g", "scaler_d"):
        scaler = getattr(trainer, name)
        if scaler is not None:
            meta[name] = scaler.state_dict()
    ada = trainer.aug.ada
    meta["ada"] = ada.state_dict() if ada is not None else None
    meta["ada_signs"] = [float(trainer.ada_sign_sum), trainer.ada_count]
    meta["guard"] = {"lr_scale": trainer.lr_scale, "rollbacks": trainer.rollbacks}
    meta["ranks"] = []
    for rank, (rng_tensors, rank_meta) in enumerate(ranks):
        tensors.update({f"rank{rank}/{k}": v for k, v in rng_tensors.items()})
        meta["ranks"].append(rank_meta)
    return tensors, meta


def restore_state(trainer: Trainer, tensors: dict[str, torch.Tensor], meta: dict[str, Any], path: Path) -> None:
    """Load what :func:`capture_state` wrote into ``trainer`` (RNG last, so the next step is the same).

    Raises:
        ImgganError: the checkpoint has no discriminator state but the run trains one.
    """
    from imggan.errors import ImgganError
    from imggan.train.rng import restore_rng

    nets = trainer.nets
    nets.G.load_state_dict(strip_prefix(tensors, "G/"))
    nets.G_ema.load_state_dict(strip_prefix(tensors, "G_ema/"))
    trainer.opt_g.load_state_dict(unflatten_optimizer(tensors, meta["opt_g"], "opt_g/"))
    if nets.D is not None and trainer.opt_d is not None:
        if "opt_d" not in meta:
            raise ImgganError(f"{path} has no discriminator state but this run trains one")
        nets.D.load_state_dict(strip_prefix(tensors, "D/"))
        trainer.opt_d.load_state_dict(unflatten_optimizer(tensors, meta["opt_d"], "opt_d/"))
    for name in ("scaler_g", "scaler_d"):
        scaler = getattr(trainer, name)
        if scaler is not None and meta.get(name):
            scaler.load_state_dict(meta[name])
    ada = trainer.aug.ada
    if ada is not None and meta.get("ada"):
        ada.load_state_dict(meta["ada"])
        sign_sum, trainer.ada_count = meta.get("ada_signs", [0.0, 0.0])
        trainer.ada_sign_sum = torch.tensor(float(sign_sum), device=trainer.device)
    trainer.lr_scale = float(meta["guard"]["lr_scale"])
    trainer.rollbacks = int(meta["guard"]["rollbacks"])
    trainer.step = int(meta["step"])
    ranks = meta["ranks"]
    info = trainer.info
    if len(ranks) == info.world_size:
        trainer.stream.load_state_dict(ranks[info.rank]["stream"])
        restore_rng(strip_prefix(tensors, f"rank{info.rank}/"), ranks[info.rank]["rng"])
    else:  # another world size: fresh per-rank data and RNG, derived from the step
        torch.manual_seed(int(trainer.config["seed"]) + 7919 * info.rank + trainer.step)
