"""Data-parallel training over ``torch.distributed`` (torchrun: NCCL on GPU, gloo on CPU).

``torchrun --nproc_per_node N -m imggan train ...`` starts N processes with ``RANK``/``WORLD_SIZE``/
``LOCAL_RANK`` set. Each process draws its own batches (a different data seed per rank); G and D are
wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`, which averages gradients over the ranks
during ``backward`` so every replica takes the same optimizer step. Two passes use the unwrapped D: the
generator step (D is frozen there, its gradients are not wanted) and the R1 / WGAN-GP penalties (a double
backward, which DDP's reducer does not run); the penalties are added to the D loss of a step whose forward
went through the wrapper, so the single ``backward`` still fires DDP's hooks once per parameter and the
averaged gradient includes them (checked against one process in ``tests/train/test_distributed.py``).
Only rank 0 writes checkpoints, logs and samples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: ``rank`` of ``world_size``; ``local_rank`` picks its GPU."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """True when more than one process trains."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on the process that writes files."""
        return self.rank == 0


def from_env() -> DistInfo:
    """Read torchrun's environment (single process when it is not set)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    return DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def init(info: DistInfo, device: torch.device) -> bool:
    """Join the process group (NCCL for CUDA, gloo otherwise); returns True when this call created it."""
    if not info.enabled or dist.is_initialized():
        return False
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    return True


def shutdown(created: bool) -> None:
    """Leave the process group when :func:`init` created it."""
    if created and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers to every rank (identical replicas at the start)."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src)


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum ``values`` over all ranks in place (no-op in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(values)
    return values
