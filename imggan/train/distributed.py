"""Data-parallel training over ``torch.distributed`` (torchrun: NCCL on GPU, gloo on CPU).

``torchrun --nproc_per_node N -m imggan train ...`` starts N processes with ``RANK``/``WORLD_SIZE``/
``LOCAL_RANK`` set. Each process draws its own batches (a different data seed per rank); G and D are
wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`, which averages gradients over the ranks
during ``backward`` so every replica takes the same optimizer step. The passes DDP's reducer cannot handle
-- D inside the generator step (its gradients are not wanted), the double backward of R1 and WGAN-GP -- use
the unwrapped modules, and their gradients are averaged explicitly with :func:`all_reduce_grads`.
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


def all_reduce_grads(parameters: list[nn.Parameter], world_size: int) -> None:
    """Average the gradients of ``parameters`` over all ranks, as one flat buffer (one collective)."""
    if world_size <= 1:
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum ``values`` over all ranks in place (no-op in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(values)
    return values
