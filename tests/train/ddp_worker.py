"""Run by tests/train/test_distributed.py under ``torchrun --nproc_per_node 2`` (and in-process as 1 rank).

Trains the toy2d recipe on a *global* batch stream sliced by rank, so one process with the whole global
batch and N processes with a slice each see the same data; writes each rank's final weights.

``ddp_worker.py OUT --fail-rank R`` instead runs ``train()`` where rank R's data raises at its 3rd batch (the
failure-path test: the other ranks must stop promptly, naming rank R).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from imggan.train.config import merge_config
from imggan.train.toy2d import make_recipe
from imggan.train.trainer import Trainer, train

GLOBAL_BATCH = 16
STEPS = 6
CONFIG = {
    "width": 16,
    "progress": False,
    "tensorboard": False,
    "sample_every": 0,
    "device": "cpu",
    "r1_gamma": 1.0,
    "r1_every": 2,
    "ema_beta": 0.9,
    "log_every": 1,
}


class InjectedFailure(ValueError):
    """The error the failure-path test makes one rank raise."""


def sliced_recipe(fail_rank: int | None = None, fail_at: int = 3):
    recipe = make_recipe()
    base = recipe.make_batches

    def make_batches(config, seed):
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        per_rank = GLOBAL_BATCH // world
        stream = base({**config, "batch_size": GLOBAL_BATCH}, config["seed"])
        draw = stream.draw
        drawn = [0]

        def sliced():
            drawn[0] += 1
            if rank == fail_rank and drawn[0] >= fail_at:
                raise InjectedFailure(f"injected data failure on rank {rank}")
            batch = draw()
            return {k: v[rank * per_rank : (rank + 1) * per_rank] for k, v in batch.items()}

        stream.draw = sliced
        return stream

    recipe.make_batches = make_batches
    return recipe


def run_steps(out: Path) -> Path:
    """Train STEPS steps with the Trainer and write this rank's G, D and EMA weights."""
    from safetensors.torch import save_file

    world = int(os.environ.get("WORLD_SIZE", "1"))
    recipe = sliced_recipe()
    config = merge_config(recipe.defaults, recipe.losses, cli={**CONFIG, "batch_size": GLOBAL_BATCH // world})
    trainer = Trainer(recipe, config, None)
    try:
        torch.manual_seed(0)
        for _ in range(STEPS):
            trainer.train_step()
        tensors = {f"G/{k}": v for k, v in trainer.G.state_dict().items()}
        tensors.update({f"D/{k}": v for k, v in trainer.D.state_dict().items()})
        tensors.update({f"G_ema/{k}": v for k, v in trainer.G_ema.state_dict().items()})
        path = out / f"world{world}-rank{trainer.info.rank}.safetensors"
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(path))
        return path
    finally:
        trainer.close()


if __name__ == "__main__":
    from imggan.train.distributed import process_group

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    if "--fail-rank" in sys.argv:
        fail_rank = int(sys.argv[sys.argv.index("--fail-rank") + 1])
        train(sliced_recipe(fail_rank), {**CONFIG, "steps": 50, "batch_size": GLOBAL_BATCH // 2}, out / "run")
        sys.exit(0)
    # One default group for both phases, destroyed once at the end (the Trainers inside only add DDP's group).
    with process_group():
        run_steps(out)
        # The full train() under torchrun: only rank 0 writes the run folder.
        train(sliced_recipe(), {**CONFIG, "steps": 3, "batch_size": GLOBAL_BATCH // 2}, out / "run")
