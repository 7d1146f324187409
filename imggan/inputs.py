"""Turning the CLI's INPUT arguments into a list of jobs: files, folders and globs; output paths; shards.

Example:
    >>> from imggan.inputs import shard_of
    >>> shard_of("a/b.png", 4) in range(4)
    True
"""

from __future__ import annotations

import glob
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from imggan.errors import ImgganError
from imggan.io import READ_SUFFIXES
from imggan.task import SideInput


@dataclass(frozen=True)
class Job:
    """One input file and where its result goes."""

    source: Path
    relative: Path
    output: Path


def is_image_file(path: Path) -> bool:
    """True for files whose suffix OpenCV reads."""
    return path.suffix.lower() in READ_SUFFIXES


def real_path(path: Path) -> Path:
    """The absolute path with every symlink resolved, never raising (a loop or a dangling link resolves as far
    as it can, unlike ``Path.resolve`` which raises on loops)."""
    return Path(os.path.realpath(path))


def is_broken_link(path: Path) -> bool:
    """A symbolic link whose target is missing, or a loop of links."""
    return os.path.islink(path) and not os.path.exists(path)


def _is_derived(path: Path, suffixes: tuple[str, ...], stems: dict[Path, set[str]]) -> bool:
    """True when ``path`` is another image's side file or earlier output (``cat_mask.png`` or
    ``cat_inpaint.png`` beside ``cat.jpg``).

    ``stems`` caches the image stems of each folder seen, so a folder is listed once.
    """
    if not suffixes:
        return False
    folder = path.parent
    if folder not in stems:
        stems[folder] = {p.stem for p in folder.iterdir() if is_image_file(p)}
    return any(path.stem.endswith(sfx) and path.stem[: -len(sfx)] in stems[folder] for sfx in suffixes)


def expand_inputs(
    inputs: list[str],
    recursive: bool = False,
    side_inputs: list[SideInput] | None = None,
    output_dir: Path | None = None,
    output_suffix: str | None = None,
) -> list[tuple[Path, Path]]:
    """Expand files, folders and globs into ``(file, relative path)`` pairs, sorted and de-duplicated.

    A folder contributes its images (all levels with ``recursive``), relative to the folder; a file or a
    glob match is relative to its own folder. Left out of folders and globs: sidecar files of
    ``side_inputs``, earlier outputs named ``<stem><output_suffix>`` beside their input, and anything under
    ``output_dir`` when it lies inside an input folder (so re-runs never feed on their own results).

    Raises:
        ImgganError: an argument matches nothing (usage error).
    """
    suffixes = tuple(sfx for side in side_inputs or [] for sfx in side.sidecar_suffixes)
    if output_suffix:
        suffixes += (output_suffix,)
    out_root = Path(output_dir).resolve() if output_dir is not None else None
    found: dict[Path, Path] = {}
    stems: dict[Path, set[str]] = {}

    input_roots = {Path(raw).expanduser().resolve() for raw in inputs if Path(raw).expanduser().is_dir()}
    # an output folder nested inside an input folder holds earlier results, never inputs
    nested = out_root is not None and any(root in out_root.parents for root in input_roots)
    skip_root = out_root if nested else None

    def wanted(file: Path) -> bool:
        if is_broken_link(file):  # kept, so that the runner names it as a failure instead of skipping it
            return is_image_file(file)
        if not (file.is_file() and is_image_file(file)) or _is_derived(file, suffixes, stems):
            return False
        return skip_root is None or skip_root not in real_path(file).parents

    def key(file: Path) -> Path:
        return Path(os.path.abspath(file)) if is_broken_link(file) else real_path(file)

    for raw in inputs:
        path = Path(raw).expanduser()
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            for file in sorted(path.glob(pattern)):
                if wanted(file):
                    found.setdefault(key(file), file.relative_to(path))
        elif path.exists() or is_broken_link(path):
            found.setdefault(key(path), Path(path.name))
        else:
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=recursive))
            if not matches:
                raise ImgganError(f"no such file, folder or glob match: {raw}")
            for file in matches:
                if wanted(file):
                    found.setdefault(key(file), Path(file.name))
    return sorted(((file, rel) for file, rel in found.items()), key=lambda pair: str(pair[1]))


def shard_of(relative: str | Path, count: int) -> int:
    """Which of ``count`` shards a file belongs to: a stable hash of its relative path.

    Hashing (not position) keeps a file in the same shard when other files are added or removed.
    """
    return zlib.crc32(str(Path(relative).as_posix()).encode()) % count


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """``"I/N"`` -> ``(I, N)`` with 0 <= I < N; ``None`` passes through."""
    if not spec:
        return None
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError as exc:
        raise ImgganError(f"--shard {spec!r}: expected I/N, e.g. 0/4") from exc
    if count < 1 or not 0 <= index < count:
        raise ImgganError(f"--shard {spec!r}: need 0 <= I < N")
    return index, count


def plan_outputs(
    pairs: list[tuple[Path, Path]],
    output: Path | None,
    task_name: str,
    fmt: str = "keep",
    single_file_output: bool = False,
) -> list[Job]:
    """Decide each input's output path.

    Rules: outputs mirror the input's relative path under ``output`` (default ``./imggan-out``); the
    format is kept unless ``fmt`` names one; with one input and an ``output`` that has an image suffix,
    that exact file is written. An output that would land on any input file gets ``_<task>`` appended
    to its stem, so an input is never overwritten, even when ``-o`` is the input folder.

    Raises:
        ImgganError: two inputs would write the same output (``a.png`` and ``a.jpg`` with ``--format
            png``); the message names them, and nothing has been done yet.
    """
    from imggan.io import WRITE_FORMATS

    inputs = {source for source, _ in pairs}
    root = Path(output) if output is not None else Path("imggan-out")
    jobs = []
    for source, relative in pairs:
        if single_file_output and len(pairs) == 1 and output is not None:
            target = Path(output)
        else:
            target = root / relative
            if fmt and fmt != "keep":
                target = target.with_suffix(WRITE_FORMATS[fmt])
        if real_path(target) in inputs:
            target = target.with_name(f"{target.stem}_{task_name}{target.suffix}")
        jobs.append(Job(source=source, relative=relative, output=target))
    _refuse_collisions(jobs)
    return jobs


def _refuse_collisions(jobs: list[Job]) -> None:
    """Raise when two jobs would write one file (one result would silently replace the other)."""
    by_output: dict[str, list[Job]] = {}
    for job in jobs:
        by_output.setdefault(os.path.normcase(str(real_path(job.output))), []).append(job)
    clashes = [group for group in by_output.values() if len(group) > 1]
    if not clashes:
        return
    shown = "; ".join(
        f"{' and '.join(str(j.source) for j in group)} would all write {group[0].output}" for group in clashes[:3]
    )
    more = f" (and {len(clashes) - 3} more)" if len(clashes) > 3 else ""
    raise ImgganError(
        f"outputs would collide: {shown}{more}; keep each input's format (--format keep), rename the inputs, "
        "or run them into separate -o folders"
    )


def find_side_file(side: SideInput, value: Path | None, job: Job) -> Path | None:
    """The side file (e.g. mask) for ``job``: the option's file, a file of the option's folder with the
    same stem (mirrored relative folder first), then a sidecar ``<stem><suffix>.<ext>`` beside the input."""
    stem = job.source.stem
    candidates: list[Path] = []
    if value is not None:
        value = Path(value)
        if value.is_file():
            return value
        if value.is_dir():
            for folder in (value / job.relative.parent, value):
                for name_stem in (stem, *(stem + s for s in side.sidecar_suffixes)):
                    candidates.extend(sorted(folder.glob(glob.escape(name_stem) + ".*")))
    for suffix in side.sidecar_suffixes:
        candidates.extend(sorted(job.source.parent.glob(glob.escape(stem + suffix) + ".*")))
    for candidate in candidates:
        if candidate.is_file() and is_image_file(candidate) and real_path(candidate) != real_path(job.source):
            return candidate
    return None


def remove_stale_temporaries(jobs: Iterable[Job]) -> list[Path]:
    """Delete the temporary files a killed run left beside its outputs (``.<name>.*.tmp``); returns them.

    Every output is written as such a temporary file and renamed; a process killed between the two (SIGKILL,
    power loss) leaves it behind. A job's temporaries belong to that job only (shards never share an output),
    so removing them before the job runs again is safe.
    """
    removed = []
    for job in jobs:
        pattern = str(job.output.parent / (glob.escape(f".{job.output.name}.") + "*.tmp"))
        for stale in glob.glob(pattern, include_hidden=True):
            Path(stale).unlink(missing_ok=True)
            removed.append(Path(stale))
    return removed
