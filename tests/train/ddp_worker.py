"""Run by tests/train/test_distributed.py under ``torchrun --nproc_per_node 2`` (and in-process as 1 rank).

Trains the toy2d recipe on a *global* batch stream sliced by rank, so one process with the whole global
batch and N processes with a slice each see the same data; writes each rank's final weights.
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


def sliced_recipe():
    recipe = make_recipe()
    base = recipe.make_batches

    def make_batches(config, seed):
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        per_rank = GLOBAL_BATCH // world
        stream = base({**config, "batch_size": GLOBAL_BATCH}, config["seed"])
        draw = stream.draw

        def sliced():
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
    import torch.distributed as dist

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    # One process group for both phases (the Trainer then neither creates nor destroys it).
    dist.init_process_group("gloo")
    run_steps(out)
    # The full train() under torchrun: only rank 0 writes the run folder.
    train(sliced_recipe(), {**CONFIG, "steps": 3, "batch_size": GLOBAL_BATCH // 2}, out / "run")
    dist.destroy_process_group()
