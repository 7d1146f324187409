"""The style references are rebuilt from a .deb: picked out of the package, copied or re-encoded, checked.

A tiny package is built with ``dpkg-deb --build`` (no network): one JPEG to copy and one PNG with alpha to
re-encode as JPEG quality 95, as the real references are made.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from imggan.data import style_refs
from imggan.data.style_refs import STYLE_REFS, StyleRef, StyleRefsError, fetch_style_refs

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")

JPG = "usr/share/wallpapers/Tiny/contents/images/64x48.jpg"
PNG = "usr/share/wallpapers/Tiny/contents/images/64x48.png"


@pytest.fixture
def tiny_deb(tmp_path: Path) -> tuple[Path, np.ndarray, bytes]:
    """A package ``imggan-tiny`` holding a JPEG and an RGBA PNG; returns its folder, the PNG's BGR and the JPEG."""
    tree = tmp_path / "tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        "Package: imggan-tiny\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n"
    )
    rng = np.random.default_rng(0)
    bgr = cv2.GaussianBlur(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), (0, 0), 2)
    bgra = np.dstack([bgr, np.full((48, 64), 128, np.uint8)])
    (tree / PNG).parent.mkdir(parents=True)
    cv2.imwrite(str(tree / PNG), bgra)
    jpg = cv2.imencode(".jpg", bgr[::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    (tree / JPG).write_bytes(jpg)
    debs = tmp_path / "debs"
    debs.mkdir()
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", str(tree), str(debs / "imggan-tiny_1.0-1_all.deb")],
        check=True,
        capture_output=True,
    )
    return debs, bgr, jpg


def _refs(jpg: bytes, kay_sha: str = "0" * 64) -> list[StyleRef]:
    return [
        StyleRef("a.jpg", "imggan-tiny", JPG, "test", "copy", hashlib.sha256(jpg).hexdigest(), "test"),
        StyleRef("b.jpg", "imggan-tiny", PNG, "test", "jpeg95", kay_sha, "test"),
    ]


def test_refs_are_picked_copied_and_reencoded(tiny_deb, tmp_path):
    debs, bgr, jpg = tiny_deb
    out = tmp_path / "refs"
    record = fetch_style_refs(out, _refs(jpg), debs=debs, log=lambda _: None)
    assert (out / "a.jpg").read_bytes() == jpg  # a byte copy
    expected = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    assert (out / "b.jpg").read_bytes() == expected  # alpha dropped, JPEG quality 95
    decoded = cv2.imread(str(out / "b.jpg"))
    assert decoded.shape == bgr.shape and np.abs(decoded.astype(int) - bgr).mean() < 3
    assert record["a.jpg"]["matches_recorded"] is True
    assert record["b.jpg"]["matches_recorded"] is False  # the fake recorded digest is reported, not hidden
    assert record["b.jpg"]["sha256_written"] == hashlib.sha256(expected).hexdigest()
    saved = json.loads((out / "SOURCES.json").read_text())
    assert saved["a.jpg"]["member"] == JPG and saved["a.jpg"]["deb"] == "imggan-tiny_1.0-1_all.deb"
    assert not list(out.glob(".*partial"))


def test_existing_refs_are_kept_unless_overwrite(tiny_deb, tmp_path):
    debs, _, jpg = tiny_deb
    out = tmp_path / "refs"
    out.mkdir()
    (out / "a.jpg").write_bytes(b"hand-made")
    fetch_style_refs(out, _refs(jpg)[:1], debs=debs, log=lambda _: None)
    assert (out / "a.jpg").read_bytes() == b"hand-made"
    fetch_style_refs(out, _refs(jpg)[:1], debs=debs, overwrite=True, log=lambda _: None)
    assert (out / "a.jpg").read_bytes() == jpg


def test_missing_member_is_an_error(tiny_deb, tmp_path):
    debs, _, jpg = tiny_deb
    ref = StyleRef("c.jpg", "imggan-tiny", "usr/share/none.jpg", "test", "copy", "0" * 64, "test")
    with pytest.raises(StyleRefsError, match="has no usr/share/none.jpg"):
        fetch_style_refs(tmp_path / "refs", [ref], debs=debs, log=lambda _: None)


def test_no_apt_get_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(style_refs.shutil, "which", lambda name: None)
    with pytest.raises(StyleRefsError, match="apt-get not found"):
        fetch_style_refs(tmp_path / "refs", STYLE_REFS[:1], log=lambda _: None)


def test_cli_reports_no_apt_get_in_one_line(invoke, tmp_path, monkeypatch):
    monkeypatch.setattr(style_refs.shutil, "which", lambda name: None)
    result = invoke("data", "fetch", "--style-refs", "--refs-dir", tmp_path / "refs")
    assert result.exit_code == 1 and "apt-get not found" in result.stderr


def test_every_reference_the_benchmark_and_cards_read_is_recorded():
    root = Path(__file__).resolve().parents[1]
    texts = [root / "benchmarks" / "style.py", *sorted((root / "plugins" / "imggan-style").rglob("weights/*.json"))]
    read = {m for path in texts for m in re.findall(r"\b(?:bench|train|val)-[\w-]+\.jpg", path.read_text())}
    assert len(read) >= 9 and read <= {r.name for r in STYLE_REFS}
    assert len({r.sha256 for r in STYLE_REFS}) == len(STYLE_REFS)
