"""Write a trained generator as a model: ``NAME.safetensors`` + JSON card (see :mod:`imggan.weights`).

Example:
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from imggan_enhance.export import export_model
    >>> from imggan_enhance.models import build_model
    >>> arch = {"name": "upscale-res", "scale": 2, "width": 8, "blocks": 1}
    >>> path = export_model(build_model(arch), "upscale", arch, {"steps": 1}, Path(tempfile.mkdtemp()))
    >>> path.name
    'upscale-x2.safetensors'
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from torch import nn

from imggan.weights import read_card, save_weights

SOURCES = [
    {"source": "scikit-image skimage.data (14 images)", "licence": "BSD-3-Clause / CC0 / public domain"},
    {"source": "scikit-learn sample images china.jpg, flower.jpg", "licence": "CC-BY 2.0"},
    {"source": "matplotlib sample_data/grace_hopper.jpg", "licence": "public domain"},
    {
        "source": "Debian plasma-workspace-wallpapers: BytheWater, ColdRipple, DarkestHour, EveningGlow, "
        "FallenLeaf, Grey, MilkyWay, OneStandsOut, summer_1am (held out: ColorfulCups, Kite, Path, Volna)",
        "licence": "GPL-2+",
    },
]


def model_name(task: str, arch: dict[str, Any]) -> str:
    """File stem of an exported model: ``denoise`` or ``upscale-x4``."""
    return f"{task}-x{arch['scale']}" if task == "upscale" else task


def export_model(
    G: nn.Module, task: str, arch: dict[str, Any], config: dict[str, Any], run_dir: Path, **card: Any
) -> Path:
    """Save ``G``'s weights into ``run_dir`` with a card recording task, arch, config and sources."""
    path = Path(run_dir) / f"{model_name(task, arch)}.safetensors"
    meta = {
        "task": task,
        "arch": arch,
        "config": {k: v for k, v in config.items() if k not in ("init",)},
        "init": config.get("init"),
        "sources": SOURCES,
        "python": platform.python_version(),
    }
    meta.update(card)
    save_weights(path, G.state_dict(), meta)
    return path


def update_card(weights: Path, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into the JSON card beside ``weights`` and write it back."""
    card = read_card(weights)
    card.update(fields)
    Path(weights).with_suffix(".json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return card
