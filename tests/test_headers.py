"""Headers: size and frame count of every format imggan reads, without decoding; the pixel limit and the
multi-frame refusal act on them (a 25000x25000 TIFF is refused before any pixel is decoded)."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

import imggan.io
from imggan.errors import ImageReadError, ImageTooLargeError
from imggan.headers import probe
from imggan.io import READ_SUFFIXES, read_image


@pytest.mark.parametrize("suffix", sorted(READ_SUFFIXES - {".jpeg"}))
@pytest.mark.parametrize("channels", [1, 3])
def test_every_readable_format_has_its_size_read_from_the_header(suffix: str, channels: int) -> None:
    if suffix in (".pbm", ".pgm"):
        channels = 1  # these store gray only
    elif suffix in (".ppm", ".gif"):
        channels = 3  # these store colour (OpenCV's GIF encoder takes BGR)
    shape = (37, 53) if channels == 1 else (37, 53, 3)
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    if suffix == ".pbm":
        image = (image > 127).astype(np.uint8) * 255
    ok, buffer = cv2.imencode(suffix, image)
    assert ok
    assert probe(buffer.tobytes()) == (53, 37, 1), suffix


@pytest.mark.parametrize("suffix", [".tif", ".gif"])
def test_multi_frame_files_count_their_frames_and_are_refused_with_a_reason(tmp_path, suffix: str) -> None:
    frames = [np.full((20, 30, 3), 60 * i, np.uint8) for i in range(3)]
    ok, buffer = cv2.imencodemulti(suffix, frames)
    assert ok
    assert probe(buffer.tobytes()) == (30, 20, 3)
    path = tmp_path / f"pages{suffix}"
    buffer.tofile(str(path))
    with pytest.raises(ImageReadError, match=rf"pages\{suffix}: 3 frames \(pages\): one image is expected here"):
        read_image(path)
    single = tmp_path / f"one{suffix}"
    cv2.imencode(suffix, frames[1])[1].tofile(str(single))
    assert read_image(single)[0].shape[:2] == (20, 30)


def _tiff_header(width: int, height: int) -> bytes:
    """A little-endian TIFF whose only IFD announces ``width`` x ``height`` (no pixel data)."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (277, 3, 1, 3)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 8) + ifd


@pytest.mark.parametrize(
    "data",
    [
        _tiff_header(25_000, 25_000),
        b"P6\n# a comment\n25000 25000\n255\n",
        b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00" * 20 + b"\x00\x00\x00\x16ihdr" + struct.pack(">II", 25_000, 25_000),
    ],
    ids=["tiff", "ppm", "jp2"],
)
def test_pixel_limit_is_applied_from_the_header_before_decoding(monkeypatch, data: bytes) -> None:
    def no_decoding(*_args, **_kwargs):
        raise AssertionError("decoded although the header is over the limit")

    monkeypatch.setattr(imggan.io.cv2, "imdecode", no_decoding)
    with pytest.raises(ImageTooLargeError, match=r"big: 25000x25000 = 625 MP exceeds the limit of 100 MP"):
        imggan.io.decode_image(data, "big", max_pixels=100_000_000)


def test_unrecognised_headers_are_not_decoded_blindly() -> None:
    assert probe(b"not an image at all") is None
    assert probe(b"II*\x00\xff\xff\xff\xff") is None  # an IFD offset past the end
    with pytest.raises(ImageReadError, match="x.png: not a readable image"):
        imggan.io.decode_image(b"GARBAGE" * 10, "x.png")
