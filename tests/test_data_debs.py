"""Debian packages are downloaded once and unpacked atomically (a tiny .deb built here; no network)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imggan.data import debs

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")


@pytest.fixture
def tiny_deb(tmp_path: Path) -> Path:
    """``imggan-tiny_1.0-1_all.deb`` holding one text file, in its own folder."""
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: imggan-tiny\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n"
    )
    (tree / "usr" / "share").mkdir(parents=True)
    (tree / "usr" / "share" / "hello.txt").write_text("hello\n")
    folder = tmp_path / "debs"
    folder.mkdir()
    deb = folder / "imggan-tiny_1.0-1_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)], check=True, capture_output=True)
    return deb


def _no_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(debs.shutil, "which", lambda name: None if name == "apt-get" else real(name))


def test_a_deb_already_in_the_folder_is_used_without_apt_get(tiny_deb, monkeypatch):
    _no_apt(monkeypatch)
    assert debs.download("imggan-tiny", tiny_deb.parent) == tiny_deb


def test_no_apt_get_and_no_deb_is_a_clear_error(tmp_path, monkeypatch):
    _no_apt(monkeypatch)
    with pytest.raises(debs.DebError, match="apt-get not found: imggan-none is a Debian package"):
        debs.download("imggan-none", tmp_path)


def test_unpacked_extracts_once_and_keeps_an_existing_tree(tiny_deb, tmp_path, monkeypatch):
    target = debs.unpacked("imggan-tiny", tmp_path / "x" / "imggan-tiny", tiny_deb.parent)
    assert (target / "usr" / "share" / "hello.txt").read_text() == "hello\n"
    assert not target.with_name("imggan-tiny.partial").exists()
    tiny_deb.unlink()
    _no_apt(monkeypatch)
    assert debs.unpacked("imggan-tiny", target, tiny_deb.parent) == target  # no download needed


def test_a_corrupt_deb_raises_and_leaves_no_tree(tmp_path):
    bad = tmp_path / "imggan-bad_1.0_all.deb"
    bad.write_bytes(b"!<arch>\nnot really a package")
    target = tmp_path / "x" / "imggan-bad"
    with pytest.raises(debs.DebError, match="dpkg-deb -x imggan-bad_1.0_all.deb failed"):
        debs.extract(bad, target)
    assert not target.exists() and not target.with_name("imggan-bad.partial").exists()
