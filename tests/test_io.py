"""Image IO: unicode paths, EXIF orientation, alpha/16-bit/gray round trips, the pixel limit, broken files."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

import imggan.io
from imggan.errors import ImageReadError, ImageTooLargeError, ImgganError
from imggan.io import (
    apply_orientation,
    binarize_mask,
    decode_image,
    encode_image,
    exif_orientation,
    probe_size,
    read_image,
    read_mask,
    write_image,
)

# ------------------------------------------------------------------------------------------ helpers


def exif_segment(orientation: int, endian: str = "<") -> bytes:
    """An APP1 segment holding a minimal TIFF/EXIF block with one tag: Orientation."""
    order = b"II" if endian == "<" else b"MM"
    ifd = struct.pack(endian + "H", 1) + struct.pack(endian + "HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = order + struct.pack(endian + "HI", 42, 8) + ifd + struct.pack(endian + "I", 0)
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_bytes(image: np.ndarray, quality: int = 95) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buffer.tobytes()


def with_exif(jpeg: bytes, orientation: int, endian: str = "<") -> bytes:
    """Insert an EXIF APP1 segment right after the JPEG's SOI marker (byte surgery)."""
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + exif_segment(orientation, endian) + jpeg[2:]


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk announcing ``width`` x ``height`` RGB, and nothing else."""
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))


def asymmetric_image() -> np.ndarray:
    """A 40x60 picture whose every rotation and flip looks different (a bright top-left block)."""
    image = np.full((40, 60, 3), 40, np.uint8)
    image[:12, :20] = (250, 250, 250)
    image[30:, 45:] = (0, 0, 200)
    return image


# Reference transforms for EXIF orientations 1-8 (what the camera meant), in NumPy terms.
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


# ------------------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", ["фото 猫.png", "café déjà vu.jpg", "写真.tif"])
def test_unicode_path_round_trip(tmp_path, name):
    """Images whose path has non-ASCII characters are written and read back (np.fromfile + imdecode)."""
    folder = tmp_path / "папка 文件夹"
    image = asymmetric_image()
    write_image(folder / name, image)
    assert (folder / name).is_file()
    back, info = read_image(folder / name)
    assert back.shape == image.shape
    if name.endswith(".jpg"):
        assert np.abs(back.astype(int) - image).mean() < 3
    else:
        assert (back == image).all()
    assert info.format == Path(name).suffix


@pytest.mark.parametrize("endian", ["<", ">"])
def test_exif_rotated_jpeg_is_read_upright(tmp_path, endian):
    """A JPEG with EXIF orientation 6 (camera turned) comes back rotated 90 degrees clockwise, upright."""
    image = asymmetric_image()
    stored = jpeg_bytes(image)
    plain = cv2.imdecode(np.frombuffer(stored, np.uint8), cv2.IMREAD_UNCHANGED)
    path = tmp_path / "turned.jpg"
    path.write_bytes(with_exif(stored, 6, endian))
    back, info = read_image(path)
    assert back.shape == (60, 40, 3)
    assert (back == np.rot90(plain, -1)).all()
    assert info.exif_rotated
    assert back[:20, -12:].mean() > 200  # the 12x20 bright block moved from top-left to top-right, 20x12


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation(orientation):
    """Each EXIF orientation 1-8 is undone exactly as the EXIF standard defines it."""
    stored = jpeg_bytes(asymmetric_image())
    plain = cv2.imdecode(np.frombuffer(stored, np.uint8), cv2.IMREAD_UNCHANGED)
    data = with_exif(stored, orientation)
    assert exif_orientation(data) == orientation
    back, info = decode_image(data, "x.jpg")
    assert (back == UPRIGHT[orientation](plain)).all()
    assert info.exif_rotated == (orientation != 1)


def test_exif_orientation_applies_to_grayscale_reads(tmp_path):
    """Reading an EXIF-rotated JPEG as grayscale rotates it once, like the colour read."""
    stored = with_exif(jpeg_bytes(asymmetric_image()), 6)
    colour, _ = decode_image(stored, "x.jpg")
    gray, info = decode_image(stored, "x.jpg", grayscale=True)
    assert gray.shape == colour.shape[:2]
    assert np.abs(gray.astype(int) - cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)).max() <= 2
    assert info.channels == 1


def test_exif_orientation_absent_or_garbled_is_one():
    """No EXIF, a PNG, or a garbled EXIF block all mean orientation 1 (no rotation, no crash)."""
    stored = jpeg_bytes(asymmetric_image())
    assert exif_orientation(stored) == 1
    assert exif_orientation(b"\x89PNG\r\n\x1a\n") == 1
    garbled = stored[:2] + b"\xff\xe1\x00\x0cExif\x00\x00II*\x00" + stored[2:]
    assert exif_orientation(garbled) == 1
    assert apply_orientation(np.zeros((2, 3)), 9).shape == (2, 3)


def test_rgba_png_round_trip(tmp_path):
    """A 4-channel PNG keeps its alpha channel exactly."""
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 4), dtype=np.uint8)
    write_image(tmp_path / "a.png", image)
    back, info = read_image(tmp_path / "a.png")
    assert back.dtype == np.uint8 and back.shape == (20, 30, 4)
    assert (back == image).all()
    assert info.channels == 4


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16_bit_round_trip(tmp_path, suffix, channels):
    """16-bit images (gray, colour, with alpha) keep their full depth through write and read."""
    shape = (18, 22) if channels == 1 else (18, 22, channels)
    image = np.random.default_rng(channels).integers(0, 65536, shape, dtype=np.uint16)
    write_image(tmp_path / f"deep{suffix}", image)
    back, info = read_image(tmp_path / f"deep{suffix}")
    assert back.dtype == np.uint16
    assert (back == image).all()
    assert info.dtype == "uint16" and info.channels == channels


def test_grayscale_round_trip(tmp_path):
    """A one-channel image is read back as HxW, not expanded to three channels."""
    image = np.random.default_rng(1).integers(0, 256, (16, 24), dtype=np.uint8)
    write_image(tmp_path / "g.png", image)
    back, info = read_image(tmp_path / "g.png")
    assert back.shape == (16, 24)
    assert (back == image).all()
    assert info.channels == 1


def test_grayscale_flag_reads_colour_as_one_channel(tmp_path):
    """read_image(grayscale=True) turns a colour file into one channel."""
    write_image(tmp_path / "c.png", asymmetric_image())
    gray, _ = read_image(tmp_path / "c.png", grayscale=True)
    assert gray.ndim == 2 and gray.shape == (40, 60)


def test_encode_jpeg_drops_alpha_and_depth():
    """JPEG cannot store alpha or 16 bits: they are dropped (scaled), not an error."""
    deep = np.full((8, 8, 4), 65535, np.uint16)
    back = cv2.imdecode(np.frombuffer(encode_image(deep, ".jpg"), np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.shape == (8, 8, 3) and back.dtype == np.uint8 and back.min() >= 250


def test_jpeg_quality_changes_size():
    """A lower JPEG quality gives a smaller file."""
    image = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert len(encode_image(image, ".jpg", jpeg_quality=30)) < len(encode_image(image, ".jpg", jpeg_quality=95))


@pytest.mark.parametrize("suffix", [".webp", ".bmp"])
def test_other_formats_round_trip(tmp_path, suffix):
    """WebP and BMP are written in the format the suffix names and read back."""
    image = asymmetric_image()
    write_image(tmp_path / f"x{suffix}", image, jpeg_quality=100)
    back, info = read_image(tmp_path / f"x{suffix}")
    assert back.shape == image.shape
    assert np.abs(back.astype(int) - image).mean() < 2
    assert info.format == suffix


# ------------------------------------------------------------------------------------------ pixel limit


def test_pixel_limit_refuses_huge_png_header_before_decoding(monkeypatch):
    """A 33-byte PNG claiming 100000x100000 is refused from its header alone, at once, without imdecode."""
    data = png_header(100_000, 100_000)
    assert len(data) == 33
    assert probe_size(data) == (100_000, 100_000)

    def no_decode(*args, **kwargs):
        raise AssertionError("imdecode called on an over-limit image")

    monkeypatch.setattr(imggan.io.cv2, "imdecode", no_decode)
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError, match=r"100000x100000 .* exceeds the limit"):
        decode_image(data, "bomb.png")
    assert time.perf_counter() - started < 0.5


def test_pixel_limit_refuses_huge_jpeg_header(tmp_path):
    """A JPEG whose frame header is patched to 60000x60000 is refused by read_image with the file named."""
    data = bytearray(jpeg_bytes(asymmetric_image()))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60_000, 60_000)
    path = tmp_path / "bomb.jpg"
    path.write_bytes(bytes(data))
    assert probe_size(bytes(data)) == (60_000, 60_000)
    with pytest.raises(ImageTooLargeError, match="bomb.jpg"):
        read_image(path)


def test_pixel_limit_is_configurable(tmp_path):
    """max_pixels applies to real files too: 40x60 passes at 2400 pixels and fails at 2399."""
    write_image(tmp_path / "x.png", asymmetric_image())
    assert read_image(tmp_path / "x.png", max_pixels=2400)[0].shape == (40, 60, 3)
    with pytest.raises(ImageTooLargeError):
        read_image(tmp_path / "x.png", max_pixels=2399)
    assert read_image(tmp_path / "x.png", max_pixels=None)[0].shape == (40, 60, 3)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp"])
def test_probe_size_reads_headers(suffix):
    """probe_size gives (width, height) for PNG, JPEG, BMP and WebP without decoding."""
    ok, buffer = cv2.imencode(suffix, np.zeros((37, 53, 3), np.uint8))
    assert ok
    assert probe_size(buffer.tobytes()) == (53, 37)
    assert probe_size(b"not an image at all") is None


# ------------------------------------------------------------------------------------------ broken files


def test_truncated_jpeg_is_a_clear_error(tmp_path):
    """A JPEG cut in half is reported as truncated, naming the file, instead of decoding half grey."""
    data = jpeg_bytes(np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"cut\.jpg: .*truncated"):
        read_image(path)


def test_truncated_png_is_a_clear_error(tmp_path):
    """A PNG that stops before IEND is reported as truncated."""
    ok, buffer = cv2.imencode(".png", np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.tobytes()[:-200])
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(path)


def test_zero_byte_file_is_a_clear_error(tmp_path):
    """An empty file says it is empty."""
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"empty\.png: empty file"):
        read_image(tmp_path / "empty.png")


def test_text_file_named_png_is_a_clear_error(tmp_path):
    """A text file with an image suffix is 'not a readable image', naming the file."""
    (tmp_path / "notes.png").write_text("this is not a picture\n", encoding="utf-8")
    with pytest.raises(ImageReadError, match=r"notes\.png: not a readable image"):
        read_image(tmp_path / "notes.png")


def test_missing_file_and_folder_are_clear_errors(tmp_path):
    """A missing path and a folder each give their own message."""
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="is a folder"):
        read_image(tmp_path)


# ------------------------------------------------------------------------------------------ writing


def test_write_is_atomic_when_the_rename_fails(tmp_path, monkeypatch, files_under):
    """A failure while writing leaves neither the target nor a temporary file behind."""

    def broken_replace(src, dst):
        raise OSError("disk vanished")

    monkeypatch.setattr(imggan.weights.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk vanished"):
        write_image(tmp_path / "out" / "a.png", asymmetric_image())
    assert files_under(tmp_path / "out") == []


def test_write_replaces_an_existing_output_whole(tmp_path, files_under):
    """Writing over an existing output swaps in the new image and leaves no temporary file."""
    write_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    write_image(tmp_path / "a.png", np.full((4, 4, 3), 7, np.uint8))
    assert (read_image(tmp_path / "a.png")[0] == 7).all()
    assert files_under(tmp_path) == ["a.png"]


def test_write_refuses_a_protected_input(tmp_path):
    """write_image never writes over a path in ``protect`` (the run's inputs), and the file is untouched."""
    path = tmp_path / "in.png"
    write_image(path, asymmetric_image())
    before = path.read_bytes()
    with pytest.raises(ImgganError, match="refusing to overwrite an input"):
        write_image(tmp_path / "." / "in.png", np.zeros((4, 4, 3), np.uint8), protect={path.resolve()})
    assert path.read_bytes() == before


# ------------------------------------------------------------------------------------------ masks


def test_read_mask_thresholds_and_resizes(tmp_path):
    """A gray mask becomes {0, 255} at 127 and is resized (nearest) to the image size asked for."""
    mask = np.zeros((10, 10), np.uint8)
    mask[:, 5:] = 200
    mask[0, 0] = 100
    write_image(tmp_path / "m.png", mask)
    binary = read_mask(tmp_path / "m.png")
    assert set(np.unique(binary)) == {0, 255}
    assert binary[0, 0] == 0 and binary[0, 9] == 255
    assert read_mask(tmp_path / "m.png", size=(20, 30)).shape == (30, 20)


def test_binarize_mask_alpha_and_colour_and_16_bit():
    """Transparent pixels of an alpha-only mask are holes; colour and 16-bit masks threshold on brightness."""
    alpha_mask = np.zeros((4, 4, 4), np.uint8)
    alpha_mask[..., 3] = 255
    alpha_mask[0, 0, 3] = 0
    holes = binarize_mask(alpha_mask)
    assert holes[0, 0] == 255 and holes.sum() == 255
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[1, 1, 2] = 255
    assert binarize_mask(colour)[1, 1] == 255 and binarize_mask(colour).sum() == 255
    deep = np.full((4, 4), 40000, np.uint16)
    assert (binarize_mask(deep) == 255).all()


def test_mask_gray_keeps_dtype_and_reads_alpha_only_masks():
    """mask_gray: brightest channel for colour masks, transparency for alpha-only ones, dtype kept."""
    from imggan.io import mask_gray

    colour = np.zeros((3, 3, 3), np.uint16)
    colour[0, 0, 0] = 60000
    assert mask_gray(colour).dtype == np.uint16 and mask_gray(colour)[0, 0] == 60000
    alpha_only = np.zeros((3, 3, 4), np.uint8)
    alpha_only[..., 3] = 255
    alpha_only[1, 1, 3] = 0
    assert mask_gray(alpha_only)[1, 1] == 255 and mask_gray(alpha_only).sum() == 255
    gray = np.eye(3, dtype=np.uint8)
    assert mask_gray(gray) is gray
