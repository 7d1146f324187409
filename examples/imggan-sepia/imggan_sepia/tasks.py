"""The ``sepia`` task and the ``sepia-tone`` stage.

What the task sees (the core's contract): ``item.image`` is HxWx3 BGR, uint8 or uint16; a gray input was
expanded to three channels and is turned back to gray after the task, an alpha channel was split off and is
re-attached, the dtype is restored. ``ctx.model`` is the ``--model`` value (``None``: the default model),
``ctx.options`` holds this task's own options by parameter name, ``ctx.device`` and ``ctx.tile`` the
common ones.

Example:
    >>> import numpy as np
    >>> from imggan_sepia.tasks import sepia_tone
    >>> sepia_tone(np.full((2, 2, 3), 200, np.uint8), value=1.0)[0, 0].tolist()   # BGR
    [187, 241, 255]
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from imggan.stages import Stage
from imggan.task import Item, RunContext, Task

HELP = """Give photos a sepia tone (a minimal plugin's task).

\b
  imggan sepia photo.jpg -o toned.jpg
  imggan sepia photos/ -o toned/ --strength 0.6
--strength blends the toned image with the original (1 = full sepia).
"""


def _check(ctx: RunContext) -> None:
    """Resolve ``--model`` and check its card (task, architecture) without loading weights."""
    from imggan.modelcache import resolve_checked

    resolve_checked("sepia", ctx.model, {"colour-matrix"})


def _load(ctx: RunContext) -> Any:
    """Load the chosen model once per run: a name, a ``.safetensors`` file or a run folder, checked."""
    from imggan.modelcache import load_network
    from imggan_sepia.models import ARCH, build

    return load_network("sepia", ctx.model, build, archs={ARCH}, device=ctx.device)


def _process(model: Any, items: list[Item], ctx: RunContext) -> list[np.ndarray]:
    """Tone a batch of same-size items: BGR uint8/uint16 -> RGB float -> network -> blend -> BGR."""
    import torch

    from imggan.tensors import images_to_tensor, tensor_to_images

    strength = float(ctx.options.get("strength", 1.0))
    x = images_to_tensor([item.image for item in items]).to(model.device)  # N x 3 x H x W RGB in [0, 1]
    with torch.inference_mode():
        y = strength * model.net(x) + (1 - strength) * x
    return tensor_to_images(y.cpu(), items[0].image.dtype)


SEPIA_TASK = Task(
    name="sepia",
    help=HELP,
    load=_load,
    process=_process,
    check_model=_check,
    options=(
        click.Option(
            ["--strength"],
            type=click.FloatRange(0, 1),
            default=1.0,
            show_default=True,
            help="Blend with the original: 0 = unchanged, 1 = full sepia.",
        ),
    ),
    default_model="classic",
)


def sepia_tone(image: np.ndarray, value: float | None = None, strength: float = 1.0) -> np.ndarray:
    """The stage: the same matrix in NumPy, no model. ``sepia-tone:0.5`` arrives as ``value=0.5``."""
    from imggan_sepia.models import SEPIA_MATRIX

    amount = float(value if value is not None else strength)
    peak = float(np.iinfo(image.dtype).max)
    rgb = image[..., ::-1].astype(np.float64) / peak
    toned = np.clip(rgb @ np.array(SEPIA_MATRIX).T, 0, 1)
    out = amount * toned + (1 - amount) * rgb
    return np.rint(out[..., ::-1] * peak).astype(image.dtype)


SEPIA_STAGE = Stage("sepia-tone", "Sepia tone without a model: sepia-tone:0.5 (or strength=0.5).", sepia_tone)
