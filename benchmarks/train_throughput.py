"""Training throughput: images/s of one G+D step, imggan's trainer vs a plain fp32 eager reference loop.

Two sizes, each timed side by side in one run on the same machine:

- ``dcgan``: DCGAN-sized models (Radford et al.: 64x64 RGB, z = 100, width 64), batch 64, BCE-with-logits
  (the trainer's ``nonsaturating`` loss is the same objective).
- ``inpaint``: the inpaint head's recipe networks (its generator over the classical fill, its PatchGAN
  over image + mask) at 256x256, batch 8, with ``adv=0.02, hole_l1=1, hole_grad=0.5`` and hinge D loss.

Batches are prepared once and reused, so only the step is timed (no decoding, cropping or masks). The
reference is the textbook loop: fp32, eager, D on reals then on fakes, then G, Adam with its default
kernel, no EMA, no logging. The trainer rows run :meth:`imggan.train.trainer.Trainer.train_step` plus the
loop's periodic check (its one device sync per log interval) with EMA, per-term logging and the NaN guard
on -- what a real run pays. Prints one markdown table per size with the machine.

Usage:
    python benchmarks/train_throughput.py                          # CPU: both sizes, short
    python benchmarks/train_throughput.py --size dcgan --steps 10
    python benchmarks/train_throughput.py --device cuda --steps 50 --compile    # (benchmarks/gpu_session.sh)
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from _machine import cpu_model
from torch import nn

from imggan.device import resolve_device
from imggan.train.config import merge_config
from imggan.train.recipe import TrainRecipe
from imggan.train.trainer import Trainer


def machine(device: torch.device) -> str:
    """A short description of where the benchmark ran."""
    cpu = cpu_model(platform.processor() or platform.machine())
    where = f"{cpu}, {torch.get_num_threads()} torch threads"
    if device.type == "cuda":
        where += f"; {torch.cuda.get_device_name(device)}"
    return f"{where}; torch {torch.__version__}"


def sync(device: torch.device) -> None:
    """Wait for queued device work (timings must include it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Case:
    """One benchmark size: fixed-seed networks, one prepared batch, the reference step and the recipe."""

    name: str
    batch: int

    def models(self) -> tuple[nn.Module, nn.Module]:
        raise NotImplementedError

    def prepared(self, device: torch.device) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def reference_step(self, G: nn.Module, D: nn.Module, opts: tuple, batch: dict) -> None:
        raise NotImplementedError

    def recipe(self, G: nn.Module, D: nn.Module, batch: dict[str, torch.Tensor]) -> TrainRecipe:
        raise NotImplementedError

    config: dict[str, Any]


class DCGANCase(Case):
    """DCGAN 64x64, batch 64."""

    name = "DCGAN 64x64, batch 64, width 64"

    def __init__(self, batch: int = 64, z_dim: int = 100, width: int = 64) -> None:
        self.batch, self.z_dim, self.width = batch, z_dim, width
        self.config = {"betas": [0.5, 0.999], "gan_loss": "nonsaturating", "losses": {"adv": 1.0}}

    def models(self) -> tuple[nn.Module, nn.Module]:
        from imggan.nn.dcgan import DCGANDiscriminator, DCGANGenerator

        torch.manual_seed(0)
        return DCGANGenerator(self.z_dim, self.width), DCGANDiscriminator(self.width)

    def prepared(self, device: torch.device) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(1)
        return {"target": (torch.rand(self.batch, 3, 64, 64, generator=gen) * 2 - 1).to(device)}

    def reference_step(self, G, D, opts, batch) -> None:
        opt_g, opt_d = opts
        real = batch["target"]
        ones = torch.ones(real.shape[0], 1, device=real.device)
        zeros = torch.zeros_like(ones)
        fake = G(torch.randn(real.shape[0], self.z_dim, device=real.device))
        opt_d.zero_grad(set_to_none=True)
        (
            F.binary_cross_entropy_with_logits(D(real), ones)
            + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
        ).backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(D(fake), ones).backward()
        opt_g.step()

    def recipe(self, G, D, batch) -> TrainRecipe:
        z_dim = self.z_dim

        def prepare(b: dict[str, torch.Tensor], dev: torch.device) -> dict[str, torch.Tensor]:
            return {"target": b["target"], "z": torch.randn(b["target"].shape[0], z_dim, device=dev)}

        return _fixed_recipe("dcgan-bench", G, D, batch, prepare, lambda g, b: g(b["z"]))


class InpaintCase(Case):
    """The inpaint recipe's networks at 256x256, batch 8."""

    name = "inpaint recipe 256x256, batch 8 (adv=0.02, hole_l1=1, hole_grad=0.5, hinge)"

    def __init__(self, batch: int = 8, size: int = 256) -> None:
        from imggan_inpaint.recipes import build_recipe

        self.inpaint = build_recipe()
        self.batch, self.size = batch, size
        self.losses = {"adv": 0.02, "hole_l1": 1.0, "hole_grad": 0.5}
        self.config = {**self.inpaint.defaults, "crop": size, "losses": self.losses, "gan_loss": "hinge", "threads": 0}

    def models(self) -> tuple[nn.Module, nn.Module]:
        torch.manual_seed(0)
        cfg = {**self.inpaint.defaults, "crop": self.size}
        return self.inpaint.build_generator(cfg), self.inpaint.build_discriminator(cfg)

    def prepared(self, device: torch.device) -> dict[str, torch.Tensor]:
        import numpy as np

        from imggan_inpaint.masks import training_mask

        gen = torch.Generator().manual_seed(1)
        smooth = F.avg_pool2d(torch.rand(self.batch, 3, self.size, self.size, generator=gen), 9, 1, 4)
        rng = np.random.default_rng(1)
        holes = np.stack([training_mask(self.size, self.size, rng, (0.05, 0.5), 0.2) for _ in range(self.batch)])
        batch = {"target": smooth, "hole": torch.from_numpy(holes > 0).float()[:, None]}
        with torch.random.fork_rng():
            torch.manual_seed(2)
            prepared = self.inpaint.prepare_batch(batch, torch.device("cpu"), self.config)
        return {k: v.to(device) for k, v in prepared.items()}

    def reference_step(self, G, D, opts, batch) -> None:
        from imggan_inpaint.losses import hole_grad, hole_l1

        opt_g, opt_d = opts
        target, hole = batch["target"], batch["hole"]
        fake = self.inpaint.generate(G, batch)
        opt_d.zero_grad(set_to_none=True)
        real_logits = D(torch.cat([target, hole], 1))
        fake_logits = D(torch.cat([fake.detach(), hole], 1))
        real_logits = real_logits[0] if isinstance(real_logits, tuple) else real_logits
        fake_logits = fake_logits[0] if isinstance(fake_logits, tuple) else fake_logits
        (F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()).backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        adv = D(torch.cat([fake, hole], 1))
        adv = adv[0] if isinstance(adv, tuple) else adv
        loss = 0.02 * -adv.mean() + hole_l1(fake, target, hole) + 0.5 * hole_grad(fake, target, hole)
        loss.backward()
        opt_g.step()

    def recipe(self, G, D, batch) -> TrainRecipe:
        def prepare(b: dict[str, torch.Tensor], dev: torch.device) -> dict[str, torch.Tensor]:
            return b

        return _fixed_recipe(
            "inpaint-bench", G, D, batch, prepare, self.inpaint.generate, condition=self.inpaint.condition
        )


def _fixed_recipe(name, G, D, batch, prepare, generate, **extra) -> TrainRecipe:
    def batches(config: dict[str, Any], seed: int):
        while True:
            yield batch  # the same prepared batch: no data cost in the timing

    return TrainRecipe(
        name=name,
        help="benchmark",
        build_generator=lambda cfg: copy.deepcopy(G),
        build_discriminator=lambda cfg: copy.deepcopy(D),
        make_batches=batches,
        prepare_batch=prepare,
        generate=generate,
        **extra,
    )


def timed(step: Callable[[], None], args: argparse.Namespace, device: torch.device, batch: int) -> float:
    """Images/s of ``args.steps`` calls of ``step``."""
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync(device)
    return args.steps * batch / (time.perf_counter() - start)


def reference(case: Case, device: torch.device) -> Callable[[], None]:
    """The plain loop's step."""
    G, D = (m.to(device) for m in case.models())
    betas = tuple(case.config.get("betas", (0.5, 0.999)))
    opts = (torch.optim.Adam(G.parameters(), 2e-4, betas), torch.optim.Adam(D.parameters(), 2e-4, betas))
    batch = case.prepared(device)
    return lambda: case.reference_step(G, D, opts, batch)


def trainer_step(case: Case, device: torch.device, overrides: dict) -> tuple[Callable[[], None], Trainer]:
    """The trainer's step with ``overrides`` (plus the loop's periodic check and log read), and the trainer."""
    G, D = case.models()
    recipe = case.recipe(G, D, case.prepared(torch.device("cpu")))
    cli = {"batch_size": case.batch, "device": str(device), "progress": False, "prefetch": 0, **case.config}
    trainer = Trainer(recipe, merge_config({}, {}, cli={**cli, **overrides}), None)

    def step() -> None:
        trainer.train_step()
        if trainer.step % trainer.check_every == 0:
            trainer.check(None)  # the loop's one sync per interval (finiteness and stop flags)
            trainer.log_record()  # and reading the interval's losses

    return step, trainer


def run_case(case: Case, args: argparse.Namespace, device: torch.device) -> None:
    """Time the reference and the trainer variants of ``case`` in interleaved rounds; print the medians."""
    amp = "bf16 autocast" if device.type == "cuda" else "fp32"
    variants = [("default", {}), ("channels_last", {"channels_last": True})]
    if device.type == "cuda":
        variants.append(("contiguous", {"channels_last": False}))
    if args.compile:
        variants.append(("compile", {"compile": True}))
    steps: list[tuple[str, Callable[[], None]]] = [("reference loop (fp32, eager)", reference(case, device))]
    trainers = []
    for label, overrides in variants:
        step, trainer = trainer_step(case, device, overrides)
        steps.append((f"imggan trainer ({amp}, {label})", step))
        trainers.append(trainer)
    try:
        for _, step in steps:  # warm-up (and compilation) outside the timing
            for _ in range(args.warmup):
                step()
        rounds: list[list[float]] = [[] for _ in steps]
        for _ in range(args.repeats):  # interleaved: load changes on a shared machine hit every row alike
            for i, (_, step) in enumerate(steps):
                rounds[i].append(timed(step, args, device, case.batch))
    finally:
        for trainer in trainers:
            trainer.close()
    medians = [statistics.median(r) for r in rounds]
    notes = ["; ".join(t.pending_events) for t in trainers]
    print(f"\n{case.name}; median of {args.repeats} interleaved rounds of {args.steps} steps ({args.warmup} warm-up)")
    print(f"Machine: {machine(device)}; device {device}\n")
    print("| loop | images/s | vs reference |")
    print("|---|---:|---:|")
    for i, ((name, _), value) in enumerate(zip(steps, medians, strict=True)):
        note = notes[i - 1] if i > 0 and notes[i - 1] else ""
        print(f"| {name}{f' [{note}]' if note else ''} | {value:,.2f} | {value / medians[0]:.2f}x |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", choices=["dcgan", "inpaint", "both"], default="both")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="Interleaved timing rounds (the median is shown).")
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
    cases: list[Case] = []
    if args.size in ("dcgan", "both"):
        cases.append(DCGANCase())
    if args.size in ("inpaint", "both"):
        cases.append(InpaintCase())
    for case in cases:
        run_case(case, args, device)


if __name__ == "__main__":
    main()
