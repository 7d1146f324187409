"""Sample grids: PNG pictures of the EMA generator's output on a fixed batch, written during training.

Example:
    >>> import torch
    >>> from imggan.train.samples import make_grid, scatter_image
    >>> tuple(make_grid(torch.rand(5, 3, 8, 8), columns=4, pad=1).shape)   # 2 rows of 4
    (3, 19, 37)
    >>> tuple(scatter_image(torch.randn(100, 2), size=64).shape)
    (1, 3, 64, 64)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from imggan.weights import atomic_write_bytes


def make_grid(images: Tensor, columns: int | None = None, pad: int = 2, value: float = 1.0) -> Tensor:
    """Tile NxCxHxW images (C = 1 or 3) into one CxH'xW' image, ``columns`` per row."""
    n, c, h, w = images.shape
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    grid = images.new_full((c, rows * (h + pad) + pad, columns * (w + pad) + pad), value)
    for i in range(n):
        r, col = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, y : y + h, x : x + w] = images[i]
    return grid


def scatter_image(points: Tensor, size: int = 256, extent: float | None = None, reference: Tensor | None = None):
    """Render 2-D points as a 1x3xSxS image (white background, blue points, optional grey reference)."""
    import cv2

    pts = points.detach().float().cpu().numpy()
    ref = None if reference is None else reference.detach().float().cpu().numpy()
    if extent is None:
        both = pts if ref is None else np.concatenate([pts, ref])
        extent = float(np.abs(both).max()) * 1.1 + 1e-6
    canvas = np.full((size, size, 3), 255, np.uint8)

    def draw(array: np.ndarray, colour: tuple[int, int, int]) -> None:
        pix = ((array / extent + 1.0) * 0.5 * (size - 1)).round().astype(int)
        for x, y in pix:
            if 0 <= x < size and 0 <= y < size:
                cv2.circle(canvas, (int(x), int(size - 1 - y)), 1, colour, -1)

    if ref is not None:
        draw(ref, (190, 190, 190))
    draw(pts, (200, 60, 20))  # BGR
    rgb = canvas[..., ::-1].astype(np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]


def save_png(image: Tensor, path: Path) -> Path:
    """Write a CxHxW (C = 1 or 3) float image in [0, 1] as PNG, atomically."""
    import cv2

    array = image.detach().float().clamp(0, 1).cpu().numpy()
    array = np.rint(array * 255).astype(np.uint8).transpose(1, 2, 0)
    if array.shape[2] == 3:
        array = array[..., ::-1]
    ok, data = cv2.imencode(".png", np.ascontiguousarray(array))
    if not ok:
        raise RuntimeError(f"could not encode {path}")
    atomic_write_bytes(Path(path), data.tobytes())
    return Path(path)


def default_preview(fake: Tensor, batch: dict) -> Tensor | None:
    """Images to show for ``fake``: itself when it is an NxCxHxW image batch (first 3 channels), else None."""
    if fake.ndim == 4 and fake.shape[1] in (1, 3, 4):
        return fake[:, :3].float().clamp(0, 1)
    if fake.ndim == 2 and fake.shape[1] == 2:
        return scatter_image(fake, reference=batch.get("target") if isinstance(batch, dict) else None)
    return None


SAMPLE_SEED_OFFSET = 9_999_991


class SampleWriter:
    """The run's sample grids: ``generate(G_ema, fixed batch)`` as ``RUN/samples/step-N.png``, plus
    ``recipe.evaluate``'s metrics. The fixed batch is drawn once, from its own seed, outside the run's RNG.

    Args:
        recipe: the run's recipe.
        config: the run's config.
        device: the training device.
        run_dir: the run folder (``None``: nothing is written).
    """

    def __init__(self, recipe: Any, config: dict[str, Any], device: torch.device, run_dir: Path | None) -> None:
        self.recipe, self.config, self.device, self.run_dir = recipe, config, device, run_dir
        self.batch: dict[str, Any] | None = None

    def _devices(self) -> list[torch.device]:
        return [self.device] if self.device.type == "cuda" else []

    def fixed_batch(self) -> dict[str, Any]:
        """The batch every grid shows (``sample_count`` items)."""
        from imggan.train.recipe import prepare_on_device

        if self.batch is None:
            cfg = {**self.config, "batch_size": int(self.config.get("sample_count") or 64)}
            seed = int(self.config["seed"]) + SAMPLE_SEED_OFFSET
            with torch.random.fork_rng(devices=self._devices()):
                torch.manual_seed(seed)
                batch = next(iter(self.recipe.make_batches(cfg, seed)))
                self.batch = prepare_on_device(self.recipe, batch, self.device, cfg)
        return self.batch

    @torch.no_grad()
    def write(self, G_ema: torch.nn.Module, step: int, monitor: Any) -> dict[str, float]:
        """Write step ``step``'s grid and log ``eval/*`` metrics; returns the metrics."""
        metrics: dict[str, float] = {}
        if self.run_dir is None:
            return metrics
        batch = self.fixed_batch()
        with torch.random.fork_rng(devices=self._devices()):
            torch.manual_seed(int(self.config["seed"]) + SAMPLE_SEED_OFFSET)
            fake = self.recipe.generate(G_ema, batch)
            preview = (self.recipe.preview or default_preview)(fake, batch)
            if preview is not None:
                grid = preview[0] if preview.shape[0] == 1 else make_grid(preview.float().cpu())
                save_png(grid, self.run_dir / "samples" / f"step-{step:08d}.png")
                monitor.image(step, "samples", grid.float().cpu().clamp(0, 1))
            if self.recipe.evaluate is not None:
                metrics = {f"eval/{k}": float(v) for k, v in self.recipe.evaluate(G_ema, self.config).items()}
                monitor.log(step, metrics)
        return metrics
