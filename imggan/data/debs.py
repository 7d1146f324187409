"""Download a Debian package with ``apt-get download`` and unpack it with ``dpkg-deb``.

Every package imggan fetches from Debian's archive (the photo and texture packages, the Plasma wallpapers,
the style references) is downloaded by :func:`download`: a ``.deb`` already in the folder is reused and a
pinned version is tried before the archive's candidate. :func:`unpacked` / :func:`extract` unpack a whole
tree, which only appears under its final name once ``dpkg-deb`` has finished (the style references stream
single members out of the package instead: :mod:`imggan.data.style_refs`).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from imggan.data.debs import DebError, download
    >>> try:  # a name the archive does not have: a one-line error, nothing written
    ...     download("imggan-no-such-package", Path(tempfile.mkdtemp()))
    ... except DebError as error:
    ...     print("imggan-no-such-package" in str(error))
    True
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from imggan.data.staging import staged_folder


class DebError(RuntimeError):
    """A package cannot be had: no ``apt-get``/``dpkg-deb`` on PATH, or the download or unpacking failed."""


def download(package: str, workdir: Path, version: str | None = None) -> Path:
    """The ``.deb`` of ``package`` in ``workdir``: one already there, else ``apt-get download`` it.

    Args:
        package: the Debian package name.
        workdir: where the ``.deb`` is looked for and downloaded to (created).
        version: a version to try first (e.g. the one published figures were measured on); the archive's
            candidate is the fallback.

    Returns:
        The path of the ``.deb`` (the last in sort order when several versions are present).

    Raises:
        DebError: ``apt-get`` is not on PATH, or neither the version nor the candidate can be downloaded.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    present = sorted(workdir.glob(f"{package}_*.deb"))
    if present:
        return present[-1]
    if shutil.which("apt-get") is None:
        raise DebError(f"apt-get not found: {package} is a Debian package")
    error = ""
    for spec in ([f"{package}={version}"] if version else []) + [package]:
        result = subprocess.run(["apt-get", "download", spec], cwd=workdir, capture_output=True, text=True)
        debs = sorted(workdir.glob(f"{package}_*.deb"))
        if debs:
            return debs[-1]
        error = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
    raise DebError(f"apt-get download {package} failed: {error} (run `apt-get update` first?)")


def extract(deb: Path, target: Path) -> Path:
    """Unpack the file tree of ``deb`` into ``target`` (``dpkg-deb -x``); an existing ``target`` is kept.

    The tree is written to ``<target>.partial`` and renamed when complete, so an interrupted run leaves no
    half-unpacked folder under the name later runs trust.

    Raises:
        DebError: ``dpkg-deb`` is not on PATH, or it fails on ``deb``.
    """
    if target.is_dir():
        return target
    if shutil.which("dpkg-deb") is None:
        raise DebError(f"dpkg-deb not found: it unpacks {deb.name}")
    with staged_folder(target) as partial:
        result = subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], capture_output=True, text=True)
        if result.returncode != 0:
            raise DebError(f"dpkg-deb -x {deb.name} failed: {result.stderr.strip()}")
    return target


def unpacked(package: str, target: Path, workdir: Path, version: str | None = None) -> Path:
    """``target`` holding the file tree of ``package``: kept if already unpacked, else downloaded and unpacked.

    Raises:
        DebError: as :func:`download` and :func:`extract`.
    """
    if target.is_dir():
        return target
    return extract(download(package, workdir, version), target)
