"""Turning the CLI's INPUT arguments into a list of jobs: files, folders and globs; output paths; shards.

Example:
    >>> from imggan.inputs import shard_of
    >>> shard_of("a/b.png", 4) in range(4)
    True
"""

from __future__ import annotations

import glob
import zlib
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


def _is_sidecar(path: Path, side_inputs: list[SideInput], stems: dict[Path, set[str]]) -> bool:
    """True when ``path`` looks like another image's side file (``cat_mask.png`` beside ``cat.jpg``).

    ``stems`` caches the image stems of each folder seen, so a folder is listed once.
    """
    if not side_inputs:
        return False
    folder = path.parent
    if folder not in stems:
        stems[folder] = {p.stem for p in folder.iterdir() if is_image_file(p)}
    for side in side_inputs:
        for suffix in side.sidecar_suffixes:
            if path.stem.endswith(suffix) and path.stem[: -len(suffix)] in stems[folder]:
                return True
    return False


def expand_inputs(
    inputs: list[str], recursive: bool = False, side_inputs: list[SideInput] | None = None
) -> list[tuple[Path, Path]]:
    """Expand files, folders and globs into ``(file, relative path)`` pairs, sorted and de-duplicated.

    A folder contributes its images (all levels with ``recursive``), relative to the folder; a file or a
    glob match is relative to its own folder. Sidecar files of ``side_inputs`` are left out.

    Raises:
        ImgganError: an argument matches nothing (usage error).
    """
    side_inputs = side_inputs or []
    found: dict[Path, Path] = {}
    stems: dict[Path, set[str]] = {}
    for raw in inputs:
        path = Path(raw).expanduser()
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            for file in sorted(path.glob(pattern)):
                if file.is_file() and is_image_file(file) and not _is_sidecar(file, side_inputs, stems):
                    found.setdefault(file.resolve(), file.relative_to(path))
        elif path.exists():
            found.setdefault(path.resolve(), Path(path.name))
        else:
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=recursive))
            if not matches:
                raise ImgganError(f"no such file, folder or glob match: {raw}")
            for file in matches:
                if file.is_file() and is_image_file(file) and not _is_sidecar(file, side_inputs, stems):
                    found.setdefault(file.resolve(), Path(file.name))
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
        if target.resolve() in inputs:
            target = target.with_name(f"{target.stem}_{task_name}{target.suffix}")
        jobs.append(Job(source=source, relative=relative, output=target))
    return jobs


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
        if candidate.is_file() and is_image_file(candidate) and candidate.resolve() != job.source.resolve():
            return candidate
    return None
