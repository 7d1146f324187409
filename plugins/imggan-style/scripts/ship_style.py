"""Copy a trained style run into the package: ``weights/NAME.safetensors`` + a complete JSON card.

Usage:
    python plugins/imggan-style/scripts/ship_style.py RUN_DIR NAME --description TEXT --source TEXT \
        --command TEXT [--bench benchmarks/results/style.json]

The card keeps the run's own card (arch, config) and adds the name, the reference's source and licence, the
training data's sources, the command, steps and wall time read from the run's log, and the benchmark figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from imggan.weights import load_weights, save_weights

WEIGHTS = Path(__file__).resolve().parents[1] / "imggan_style" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("name")
    parser.add_argument("--description", required=True)
    parser.add_argument("--source", required=True, help="where the reference comes from, with its licence")
    parser.add_argument("--command", required=True)
    parser.add_argument("--bench", type=Path, default=None)
    args = parser.parse_args()
    tensors, card = load_weights(args.run / "stylize.safetensors")
    records = [json.loads(line) for line in (args.run / "log.jsonl").read_text().splitlines() if line.strip()]
    steps = max((r.get("step", 0) for r in records), default=0)
    timed = [r for r in records if "time" in r and "step" in r]
    seconds = 0.0
    if len(timed) > 1:  # the log holds wall-clock stamps every log_every steps: extrapolate to step 0
        first, last = timed[0], timed[-1]
        seconds = (last["time"] - first["time"]) * last["step"] / max(1, last["step"] - first["step"])
    card.update(
        {
            "name": args.name,
            "description": args.description,
            "reference": args.source,
            "data_sources": "imggan data fetch training split (scikit-image, scikit-learn sample images, 9 Debian "
            "plasma-workspace-wallpapers photographs, GPL-2+); the 4 held-out photographs never trained on",
            "command": args.command,
            "steps": steps,
            "seconds": seconds,
            "device": "2-core Intel Xeon VM, torch 2.13.0+cpu, 1 thread, shared with other jobs",
        }
    )
    if args.bench is not None and args.bench.is_file():
        card["benchmark"] = json.loads(args.bench.read_text()).get("trained", {})
    save_weights(WEIGHTS / f"{args.name}.safetensors", tensors, card)
    print(WEIGHTS / f"{args.name}.safetensors")


if __name__ == "__main__":
    main()
