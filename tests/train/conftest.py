"""Fixtures for the trainer's tests: one CPU thread, quiet tiny configs, JSONL readers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tests share two cores with other work: one intra-op thread keeps them predictable and deterministic."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def quiet() -> dict[str, Any]:
    """Config keys that keep a test run silent and small on disk."""
    return {"progress": False, "tensorboard": False, "sample_every": 0, "export": False, "device": "cpu"}


def read_log(run_dir: Path) -> dict[int, dict[str, Any]]:
    """``log.jsonl`` as ``{step: merged scalar record}`` (events left out)."""
    out: dict[int, dict[str, Any]] = {}
    for line in (Path(run_dir) / "log.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "event" in record:
            continue
        step = record.pop("step")
        record.pop("time")
        out.setdefault(step, {}).update(record)
    return out


@pytest.fixture
def log_of() -> Callable[[Path], dict[int, dict[str, Any]]]:
    """``log_of(run_dir)``: the run's JSONL log keyed by step."""
    return read_log


def events_of(run_dir: Path) -> list[dict[str, Any]]:
    """The event records of a run's log."""
    lines = (Path(run_dir) / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if "event" in r]


@pytest.fixture
def events() -> Callable[[Path], list[dict[str, Any]]]:
    """``events(run_dir)``: the run's logged events."""
    return events_of
