"""Running a task over many images: load -> prepare -> model -> finish -> save, with a batch runner.

Decoding and preparing run in a thread pool ahead of the model, and encoding/writing in another, so the
model stays the bottleneck (OpenCV releases the GIL while it decodes and encodes). Same-size images are
grouped into batches of up to ``batch_size``. A file that fails at any stage is reported with its reason
and the run goes on; outputs that already exist are skipped unless ``overwrite``, so a killed run resumes
where it stopped (outputs are written atomically, so none is ever half written).

Example (Python API, mirrors ``imggan run photo.jpg --steps clahe -o out/``):
    >>> import numpy as np
    >>> from imggan.pipeline import process_image
    >>> out = process_image("run", np.full((32, 32, 3), 128, np.uint8), steps="gaussian-blur:sigma=1")
    >>> out.shape, out.dtype
    ((32, 32, 3), dtype('uint8'))
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imggan.errors import ImgganError
from imggan.inputs import (
    Job,
    expand_inputs,
    find_side_file,
    parse_shard,
    plan_outputs,
    real_path,
    remove_stale_temporaries,
    shard_of,
)
from imggan.io import (
    DEFAULT_MAX_PIXELS,
    MULTI_FRAME_SUFFIXES,
    decode_frames,
    decode_image,
    mask_gray,
    read_bytes,
    write_frames,
    write_image,
)
from imggan.normalise import join_image, match_dtype, split_image
from imggan.task import Item, RunContext, Task

__all__ = ["RunReport", "join_image", "match_dtype", "process_image", "run_jobs", "run_task", "split_image"]


@dataclass
class RunReport:
    """What a run did: counts, the failures with reasons, and wall time."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when every input succeeded (or was skipped), 1 when any failed."""
        return 1 if self.failed else 0


# ------------------------------------------------------------------------------------------ stages


def load_item(
    job: Job, task: Task, side_values: dict[str, Path | None], ctx: RunContext, max_pixels: int | None
) -> Item:
    """Load stage: decode the input and its side files, normalise, then run the task's prepare stage.

    A multi-page TIFF or animated GIF becomes one item for its first frame, carrying the others in
    ``item.extra["frames"]``; the runner processes them one by one and writes them back as one file.
    """
    frames, info = decode_frames(read_bytes(job.source), str(job.source), max_pixels=max_pixels)
    if len(frames) > 1 and job.output.suffix.lower() not in MULTI_FRAME_SUFFIXES:
        raise ImgganError(
            f"{job.source}: {len(frames)} frames (pages) cannot be written as {job.output.suffix}: keep its format "
            "(--format keep) or use --format tif"
        )
    bgr, alpha = split_image(frames[0])
    item = Item(source=job.source, relative=job.relative, image=bgr, alpha=alpha, info=info, output=job.output)
    if len(frames) > 1:
        item.extra["frames"] = [split_image(frame) for frame in frames[1:]]
    for side in task.side_inputs:
        found = find_side_file(side, side_values.get(side.name), job)
        if found is None:
            item.sides[side.name] = None
            continue
        side_image, _ = decode_image(read_bytes(found), str(found), max_pixels=max_pixels)
        item.sides[side.name] = mask_gray(side_image) if side.grayscale else side_image
        item.extra[f"{side.name}_path"] = found
    if task.prepare is not None:
        item = task.prepare(item, ctx)
    return item


def finish_item(item: Item, task: Task, ctx: RunContext) -> np.ndarray:
    """Finish stage: the task's own finish, then gray/alpha/dtype restored to match the input."""
    result = task.finish(item, ctx) if task.finish is not None else item.result
    if result is None:
        raise ImgganError(f"task {task.name!r} produced no result")
    return join_image(result, item.alpha, item.info.channels, item.info.dtype)


def process_other_frames(item: Item, task: Task, model: Any, ctx: RunContext) -> list[Item]:
    """Run the task over the frames after the first of a multi-frame item, one by one, as the first ran
    (same side inputs, the task's prepare, process and later finish)."""
    done = []
    for bgr, alpha in item.extra.get("frames", []):
        frame = Item(
            source=item.source,
            relative=item.relative,
            image=bgr,
            alpha=alpha,
            info=item.info,
            sides=dict(item.sides),
            output=item.output,
        )
        if task.prepare is not None:
            frame = task.prepare(frame, ctx)
        frame.result = task.process(model, [frame], ctx)[0]
        done.append(frame)
    return done


def _batches(items: Iterable[Item], batch_size: int) -> Iterator[list[Item]]:
    """Group consecutive items of identical shape and dtype into batches of up to ``batch_size``."""
    pending: dict[tuple, list[Item]] = {}
    for item in items:
        key = (item.image.shape, str(item.image.dtype))
        group = pending.setdefault(key, [])
        group.append(item)
        if len(group) >= batch_size:
            yield pending.pop(key)
    yield from pending.values()


# ------------------------------------------------------------------------------------------ runner


def _progress(total: int, quiet: bool, name: str):
    if quiet:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"imggan {name}", unit="img", file=sys.stderr, dynamic_ncols=True)


def run_jobs(
    task: Task,
    jobs: list[Job],
    ctx: RunContext,
    side_values: dict[str, Path | None] | None = None,
    overwrite: bool = False,
    jpeg_quality: int = 95,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    workers: int = 2,
    report_error: Callable[[Path, str], None] | None = None,
) -> RunReport:
    """Run ``task`` over ``jobs``; see the module docstring for the guarantees."""
    started = time.perf_counter()
    report = RunReport()
    side_values = side_values or {}
    protect = {real_path(job.source) for job in jobs}

    def fail(path: Path, exc: BaseException) -> None:
        reason = str(exc) if isinstance(exc, ImgganError) else f"{type(exc).__name__}: {exc}"
        report.failed.append((path, reason))
        if report_error is not None:
            report_error(path, reason)

    # --model is checked before anything is skipped (a bad one is a usage error even when every output
    # exists), while the model itself loads only when there is work
    if task.check_model is not None:
        task.check_model(ctx)
    remove_stale_temporaries(jobs)
    todo = []
    for job in jobs:
        if job.output.exists() and not overwrite:
            report.skipped.append(job.output)
        else:
            todo.append(job)
    if not todo:
        report.seconds = time.perf_counter() - started
        return report

    model = task.load(ctx)
    bar = _progress(len(todo), ctx.quiet, task.name)
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imggan-load") as loaders,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="imggan-save") as savers,
    ):
        window = max(2 * workers, 2 * ctx.batch_size)
        queue: deque[tuple[Job, Future]] = deque()
        writes: list[tuple[Item, Future]] = []
        jobs_iter = iter(todo)

        def refill() -> None:
            while len(queue) < window:
                job = next(jobs_iter, None)
                if job is None:
                    return
                queue.append((job, loaders.submit(load_item, job, task, side_values, ctx, max_pixels)))

        def loaded() -> Iterator[Item]:
            refill()
            while queue:
                job, future = queue.popleft()
                refill()
                try:
                    yield future.result()
                except Exception as exc:
                    fail(job.source, exc)
                    if bar is not None:
                        bar.update(1)

        def save(item: Item) -> Path:
            if "frame_items" in item.extra:
                frames = [finish_item(one, task, ctx) for one in (item, *item.extra["frame_items"])]
                write_frames(item.output, frames, protect=protect)
            else:
                write_image(item.output, finish_item(item, task, ctx), jpeg_quality=jpeg_quality, protect=protect)
            return item.output

        for batch in _batches(loaded(), ctx.batch_size):
            try:
                results = task.process(model, batch, ctx)
                if len(results) != len(batch):
                    raise ImgganError(f"task {task.name!r} returned {len(results)} results for {len(batch)} inputs")
            except Exception as exc:
                if len(batch) == 1:
                    fail(batch[0].source, exc)
                    if bar is not None:
                        bar.update(1)
                    continue
                results = []  # retry one by one so a single bad item cannot sink its batch
                for item in batch:
                    try:
                        results.append(task.process(model, [item], ctx)[0])
                    except Exception as single_exc:
                        fail(item.source, single_exc)
                        results.append(None)
            for item, result in zip(batch, results, strict=True):
                if result is None:
                    if bar is not None:
                        bar.update(1)
                    continue
                item.result = result
                if item.extra.get("frames"):
                    try:
                        item.extra["frame_items"] = process_other_frames(item, task, model, ctx)
                    except Exception as exc:
                        fail(item.source, exc)
                        if bar is not None:
                            bar.update(1)
                        continue
                writes.append((item, savers.submit(save, item)))
            still_pending = []
            for item, future in writes:
                if future.done():
                    _collect_write(item, future, report, fail, bar)
                else:
                    still_pending.append((item, future))
            writes = still_pending
        for item, future in writes:
            _collect_write(item, future, report, fail, bar)
    if bar is not None:
        bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _collect_write(item: Item, future: Future, report: RunReport, fail: Callable, bar: Any) -> None:
    try:
        report.done.append(future.result())
    except Exception as exc:
        fail(item.source, exc)
    if bar is not None:
        bar.update(1)


def run_task(
    task: Task | str,
    inputs: list[str | Path],
    output: str | Path | None = None,
    *,
    device: str = "auto",
    model: str | None = None,
    batch_size: int = 1,
    tile: int | None = None,
    fmt: str = "keep",
    overwrite: bool = False,
    recursive: bool = False,
    quiet: bool = True,
    shard: str | None = None,
    jpeg_quality: int = 95,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    sides: dict[str, str | Path | None] | None = None,
    report_error: Callable[[Path, str], None] | None = None,
    **options: Any,
) -> RunReport:
    """Python equivalent of ``imggan <task> INPUT... -o OUTPUT [options]``; returns a :class:`RunReport`.

    Args:
        task: a :class:`Task` or the name of a registered one.
        inputs: files, folders or globs.
        output: output folder (or file, for one input); default ``./imggan-out``.
        sides: side inputs by name, e.g. ``{"mask": "masks/"}``.
        options: the task's own options by parameter name (e.g. ``invert_mask=True``).
    """
    from imggan.device import resolve_device
    from imggan.plugins import get_registry

    if isinstance(task, str):
        registry = get_registry()
        if task not in registry.tasks:
            raise ImgganError(f"unknown task {task!r}; installed: {', '.join(sorted(registry.tasks)) or 'none'}")
        task = registry.tasks[task]
    output_path = Path(output) if output is not None else None
    from imggan.io import WRITE_FORMATS

    single = output_path is not None and output_path.suffix.lower() in set(WRITE_FORMATS.values()) | {".jpeg"}
    pairs = expand_inputs(
        [str(i) for i in inputs],
        recursive=recursive,
        side_inputs=list(task.side_inputs),
        output_dir=None if single else (output_path or Path("imggan-out")),
        output_suffix=f"_{task.name}",
    )
    wanted_shard = parse_shard(shard)
    if wanted_shard is not None:
        if not single:  # outputs of every shard planned: a clash between two shards is refused here too
            plan_outputs(pairs, output_path, task.name, fmt=fmt)
        index, count = wanted_shard
        pairs = [pair for pair in pairs if shard_of(pair[1], count) == index]
    if single and len(pairs) > 1:
        raise ImgganError(f"-o {output}: several inputs need an output folder, not a file name")
    if output_path is not None and output_path.exists() and not output_path.is_dir() and not single:
        raise ImgganError(
            f"-o {output}: an existing file that is not an image; give a folder (or, for one input, an image name)"
        )
    for side in task.side_inputs:
        value = (sides or {}).get(side.name)
        if value and not Path(value).exists():
            flag = f"{side.short}/--{side.name}" if side.short else f"--{side.name}"
            raise ImgganError(f"{flag} {value}: no such file or folder")
    jobs = plan_outputs(pairs, output_path, task.name, fmt=fmt, single_file_output=single)
    ctx = RunContext(
        device=resolve_device(device),
        model=model,
        options=options,
        tile=tile,
        batch_size=max(1, batch_size),
        quiet=quiet,
    )
    side_values = {name: Path(value) if value else None for name, value in (sides or {}).items()}
    return run_jobs(
        task,
        jobs,
        ctx,
        side_values=side_values,
        overwrite=overwrite,
        jpeg_quality=jpeg_quality,
        max_pixels=max_pixels,
        report_error=report_error,
    )


def process_image(
    task: Task | str,
    image: np.ndarray,
    *,
    device: str = "auto",
    model: str | None = None,
    tile: int | None = None,
    sides: dict[str, np.ndarray | None] | None = None,
    **options: Any,
) -> np.ndarray:
    """Run a task on one in-memory image (OpenCV layout: gray, BGR or BGRA; uint8 or uint16).

    The same stages as the batch runner, without files: prepare -> model -> finish, with gray, alpha and
    bit depth restored. ``sides`` gives side inputs as arrays (e.g. ``{"mask": mask}``).
    """
    from imggan.device import resolve_device
    from imggan.plugins import get_registry
    from imggan.task import ImageInfo

    if isinstance(task, str):
        task = get_registry().tasks[task]
    ctx = RunContext(device=resolve_device(device), model=model, options=options, tile=tile)
    bgr, alpha = split_image(image)
    channels = 1 if image.ndim == 2 else image.shape[2]
    item = Item(
        source=None,
        relative=Path("image.png"),
        image=bgr,
        alpha=alpha,
        info=ImageInfo(dtype=str(image.dtype), channels=channels),
        sides={s.name: (sides or {}).get(s.name) for s in task.side_inputs},
    )
    if task.prepare is not None:
        item = task.prepare(item, ctx)
    model_obj = task.load(ctx)
    item.result = task.process(model_obj, [item], ctx)[0]
    return finish_item(item, task, ctx)
