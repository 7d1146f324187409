"""torchrun with 2 gloo processes on the CPU: replicas stay identical and match one process on the same
global batch; a rank that fails stops the other with a message naming it; the session tears down once."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from imggan.train import checkpoint as ckpt
from imggan.train import distributed as dist_utils

WORKER = Path(__file__).with_name("ddp_worker.py")


def load_worker():
    spec = importlib.util.spec_from_file_location("ddp_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


needs_torchrun = pytest.mark.skipif(
    shutil.which("torchrun") is None and not Path(sys.executable).with_name("torchrun").exists(),
    reason="torchrun not installed",
)


def run_torchrun(*args: str, timeout: float = 240, env_extra: dict[str, str] | None = None) -> tuple[int, str]:
    """``torchrun --standalone --nproc_per_node 2 ddp_worker.py ARGS``: (exit code, stderr)."""
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    env["IMGGAN_LOAD_PLUGINS"] = ""
    env.update(env_extra or {})
    proc = subprocess.Popen(
        [torchrun, "--standalone", "--nproc_per_node", "2", str(WORKER), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # on a timeout the whole group (torchrun and its workers) is ended
    )
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        pytest.fail(f"torchrun did not finish in {timeout:g} s:\n{stderr[-3000:]}")
    return proc.returncode, stderr


@needs_torchrun
def test_two_gloo_processes_match_one(tmp_path: Path) -> None:
    returncode, stderr = run_torchrun(str(tmp_path))
    assert returncode == 0, stderr[-3000:]
    rank0 = load_file(str(tmp_path / "world2-rank0.safetensors"))
    rank1 = load_file(str(tmp_path / "world2-rank1.safetensors"))
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key  # replicas identical, bit for bit

    worker = load_worker()
    single = load_file(str(worker.run_steps(tmp_path)))  # one process, whole global batch
    gap = max(float((rank0[key] - single[key]).abs().max()) for key in rank0)
    assert gap < 1e-5, gap
    torch.manual_seed(0)  # the trainer builds G from seed 0: the steps must have moved it far more than gap
    initial = worker.make_recipe().build_generator({**worker.make_recipe().defaults, **worker.CONFIG})
    moved = max(float((single[f"G/{k}"] - v).abs().max()) for k, v in initial.state_dict().items())
    assert moved > 1000 * max(gap, 1e-9)
    # Only rank 0 wrote the run folder; the checkpoint holds both ranks' RNG and data positions.
    _, meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "run"))
    assert meta["step"] == 3 and len(meta["ranks"]) == 2
    assert meta["ranks"][0]["stream"] == meta["ranks"][1]["stream"]  # same global stream, sliced


@needs_torchrun
def test_failing_rank_stops_the_other_naming_it(tmp_path: Path) -> None:
    # Rank 1's data raises at its 3rd batch of a 50-step run; rank 0 is then blocked in DDP's gradient
    # all-reduce. It must not hang (the 120 s bound is far above the seconds it takes) but raise PeerFailed
    # naming rank 1 and its error, and torchrun must exit non-zero.
    # torchrun itself SIGTERMs the surviving rank as soon as one worker exits, so rank 0 prints its PeerFailed
    # line only when its broken collective raises before that signal lands (most runs, not all: a race of a
    # few milliseconds). Either way the failed rank is named: by rank 0's PeerFailed or by torchrun's root cause.
    returncode, stderr = run_torchrun(str(tmp_path), "--fail-rank", "1", timeout=120)
    assert returncode != 0
    assert "[rank1]: InjectedFailure: injected data failure on rank 1" in stderr, stderr[-3000:]
    peer_failed = "[rank0]: imggan.train.distributed.PeerFailed: rank 1 failed: InjectedFailure" in stderr
    root_cause = re.search(r"Root Cause.*?rank\s*:\s*1 \(local_rank: 1\)", stderr, re.S)
    assert peer_failed or root_cause, stderr[-3000:]
    assert "terminate called" not in stderr and "SIGABRT" not in stderr


def test_single_process_session_is_a_no_op() -> None:
    session = dist_utils.Session(dist_utils.DistInfo(), torch.device("cpu"))
    assert session.closed and session.ddp_group is None and session.peer_failure() is None
    session.close()
    session.close()  # closing twice is harmless
    with dist_utils.process_group(dist_utils.DistInfo()) as outer:
        assert not outer.created
