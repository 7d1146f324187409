"""Copy a run's exported model into the package's ``weights/`` with a complete card (maintainers only).

Usage:
    python plugins/imggan-enhance/scripts/ship_model.py RUN/denoise.safetensors --name default --default \
        --description "..." --command "imggan train denoise ..." [--run RUN ...] [--bench bench.json]

The card gets: name, default flag, description, the exact train command(s), steps and wall time read from
each run's ``log.jsonl``, the device, and (with ``--bench``) the benchmark rows of this model's task.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
from pathlib import Path

from imggan.weights import read_card

WEIGHTS = Path(__file__).resolve().parents[1] / "imggan_enhance" / "weights"


def run_stats(run: Path) -> dict:
    """Steps and wall-clock seconds of a run.

    Seconds: the sum of the gaps between consecutive log records < 10 min, leaving out the pause between a
    stop (``stopping on ...`` record) and the ``--resume`` that continues it, when nothing trained.
    """
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    steps = [r for r in records if "step" in r and "time" in r]
    seconds = 0.0
    for a, b in zip(steps, steps[1:], strict=False):
        gap = b["time"] - a["time"]
        if str(a.get("event", "")).startswith("stopping"):
            continue
        if 0 < gap < 600:
            seconds += gap
    return {"run": str(run), "steps": max((r["step"] for r in steps), default=0), "seconds": round(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("weights", type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--file", default=None, help="file stem in weights/ (default: task-name)")
    parser.add_argument("--default", action="store_true")
    parser.add_argument("--description", default="")
    parser.add_argument("--command", action="append", default=[])
    parser.add_argument("--run", action="append", type=Path, default=[])
    parser.add_argument("--device", default=f"CPU ({platform.machine()}), 1 torch thread, 2 shared cores")
    parser.add_argument("--bench", type=Path, default=None)
    parser.add_argument("--bench-key", action="append", default=[])
    parser.add_argument("--note", default="")
    parser.add_argument("--half", action="store_true", help="store the weights as float16 (half the size)")
    args = parser.parse_args()

    card = read_card(args.weights)
    task = card["task"]
    stem = args.file or f"{task}-{args.name}"
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    target = WEIGHTS / f"{stem}.safetensors"
    if args.half:
        from safetensors.torch import load_file, save_file

        tensors = {k: v.half() if v.is_floating_point() else v for k, v in load_file(str(args.weights)).items()}
        save_file(tensors, str(target))
        card["storage_dtype"] = "float16"
    else:
        shutil.copyfile(args.weights, target)
    target.chmod(0o644)
    runs = [run_stats(r) for r in args.run]
    card.update(
        name=args.name,
        default=args.default,
        description=args.description,
        commands=args.command,
        training={
            "runs": runs,
            "steps_total": sum(r["steps"] for r in runs),
            "seconds_total": sum(r["seconds"] for r in runs),
            "device": args.device,
        },
    )
    card["config"].pop("data", None)
    card["data"] = "imggan data fetch -> ~/.cache/imggan/data/train (see sources)"
    if args.note:
        card["note"] = args.note
    if args.bench:
        bench = json.loads(args.bench.read_text())
        card["benchmark"] = {
            "machine": bench.get("machine"),
            "threads": bench.get("threads"),
            "crops": bench.get("crops"),
            **{k: bench[k] for k in args.bench_key if k in bench},
        }
    target.with_suffix(".json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    print(target)


if __name__ == "__main__":
    main()
