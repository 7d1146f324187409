"""Pipeline stages: small image -> image steps that ``imggan run --steps`` chains together.

A stage is registered through the ``register_stages`` hook. Its parameters come from the step spec
``name:key=value,key=value`` and arrive as keyword arguments (strings converted to int/float when they
look like numbers).

Example:
    >>> import numpy as np
    >>> from imggan.stages import Stage, parse_steps
    >>> flip = Stage("flip", "Mirror left-right.", lambda image: image[:, ::-1])
    >>> parse_steps("resize:scale=0.5;flip")
    [('resize', {'scale': 0.5}), ('flip', {})]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from imggan.errors import ImgganError


@dataclass(frozen=True)
class Stage:
    """One named image -> image step.

    Attributes:
        name: used in ``--steps``.
        help: one line shown by ``imggan run --list-steps``.
        apply: ``apply(image, **params) -> image``; images in OpenCV channel order, uint8 or uint16.
    """

    name: str
    help: str
    apply: Callable[..., np.ndarray]


def _convert(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def parse_steps(spec: str) -> list[tuple[str, dict[str, int | float | str]]]:
    """Parse ``"resize:scale=0.5;nlmeans:h=7;clahe"`` into ``[(name, params), ...]``.

    Steps are separated by ``;`` (or ``+``), parameters by ``,``. A bare value after the colon is passed
    as ``value`` (``resize:0.5``).
    """
    steps: list[tuple[str, dict[str, int | float | str]]] = []
    for raw in spec.replace("+", ";").split(";"):
        raw = raw.strip()
        if not raw:
            continue
        name, _, rest = raw.partition(":")
        params: dict[str, int | float | str] = {}
        for part in filter(None, (p.strip() for p in rest.split(","))):
            key, eq, value = part.partition("=")
            if eq:
                params[key.strip().replace("-", "_")] = _convert(value.strip())
            else:
                params["value"] = _convert(key.strip())
        steps.append((name.strip(), params))
    if not steps:
        raise ImgganError("--steps is empty: give at least one step, e.g. --steps 'nlmeans;clahe'")
    return steps
