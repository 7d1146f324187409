"""A real ``imggan train`` process: SIGTERM saves a checkpoint and exits; ``--resume`` continues."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from imggan.train import checkpoint as ckpt


def test_sigterm_saves_then_resume_finishes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    env = {**os.environ, "IMGGAN_LOAD_PLUGINS": "", "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-m", "imggan", "train", "toy2d", "--out", str(run), "--quiet", "--device", "cpu"]
    args += ["--set", "width=8", "--set", "batch_size=8", "--set", "log_every=1", "--set", "tensorboard=false"]
    proc = subprocess.Popen([*args, "--steps", "1000000"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = run / "log.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (log.is_file() and log.stat().st_size > 0):
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"--resume" in err
    saved = ckpt.latest_checkpoint(run)
    assert saved is not None
    _, meta = ckpt.load_checkpoint(saved)
    stopped_at = meta["step"]
    assert stopped_at >= 1
    done = subprocess.run(
        [*args, "--steps", str(stopped_at + 3), "--resume"], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    _, meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(run))
    assert meta["step"] == stopped_at + 3
