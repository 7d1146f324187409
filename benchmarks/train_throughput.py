"""Training throughput: images/s of one G+D step, imggan's trainer vs a plain fp32 eager reference loop.

Both train the same DCGAN-sized models (Radford et al.: 64x64 RGB, z = 100, width 64) on synthetic batches
already in memory, so only the step is timed. The reference is the textbook loop: fp32, eager, BCE with
logits, D on reals then on fakes, then G. The trainer rows run ``imggan.train.trainer.Trainer.train_step``
(plus its periodic finiteness check) with its speed options: AMP (bf16 on CUDA; fp32 on CPU),
channels_last, and optionally ``torch.compile``. Prints a markdown table with the machine.

Usage:
    python benchmarks/train_throughput.py                     # CPU here: short
    python benchmarks/train_throughput.py --device cuda --steps 50 --compile
"""

from __future__ import annotations

import argparse
import copy
import platform
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from imggan.device import resolve_device
from imggan.nn.dcgan import DCGANDiscriminator, DCGANGenerator
from imggan.train.config import merge_config
from imggan.train.recipe import TrainRecipe
from imggan.train.trainer import Trainer


def machine(device: torch.device) -> str:
    """A short description of where the benchmark ran."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = torch.get_num_threads()
    where = f"{platform.node()}: {cpu}, {threads} torch threads"
    if device.type == "cuda":
        where += f"; {torch.cuda.get_device_name(device)}"
    return f"{where}; torch {torch.__version__}"


def make_models(z_dim: int, width: int, seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """The DCGAN pair, from a fixed seed so every row starts from the same weights."""
    torch.manual_seed(seed)
    return DCGANGenerator(z_dim, width), DCGANDiscriminator(width)


def sync(device: torch.device) -> None:
    """Wait for queued device work (timings must include it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reference(args: argparse.Namespace, device: torch.device) -> float:
    """The plain loop: fp32 eager, D(real) and D(fake) separately, BCE with logits; returns images/s."""
    G, D = make_models(args.z_dim, args.width)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(args.batch, 3, 64, 64, device=device) * 2 - 1
    ones = torch.ones(args.batch, 1, device=device)
    zeros = torch.zeros(args.batch, 1, device=device)

    def step() -> None:
        z = torch.randn(args.batch, args.z_dim, device=device)
        fake = G(z)
        opt_d.zero_grad(set_to_none=True)
        (bce(D(real), ones) + bce(D(fake.detach()), zeros)).backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        bce(D(fake), ones).backward()
        opt_g.step()

    return timed(step, args, device)


def trainer_row(args: argparse.Namespace, device: torch.device, overrides: dict[str, Any]) -> tuple[float, str]:
    """This trainer's step with ``overrides``; returns images/s and what the trainer reported (a compile
    failure it recovered from by training eagerly, say)."""
    G, D = make_models(args.z_dim, args.width)

    def batches(config: dict[str, Any], seed: int):
        gen = torch.Generator().manual_seed(seed)
        batch = {"target": torch.rand(args.batch, 3, 64, 64, generator=gen) * 2 - 1}
        while True:
            yield batch  # the same batch: no data cost in the timing

    def prepare(batch: dict[str, torch.Tensor], dev: torch.device) -> dict[str, torch.Tensor]:
        target = batch["target"].to(dev, non_blocking=True)
        return {"target": target, "z": torch.randn(target.shape[0], args.z_dim, device=dev)}

    recipe = TrainRecipe(
        name="dcgan-bench",
        help="benchmark",
        build_generator=lambda cfg: copy.deepcopy(G),
        build_discriminator=lambda cfg: copy.deepcopy(D),
        make_batches=batches,
        prepare_batch=prepare,
        generate=lambda g, batch: g(batch["z"]),
        losses={"adv": 1.0},
    )
    config = merge_config(
        {},
        recipe.losses,
        cli={
            "batch_size": args.batch,
            "device": str(device),
            "betas": [0.5, 0.999],
            "ema_beta": 0.999,
            "progress": False,
            "prefetch": 0,
            **overrides,
        },
    )
    trainer = Trainer(recipe, config, None)
    try:

        def step() -> None:
            trainer.train_step()
            if trainer.step % trainer.check_every == 0:
                trainer._check(None)  # the finiteness check of a real run (a device sync; CUDA: every 10 steps)

        return timed(step, args, device), "; ".join(trainer.pending_events)
    finally:
        trainer.close()


def timed(step, args: argparse.Namespace, device: torch.device) -> float:
    """Images/s of ``step`` after ``args.warmup`` untimed steps."""
    for _ in range(args.warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync(device)
    return args.steps * args.batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--z-dim", type=int, default=100)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="Also time the trainer with torch.compile.")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    rows: list[tuple[str, float]] = [("reference loop (fp32, eager)", reference(args, device))]
    amp = "bf16 autocast" if device.type == "cuda" else "fp32"
    variants = [("contiguous", {"channels_last": False}), ("channels_last", {"channels_last": True})]
    if args.compile:
        variants += [
            ("contiguous, compile", {"channels_last": False, "compile": True}),
            ("channels_last, compile", {"channels_last": True, "compile": True}),
        ]
    for label, overrides in variants:
        value, note = trainer_row(args, device, overrides)
        rows.append((f"imggan trainer ({amp}, {label})" + (f" [{note}]" if note else ""), value))

    base = rows[0][1]
    print(f"\nTraining throughput, DCGAN 64x64, batch {args.batch}, width {args.width}, {args.steps} timed steps")
    print(f"Machine: {machine(device)}; device {device}\n")
    print("| loop | images/s | vs reference |")
    print("|---|---:|---:|")
    for name, value in rows:
        print(f"| {name} | {value:,.1f} | {value / base:.2f}x |")


if __name__ == "__main__":
    main()
