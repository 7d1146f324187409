"""Capture and restore every random generator a run uses, for exact resume.

Torch's CPU and CUDA generators are kept as uint8 tensors; Python's ``random`` and NumPy's global state as
JSON lists. Nothing is pickled.

Example:
    >>> import torch
    >>> from imggan.train.rng import capture_rng, restore_rng
    >>> tensors, meta = capture_rng()
    >>> a = torch.rand(3)
    >>> restore_rng(tensors, meta)
    >>> bool(torch.equal(a, torch.rand(3)))
    True
"""

from __future__ import annotations

import base64
import random
from typing import Any

import numpy as np
import torch


def capture_rng() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state of torch (CPU + every CUDA device), Python's ``random`` and NumPy's global generator."""
    tensors = {"rng/torch": torch.get_rng_state().clone()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{index}"] = state.clone()
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state()
    meta = {
        "python": [version, list(internal), gauss],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    return tensors, meta


def restore_rng(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Restore what :func:`capture_rng` captured (CUDA states only for devices present here)."""
    torch.set_rng_state(tensors["rng/torch"].to("cpu", torch.uint8))
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            key = f"rng/cuda/{index}"
            if key in tensors:
                torch.cuda.set_rng_state(tensors[key].to("cpu", torch.uint8), index)
    version, internal, gauss = meta["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


def generator_state(gen: Any) -> dict[str, Any]:
    """JSON-able state of a ``numpy.random.Generator``, ``random.Random`` or ``torch.Generator``."""
    if isinstance(gen, np.random.Generator):
        return {"kind": "numpy", "state": gen.bit_generator.state}
    if isinstance(gen, random.Random):
        version, internal, gauss = gen.getstate()
        return {"kind": "python", "state": [version, list(internal), gauss]}
    if isinstance(gen, torch.Generator):
        raw = gen.get_state().numpy().tobytes()
        return {"kind": "torch", "state": base64.b64encode(raw).decode("ascii")}
    raise TypeError(f"cannot capture the state of {type(gen).__name__}")


def set_generator_state(gen: Any, state: dict[str, Any]) -> None:
    """Restore :func:`generator_state`'s output into ``gen`` (same kind)."""
    kind = state["kind"]
    if kind == "numpy":
        gen.bit_generator.state = state["state"]
    elif kind == "python":
        version, internal, gauss = state["state"]
        gen.setstate((version, tuple(internal), gauss))
    elif kind == "torch":
        raw = np.frombuffer(base64.b64decode(state["state"]), dtype=np.uint8).copy()
        gen.set_state(torch.from_numpy(raw))
    else:
        raise ValueError(f"unknown generator kind {kind!r}")
