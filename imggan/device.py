"""Device and precision choice: ``--device auto|cpu|cuda[:N]|mps`` and the autocast dtype that suits it.

Example:
    >>> from imggan.device import resolve_device, autocast_dtype
    >>> resolve_device("cpu").type
    'cpu'
    >>> autocast_dtype(resolve_device("cpu")) is None   # fp32 on the CPU
    True
"""

from __future__ import annotations

import torch

from imggan.errors import ImgganError

DEVICE_CHOICES = "auto|cpu|cuda[:N]|mps"  # the one spelling of --device's values, everywhere


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """Turn ``auto``/``cpu``/``cuda``/``cuda:1``/``mps`` into a :class:`torch.device` that exists here.

    ``auto`` picks CUDA when available, then Apple's MPS, then the CPU.

    Raises:
        ImgganError: a CUDA/MPS device was asked for and is not available.
    """
    if isinstance(spec, torch.device):
        return spec
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError as exc:
        raise ImgganError(f"--device {spec!r} is not a device (use {DEVICE_CHOICES})") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ImgganError(f"--device {spec}: CUDA is not available on this machine (try --device cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ImgganError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ImgganError("--device mps: Apple's MPS backend is not available here")
    return device


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The mixed-precision dtype for ``device``: bf16 on CUDA when supported, else fp16; None (fp32) on CPU."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return None


def is_out_of_memory(exc: BaseException) -> bool:
    """True for the out-of-memory errors of CUDA, MPS and the CPU allocator."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
