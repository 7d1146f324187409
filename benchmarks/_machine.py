"""The CPU's model name, for the machine line every benchmark prints and records beside its figures.

The benchmark scripts run as ``python benchmarks/<name>.py``, so this module is imported from their folder.

Example:
    >>> from _machine import cpu_model
    >>> isinstance(cpu_model("unknown CPU"), str)
    True
"""

from __future__ import annotations

from pathlib import Path


def cpu_model(fallback: str) -> str:
    """The ``model name`` line of ``/proc/cpuinfo``, or ``fallback`` where there is none (not Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return fallback
