"""Model cards: what the JSON beside a ``.safetensors`` file holds, and the one writer every head uses.

The card schema (keys the core reads are marked *; the rest is provenance, kept as written):

* ``task`` * -- the task the weights serve (``inpaint``, ``denoise``, ...); a model of another task is refused.
* ``arch`` * -- ``{"name": ..., **arguments}``: the network the head builds (``build(arch)``); an unknown
  ``name`` is refused.
* ``name`` * -- the ``--model`` name when shipped in a head's ``weights/`` (default: the file stem).
* ``default`` * -- ``true`` on the model a task uses without ``--model``.
* ``description`` * -- the line ``imggan models`` shows.
* ``storage_dtype`` -- ``float16`` when the tensors were stored in half precision (loaded as float32).
* ``config`` -- the training config (data paths left out); ``init`` -- the weights training started from.
* ``sources`` -- the training data and their licences; ``data`` -- how to rebuild that data.
* ``commands`` -- the exact commands that produced the weights; ``training`` -- steps, seconds, device,
  per run; ``benchmark`` -- figures on held-out images; ``exported`` (UTC), ``python``, ``torch``.

Training exports land in ``RUN/export/<task>.safetensors`` (:func:`export_model`; ``--model RUN`` picks
it), and maintainers copy a chosen export into a head's ``weights/`` with :func:`ship_model`::

    python -m imggan.cards RUN/export/denoise.safetensors plugins/imggan-enhance/imggan_enhance/weights \\
        --name default --default --description "..." --command "imggan train denoise ..." --run RUN

(``--run RUN@STEP`` counts that run's steps and seconds up to the exported checkpoint when it was not the run's
last, ``--until STEP`` does so for every ``--run`` without its own ``@STEP``;
``--field KEY=VALUE`` adds a head's own card field, JSON or text, a repeated key making a list.)

Example:
    >>> import tempfile, torch
    >>> from imggan.cards import export_model
    >>> from imggan.weights import read_card
    >>> path = export_model(torch.nn.Linear(2, 2), tempfile.mkdtemp(), "demo", {"name": "linear"}, {"steps": 3})
    >>> path.parent.name, path.name, read_card(path)["task"], read_card(path)["config"]
    ('export', 'demo.safetensors', 'demo', {'steps': 3})
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imggan.weights import atomic_write_bytes, card_path, read_card

if TYPE_CHECKING:
    from torch import nn

_PRIVATE_CONFIG = ("data", "init", "out", "run_dir")


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def write_card(weights: Path, card: dict[str, Any]) -> Path:
    """Write ``card`` as the JSON beside ``weights`` (sorted keys, atomically); returns the card's path."""
    path = card_path(weights)
    atomic_write_bytes(path, (json.dumps(card, indent=2, sort_keys=True) + "\n").encode())
    return path


def model_card(task: str, arch: dict[str, Any], config: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A card for freshly trained weights: task, arch, the JSON-able config, versions and export time."""
    import torch

    card: dict[str, Any] = {
        "task": task,
        "arch": dict(arch),
        "config": {k: v for k, v in config.items() if k not in _PRIVATE_CONFIG and _jsonable(v)},
        "init": config.get("init"),
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    card.update(fields)
    return card


def export_model(
    net: nn.Module, run_dir: str | Path, task: str, arch: dict[str, Any], config: dict[str, Any], **fields: Any
) -> Path:
    """Save ``net``'s weights as ``RUN/export/<task>.safetensors`` with its card; returns the path.

    ``arch`` must let the head rebuild ``net`` (``{"name": ..., **arguments}``); ``fields`` are added to
    the card (sources, parameters, ...).
    """
    from imggan.weights import save_weights

    if "name" not in arch:
        raise ValueError("arch needs a 'name': the architecture the head builds from the card")
    path = Path(run_dir) / "export" / f"{task}.safetensors"
    params = sum(p.numel() for p in net.parameters())
    save_weights(path, net.state_dict(), model_card(task, arch, config, **{"parameters": params, **fields}))
    return path


def _home_relative(path: Path) -> str:
    try:
        return str(Path("~") / path.expanduser().resolve().relative_to(Path.home().resolve()))
    except ValueError:
        return str(path)


def run_stats(run: Path, until: int | None = None) -> dict[str, Any]:
    """Steps and training seconds of a run, from its ``log.jsonl`` (up to step ``until`` when given: the
    checkpoint that was exported, when it is not the run's last).

    Seconds: the sum of the gaps under 10 minutes between consecutive step records, leaving out the pause
    between a stop (a ``stopping ...`` event) and the ``--resume`` that continued it. The run is named with
    the home folder written as ``~``, so a card does not carry one machine's user paths.
    """
    log = Path(run) / "log.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
    steps = [r for r in records if "step" in r and "time" in r and (until is None or r["step"] <= until)]
    seconds = 0.0
    for a, b in zip(steps, steps[1:], strict=False):
        gap = b["time"] - a["time"]
        if not str(a.get("event", "")).startswith("stopping") and 0 < gap < 600:
            seconds += gap
    last = max((r["step"] for r in steps), default=0)
    return {"run": _home_relative(Path(run)), "steps": last, "seconds": round(seconds)}


def ship_model(
    weights: Path,
    weights_dir: Path,
    name: str,
    *,
    file: str | None = None,
    default: bool = False,
    description: str = "",
    commands: Sequence[str] = (),
    runs: Sequence[Path | tuple[Path, int | None]] = (),
    device: str = "",
    benchmark: dict[str, Any] | None = None,
    note: str = "",
    half: bool = False,
    fields: dict[str, Any] | None = None,
    until: int | None = None,
) -> Path:
    """Copy an exported model into a head's ``weights/`` as ``<task>-<name>`` with a complete card.

    The card keeps the export's fields and gains ``name``, ``default``, ``description``, ``commands``,
    ``training`` (steps and seconds of each run in ``runs``, read from their logs; the device) and
    ``benchmark``. ``half`` stores floating-point tensors as float16 (half the size; loaded as float32).
    ``fields`` are a head's own card fields (``licences``, descriptive ``sources``, ...), set last.
    A run given as ``(path, step)`` is counted up to that step (the exported checkpoint's); ``until`` is the
    step for runs given as a bare path.
    """
    card = read_card(weights)
    if "task" not in card or "arch" not in card:
        raise ValueError(f"{weights}: its card has no task/arch; export it with `imggan train TASK --export`")
    target = Path(weights_dir) / f"{file or card['task'] + '-' + name}.safetensors"
    target.parent.mkdir(parents=True, exist_ok=True)
    if half:
        from safetensors.torch import load_file

        from imggan.weights import save_weights

        tensors = {k: v.half() if v.is_floating_point() else v for k, v in load_file(str(weights)).items()}
        save_weights(target, tensors, {})
        card["storage_dtype"] = "float16"
    else:
        shutil.copyfile(weights, target)
    stats = [run_stats(*r) if isinstance(r, tuple) else run_stats(r, until) for r in runs]
    card.update(name=name, default=default, description=description, commands=list(commands))
    card["training"] = {
        "runs": stats,
        "steps_total": sum(r["steps"] for r in stats),
        "seconds_total": sum(r["seconds"] for r in stats),
        "device": device,
    }
    if benchmark is not None:
        card["benchmark"] = benchmark
    if note:
        card["note"] = note
    if isinstance(card.get("config"), dict):
        card["config"].pop("data", None)
    card.update(fields or {})
    write_card(target, card)
    return target


def parse_run(text: str) -> tuple[Path, int | None]:
    """``RUN`` or ``RUN@STEP`` (a ``--run`` value) as ``(path, step)``; ``step`` is None without ``@STEP``.

    Example:
        >>> parse_run("runs/t4@1000"), parse_run("runs/t4")
        ((PosixPath('runs/t4'), 1000), (PosixPath('runs/t4'), None))
    """
    path, sep, step = text.rpartition("@")
    if sep and path and step.isdigit():
        return Path(path), int(step)
    return Path(text), None


def _parse_fields(parser: argparse.ArgumentParser, pairs: Sequence[str]) -> dict[str, Any]:
    """``--field KEY=VALUE`` pairs as card fields: VALUE parsed as JSON when it is JSON, else kept as text."""
    fields: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            parser.error(f"--field {pair}: use KEY=VALUE")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        if key in fields:
            previous = fields[key] if isinstance(fields[key], list) else [fields[key]]
            fields[key] = [*previous, value]
        else:
            fields[key] = value
    return fields


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m imggan.cards WEIGHTS WEIGHTS_DIR --name NAME ...``: the command line of :func:`ship_model`."""
    parser = argparse.ArgumentParser(
        prog="python -m imggan.cards",
        description="Ship an exported model (RUN/export/TASK.safetensors) into a head's weights/ folder "
        "with a complete model card.",
    )
    parser.add_argument("weights", type=Path, help="the exported .safetensors (its card beside it)")
    parser.add_argument("weights_dir", type=Path, help="the head's weights/ folder")
    parser.add_argument("--name", required=True, help="the --model name users will type")
    parser.add_argument("--file", default=None, help="file stem in weights_dir (default: TASK-NAME)")
    parser.add_argument("--default", action="store_true", help="the task's model when --model is not given")
    parser.add_argument("--description", default="", help="one line for `imggan models`")
    parser.add_argument("--command", action="append", default=[], help="a command that trained it (repeatable)")
    parser.add_argument(
        "--run",
        action="append",
        type=parse_run,
        default=[],
        metavar="RUN[@STEP]",
        help="a run folder whose log gives steps and seconds (repeatable); @STEP: count only up to that step",
    )
    parser.add_argument("--device", default=f"CPU ({platform.machine()})", help="where it was trained")
    parser.add_argument("--bench", type=Path, default=None, help="a benchmark JSON to record")
    parser.add_argument("--bench-key", action="append", default=[], help="record only these keys of --bench")
    parser.add_argument("--note", default="")
    parser.add_argument("--half", action="store_true", help="store the weights as float16")
    parser.add_argument("--until", type=int, default=None, help="STEP for every --run given without @STEP")
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a card field of the head's own (VALUE: JSON, else text; a key given twice becomes a list)",
    )
    args = parser.parse_args(argv)
    fields = _parse_fields(parser, args.field)
    bench = None
    if args.bench is not None:
        bench = json.loads(args.bench.read_text())
        if args.bench_key:
            keep = {"machine", "threads", "crops", *args.bench_key}
            bench = {k: v for k, v in bench.items() if k in keep}
    target = ship_model(
        args.weights,
        args.weights_dir,
        args.name,
        file=args.file,
        default=args.default,
        description=args.description,
        commands=args.command,
        runs=[(path, args.until if step is None else step) for path, step in args.run],
        device=args.device,
        benchmark=bench,
        note=args.note,
        half=args.half,
        fields=fields,
        until=args.until,
    )
    print(target)


if __name__ == "__main__":
    main()
