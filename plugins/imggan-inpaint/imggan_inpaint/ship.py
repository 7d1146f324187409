"""Copy a trained generator into the package as the shipped default, with a complete model card.

Example (CLI):
    python -m imggan_inpaint.ship ~/.cache/imggan/runs/inpaint-pre/export/inpaint.safetensors \\
        --command "python -m imggan_inpaint.bootstrap --out ... " --benchmark bench.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from imggan_inpaint.api import DEFAULT_MODEL, WEIGHTS_DIR


def ship(
    weights: Path, commands: list[str], benchmark: Path | None = None, notes: str = "", device: str = "cpu"
) -> Path:
    """Write ``weights`` (+ card with ``commands`` and benchmark figures) as the package's default model."""
    from imggan.weights import load_weights, save_weights

    tensors, card = load_weights(weights)
    card["name"] = DEFAULT_MODEL
    card["train_commands"] = commands
    card["device"] = device
    if benchmark is not None:
        card["benchmark"] = json.loads(Path(benchmark).read_text())
    if notes:
        card["notes"] = notes
    target = WEIGHTS_DIR / f"{DEFAULT_MODEL}.safetensors"
    save_weights(target, tensors, card)
    return target


def main(argv: list[str] | None = None) -> None:
    """Command line of :func:`ship`."""
    ap = argparse.ArgumentParser(description="Ship a trained inpainting generator as the package default.")
    ap.add_argument("weights", type=Path)
    ap.add_argument("--command", action="append", default=[], help="a train command (repeatable)")
    ap.add_argument("--benchmark", type=Path, default=None)
    ap.add_argument("--notes", default="")
    ap.add_argument("--device", default="cpu (2-core AMD EPYC, 1 torch thread)")
    args = ap.parse_args(argv)
    print(ship(args.weights, args.command, args.benchmark, args.notes, args.device))


if __name__ == "__main__":
    main()
