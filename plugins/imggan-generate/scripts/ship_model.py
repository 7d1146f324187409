"""Copy a run's exported generator into the package's ``weights/`` with a complete card (maintainers only).

Usage:
    python plugins/imggan-generate/scripts/ship_model.py RUN --checkpoint 3000 --name digits --default \
        --description "..." --command "imggan train generate ..." --source "..." --licence "..."

The generator is exported from the chosen checkpoint (EMA weights) through the recipe; the card gets the name,
default flag, description, sources and their licences, the exact train command, the steps and wall time read
from the run's ``log.jsonl`` (up to that step), the device and the torch version. ``benchmarks/generate.py``
adds the figures afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from imggan.train.trainer import export_run
from imggan.weights import atomic_write_bytes, read_card
from imggan_generate.recipes import generate_recipe

WEIGHTS = Path(__file__).resolve().parents[1] / "imggan_generate" / "weights"
DEVICE = "2-core AMD EPYC VM (/proc/cpuinfo) shared by 7 jobs, 1 torch thread (CPU)"


def run_seconds(run: Path, until: int) -> float:
    """Wall time of the run up to step ``until``: the sum of gaps between log records (gaps < 10 min)."""
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    times = [r["time"] for r in records if "time" in r and r.get("step", 0) <= until]
    return float(sum(b - a for a, b in zip(times, times[1:], strict=False) if 0 < b - a < 600))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--checkpoint", required=True, help="step to export (chosen on the validation split)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--default", action="store_true")
    parser.add_argument("--description", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--source", action="append", required=True)
    parser.add_argument("--licence", action="append", required=True)
    parser.add_argument("--note", default="")
    args = parser.parse_args()

    exported = export_run(generate_recipe(), args.run, args.checkpoint)
    card = read_card(exported)
    step = int(args.checkpoint)
    card.update(
        {
            "name": args.name,
            "default": args.default,
            "description": args.description,
            "sources": args.source,
            "licences": args.licence,
            "command": args.command,
            "steps": step,
            "seconds": round(run_seconds(args.run, step)),
            "device": DEVICE,
            "torch": torch.__version__,
            "note": args.note,
        }
    )
    target = WEIGHTS / f"{args.name}.safetensors"
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(exported, target)
    atomic_write_bytes(target.with_suffix(".json"), (json.dumps(card, indent=2, sort_keys=True) + "\n").encode())
    print(target)


if __name__ == "__main__":
    main()
