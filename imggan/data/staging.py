"""A folder that appears under its final name only when complete.

Downloads and unpacked packages are trusted by their folder's name alone (a later run that finds the folder
keeps it), so they are written to ``<target>.partial`` and renamed when the work is done; any error removes
the partial folder.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> with staged_folder(root / "data") as partial:
    ...     _ = (partial / "a.txt").write_text("done")
    >>> sorted(p.name for p in root.iterdir())
    ['data']
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield an empty ``<target>.partial`` folder; rename it to ``target`` on success, remove it on any error."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(target)
