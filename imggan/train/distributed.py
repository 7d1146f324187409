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

Shutdown (:class:`Session`). A gloo process group runs each collective in a worker thread, which drops its
reference to the collective's tensors only *after* waking the caller. When that reference is the last one
to a tensor Python created, dropping it takes the GIL; if the interpreter is already finalizing, the thread
is torn down by a forced unwind and the process aborts ("terminate called without an active exception",
SIGABRT). ``destroy_process_group`` joins those threads only when it drops the last reference to the group,
and in torch 2.13 a DDP wrapper keeps a reference to its group for the life of the process. So:

* DDP gets a group of its own (:attr:`Session.ddp_group`). It only ever carries DDP's C++ gradient buckets,
  which have no Python object, so its lingering threads never need the GIL.
* Every collective this package issues itself (loss means, stop flags, checkpoint gathers) runs on the
  default group, which nothing else references: :meth:`Session.close` destroys it, joining its threads while
  the interpreter is fully alive, after a barrier that every rank reaches only once its last collective is
  done. ``close`` runs once (later calls do nothing) and an ``atexit`` hook calls it if nobody did.
* A rank that fails writes ``rank R failed: <error>`` into the rendezvous store before it leaves; a rank whose
  collective then breaks raises :class:`PeerFailed` with that message instead of a bare socket error. Every
  collective has a timeout (``IMGGAN_DIST_TIMEOUT`` seconds, default 1800), so a rank that hangs stops the others
  with an error rather than freezing them for good (a rank that dies is noticed at once: its sockets close).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import sys
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from imggan.errors import ImgganError

FAILURE_KEY = "imggan/failed/{rank}"
DEFAULT_TIMEOUT_S = 1800.0  # rank 0's sampling/evaluation may keep the others waiting a while


class PeerFailed(ImgganError):
    """Another rank failed (or vanished); this rank stops too."""


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


def timeout() -> datetime.timedelta:
    """How long a collective may wait for the other ranks (``IMGGAN_DIST_TIMEOUT`` seconds, default 1800)."""
    return datetime.timedelta(seconds=float(os.environ.get("IMGGAN_DIST_TIMEOUT") or DEFAULT_TIMEOUT_S))


def _backend(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def _store() -> Any:
    from torch.distributed import distributed_c10d

    return distributed_c10d._get_default_store()


def _describe(error: BaseException) -> str:
    first = (str(error).strip().splitlines() or [""])[0][:300]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class Session:
    """This process's share of the process groups, from setup to a teardown that runs exactly once.

    Joins (or creates) the default group, creates the group DDP uses, and on :meth:`close` synchronises the
    ranks, leaves DDP's group and destroys the default group if this session created it. A single process
    (``info.enabled`` False) makes every method a no-op.

    Args:
        info: this process's rank and world size.
        device: the training device (NCCL for CUDA, gloo otherwise).
        ddp: create :attr:`ddp_group` (a Trainer's session does; an outer :class:`process_group` does not).
    """

    def __init__(self, info: DistInfo, device: torch.device, ddp: bool = True) -> None:
        self.info = info
        self.created = False
        self.closed = not info.enabled
        self.ddp_group: Any = None
        if not info.enabled:
            return
        if device.type == "cuda":
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group(_backend(device), rank=info.rank, world_size=info.world_size, timeout=timeout())
            self.created = True
        if ddp:
            self.ddp_group = dist.new_group(backend=_backend(device), timeout=timeout())
        atexit.register(self._at_exit)

    # ------------------------------------------------------------------------------------- failures
    def report_failure(self, error: BaseException) -> None:
        """Leave ``rank R failed: <error>`` in the rendezvous store for the other ranks (best effort)."""
        if not self.info.enabled:
            return
        with contextlib.suppress(Exception):  # the store may be gone with its host; the exit code still tells
            _store().set(FAILURE_KEY.format(rank=self.info.rank), f"rank {self.info.rank} failed: {_describe(error)}")

    def peer_failure(self) -> str | None:
        """The first failure another rank reported, or None."""
        if not self.info.enabled:
            return None
        try:
            store = _store()
            for rank in range(self.info.world_size):
                key = FAILURE_KEY.format(rank=rank)
                if rank != self.info.rank and store.check([key]):
                    return store.get(key).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - store unreachable: nothing to add
            return None
        return None

    def _peer_error(self, error: BaseException) -> PeerFailed | None:
        """A :class:`PeerFailed` when ``error`` is a broken collective and another rank reported a failure."""
        if not isinstance(error, RuntimeError) or isinstance(error, ImgganError):
            return None
        reported = self.peer_failure()
        if reported is None:
            return None
        return PeerFailed(f"{reported}; rank {self.info.rank} stops too ({_describe(error)})")

    # ------------------------------------------------------------------------------------- teardown
    def close(self, error: BaseException | None = None) -> None:
        """Tear down once: barrier (when no error), leave DDP's group, destroy the default group if created here.

        Args:
            error: the exception ending the run; by default the one in flight when called from a ``finally``
                or ``except`` block. On an error this rank skips the barrier, tells the other ranks and, when
                the error is a broken collective caused by another rank's failure, raises :class:`PeerFailed`
                naming that rank (chained to the original error).

        Raises:
            PeerFailed: another rank failed; this rank's own error, if any, is its cause.
        """
        if self.closed:
            return
        self.closed = True
        if error is None:
            error = sys.exc_info()[1]
        replacement: PeerFailed | None = None
        try:
            if error is None:
                try:
                    dist.barrier()  # every rank is past its last collective before any group goes away
                except RuntimeError as exc:
                    replacement = self._peer_error(exc)
                    if replacement is None:
                        self.report_failure(exc)
                        replacement = PeerFailed(f"rank {self.info.rank}: the final barrier failed ({_describe(exc)})")
                    replacement.__cause__ = exc
            else:
                replacement = self._peer_error(error)
                if replacement is None:
                    self.report_failure(error)
                else:
                    replacement.__cause__ = error
        finally:
            if dist.is_initialized():
                if self.ddp_group is not None:
                    dist.destroy_process_group(self.ddp_group)
                if self.created:
                    dist.destroy_process_group()
            self.ddp_group = None
            atexit.unregister(self._at_exit)
        if replacement is not None:
            raise replacement

    def _at_exit(self) -> None:
        if not self.closed:  # a path that never called close(): leave the groups while Python is alive
            self.close(error=RuntimeError("exited without closing its distributed session"))


class process_group:  # noqa: N801 - used like a function: ``with process_group(): ...``
    """``with process_group(info, device):`` a :class:`Session` for code that drives several Trainers.

    The Trainers inside then join this default group (and leave it alone); it is destroyed once, at the end,
    after a barrier -- or, when the block raises, with the failure reported to the other ranks.
    """

    def __init__(self, info: DistInfo | None = None, device: torch.device | None = None) -> None:
        self.session = Session(info or from_env(), device or torch.device("cpu"), ddp=False)

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.session.close(exc)


def init(info: DistInfo, device: torch.device) -> Session:
    """Join the process group (NCCL for CUDA, gloo otherwise); a :class:`Session` to :meth:`~Session.close`."""
    return Session(info, device)


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
