"""Image reading and writing with OpenCV: unicode paths, EXIF orientation, alpha, 16-bit, atomic writes.

Reading goes through ``np.fromfile`` + ``cv2.imdecode`` (OpenCV's ``imread`` fails on non-ASCII paths on
some platforms). The header is parsed first (:mod:`imggan.headers`, every format read) so an image announcing more than
``max_pixels`` is refused before any pixel memory is allocated, a multi-page TIFF or animated GIF is decoded
frame by frame (:func:`decode_frames`, :func:`write_frames`) and an animated PNG/WebP refused with a reason,
never cut to its first frame, and a file that stops before its end
marker is reported as truncated instead of being returned half grey. Writing encodes in memory, then
writes a temporary file in the target folder and renames it over the target: a crash never leaves a
partial output.

Example:
    >>> import numpy as np, tempfile
    >>> from pathlib import Path
    >>> from imggan.io import read_image, write_image
    >>> path = Path(tempfile.mkdtemp()) / "café.png"
    >>> write_image(path, np.full((4, 6, 4), 200, np.uint8))
    >>> image, info = read_image(path)
    >>> image.shape, info.format, info.channels
    ((4, 6, 4), '.png', 4)
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import cv2
import numpy as np

from imggan.errors import ImageReadError, ImageTooLargeError, ImgganError
from imggan.headers import probe
from imggan.task import ImageInfo
from imggan.weights import atomic_write_bytes

DEFAULT_MAX_PIXELS = int(os.environ.get("IMGGAN_MAX_PIXELS", 100_000_000))
READ_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".jp2", ".pbm", ".pgm", ".ppm", ".pnm",
}  # fmt: skip
MULTI_FRAME_SUFFIXES = {".tif", ".tiff", ".gif"}  # formats whose frames are read and written one by one
WRITE_FORMATS = {
    "png": ".png",
    "jpg": ".jpg",
    "jpeg": ".jpg",
    "webp": ".webp",
    "tif": ".tif",
    "tiff": ".tif",
    "bmp": ".bmp",
}


# --------------------------------------------------------------------------------------------- header


def probe_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header of any format imggan reads, without decoding; None if unknown."""
    found = probe(data)
    return None if found is None else (found[0], found[1])


def _truncation(data: bytes) -> str | None:
    """Why a PNG/JPEG byte string looks cut short (None when it looks whole or the format is unknown)."""
    if data[:2] == b"\xff\xd8":
        tail = data.rstrip(b"\x00\r\n\t ")
        if b"\xff\xd9" not in tail[-64:]:
            return "JPEG data ends before its end-of-image marker (truncated file?)"
    if data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-64:]:
        return "PNG data ends before its IEND chunk (truncated file?)"
    return None


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation tag (1-8) of a JPEG byte string; 1 when absent or unreadable."""
    if data[:2] != b"\xff\xd8":
        return 1
    i = 2
    while i + 4 < len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker == 0xE1 and data[i + 4 : i + 10] == b"Exif\x00\x00":
            tiff = data[i + 10 : i + 2 + length]
            try:
                endian = "<" if tiff[:2] == b"II" else ">"
                (ifd,) = struct.unpack(endian + "I", tiff[4:8])
                (count,) = struct.unpack(endian + "H", tiff[ifd : ifd + 2])
                for k in range(count):
                    entry = tiff[ifd + 2 + 12 * k : ifd + 14 + 12 * k]
                    tag, _type, _n = struct.unpack(endian + "HHI", entry[:8])
                    if tag == 0x0112:
                        (value,) = struct.unpack(endian + "H", entry[8:10])
                        return value if 1 <= value <= 8 else 1
            except struct.error:
                return 1
            return 1
        if marker == 0xDA:  # start of scan: no EXIF after this
            break
        i += 2 + length
    return 1


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip ``image`` as EXIF orientation ``orientation`` asks, giving the upright picture."""
    ops = {
        2: lambda a: cv2.flip(a, 1),
        3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
        4: lambda a: cv2.flip(a, 0),
        5: lambda a: cv2.flip(cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE), 1),
        6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
        7: lambda a: cv2.flip(cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE), 1),
        8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    return ops[orientation](image) if orientation in ops else image


# --------------------------------------------------------------------------------------------- read


def read_bytes(path: Path) -> bytes:
    """The file's bytes, with errors that name the file and the reason."""
    path = Path(path)
    if os.path.islink(path) and not path.exists():
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ImageReadError(f"{path}: a symbolic link loop (the link leads back to itself)") from None
        raise ImageReadError(f"{path}: a broken symbolic link (its target {os.readlink(path)} does not exist)")
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image")
    data = np.fromfile(str(path), dtype=np.uint8).tobytes()
    if not data:
        raise ImageReadError(f"{path}: empty file (0 bytes)")
    return data


def decode_image(
    data: bytes, name: str = "<bytes>", max_pixels: int | None = DEFAULT_MAX_PIXELS, grayscale: bool = False
) -> tuple[np.ndarray, ImageInfo]:
    """Decode image bytes keeping alpha, 16-bit depth and grayscale; apply EXIF orientation.

    Raises:
        ImageTooLargeError: the header announces more than ``max_pixels`` pixels.
        ImageReadError: not an image, or truncated.
    """
    header = probe(data)
    size = None if header is None else header[:2]
    if size is not None and max_pixels and size[0] * size[1] > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {size[0]}x{size[1]} = {size[0] * size[1] / 1e6:.0f} MP exceeds the limit of "
            f"{max_pixels / 1e6:.0f} MP (raise it with IMGGAN_MAX_PIXELS or --max-pixels)"
        )
    if header is not None and header[2] > 1:
        many = "an animated WebP" if data[:4] == b"RIFF" else f"{header[2]} frames (pages)"
        raise ImageReadError(
            f"{name}: {many}: one image is expected here and imggan will not keep only the first frame "
            "(the batch runner processes multi-page TIFF and GIF frame by frame)"
        )
    truncated = _truncation(data)
    if truncated:
        raise ImageReadError(f"{name}: {truncated}")
    if header is None and max_pixels:
        raise ImageReadError(f"{name}: not a readable image (no image header imggan knows: unknown format or corrupt)")
    # OpenCV applies EXIF orientation itself for IMREAD_GRAYSCALE; we apply it below, for every mode, once.
    flags = cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION if grayscale else cv2.IMREAD_UNCHANGED
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None:
        raise ImageReadError(f"{name}: not a readable image (unknown format or corrupt data)")
    if size is None and max_pixels and image.shape[0] * image.shape[1] > max_pixels:
        raise ImageTooLargeError(f"{name}: {image.shape[1]}x{image.shape[0]} exceeds the pixel limit")
    if image.dtype not in (np.uint8, np.uint16):
        image = _to_uint16(image) if image.dtype != np.int8 else image.astype(np.uint8)
    orientation = exif_orientation(data)
    image = apply_orientation(image, orientation)
    channels = 1 if image.ndim == 2 else image.shape[2]
    info = ImageInfo(format=_format_of(data, name), dtype=str(image.dtype), channels=channels)
    info.exif_rotated = orientation != 1
    return image, info


def decode_frames(
    data: bytes, name: str = "<bytes>", max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> tuple[list[np.ndarray], ImageInfo]:
    """Decode every page of a multi-page TIFF or frame of an animated GIF (one image otherwise).

    The pixel limit applies to the frames together (their memory), read from the header before decoding.
    Animated PNG and WebP are refused with a reason (OpenCV reads their first frame only).

    Raises:
        ImageTooLargeError / ImageReadError: as :func:`decode_image`.
    """
    header = probe(data)
    if header is None or header[2] <= 1:
        image, info = decode_image(data, name, max_pixels=max_pixels)
        return [image], info
    width, height, frames = header
    if data[:4] == b"RIFF" or data[:8] == b"\x89PNG\r\n\x1a\n":
        kind = "an animated WebP" if data[:4] == b"RIFF" else f"an animated PNG ({frames} frames)"
        raise ImageReadError(f"{name}: {kind}: only multi-page TIFF and GIF are processed frame by frame; convert it")
    if max_pixels and width * height * frames > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {frames} frames of {width}x{height} = {width * height * frames / 1e6:.0f} MP together exceed "
            f"the limit of {max_pixels / 1e6:.0f} MP (raise it with IMGGAN_MAX_PIXELS or --max-pixels)"
        )
    ok, images = cv2.imdecodemulti(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if not ok or not images:
        raise ImageReadError(f"{name}: not a readable image (its {frames} frames could not be decoded)")
    images = [im if im.dtype in (np.uint8, np.uint16) else _to_uint16(im) for im in images]
    first = images[0]
    channels = 1 if first.ndim == 2 else first.shape[2]
    return list(images), ImageInfo(format=_format_of(data, name), dtype=str(first.dtype), channels=channels)


def _to_uint16(image: np.ndarray) -> np.ndarray:
    if image.dtype.kind == "f":
        return np.clip(np.rint(image * 65535.0), 0, 65535).astype(np.uint16)
    return np.clip(image, 0, 65535).astype(np.uint16)


def _format_of(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower()
    if data[:2] == b"\xff\xd8":
        return ".jpg" if suffix not in (".jpg", ".jpeg") else suffix
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png"
    return suffix if suffix in READ_SUFFIXES else ".png"


def read_image(
    path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS, grayscale: bool = False
) -> tuple[np.ndarray, ImageInfo]:
    """Read an image file (see :func:`decode_image`); errors name the file."""
    path = Path(path)
    return decode_image(read_bytes(path), str(path), max_pixels=max_pixels, grayscale=grayscale)


def read_mask(
    path: Path, size: tuple[int, int] | None = None, max_pixels: int | None = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Read a mask as HxW uint8 with 255 = hole: non-zero alpha-less gray thresholded at 127.

    A mask with an alpha channel counts transparent pixels as holes when it has no gray content.
    ``size`` (width, height) resizes it (nearest) to an image's size.
    """
    image, _ = read_image(path, max_pixels=max_pixels)
    return binarize_mask(image, size)


def mask_gray(image: np.ndarray) -> np.ndarray:
    """Any decoded mask image -> HxW of the same dtype: the brightest channel (a mask drawn in any colour
    counts), or for an alpha-only image (no colour anywhere) the transparency (transparent = bright)."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4 and not image[..., :3].any():
        return np.iinfo(image.dtype).max - image[..., 3]
    return image[..., :3].max(axis=2)


def binarize_mask(image: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Any mask image -> HxW uint8 {0, 255}: gray > 127 (on the 8-bit scale) is a hole."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    gray = mask_gray(image)
    if size is not None and (gray.shape[1], gray.shape[0]) != tuple(size):
        gray = cv2.resize(gray, tuple(size), interpolation=cv2.INTER_NEAREST)
    return np.where(gray > 127, 255, 0).astype(np.uint8)


# --------------------------------------------------------------------------------------------- write


def encode_image(image: np.ndarray, suffix: str, jpeg_quality: int = 95) -> bytes:
    """Encode to ``suffix``'s format; JPEG drops alpha and 16-bit depth (it cannot store them)."""
    suffix = suffix.lower()
    params: list[int] = []
    if suffix in (".jpg", ".jpeg"):
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        if image.ndim == 3 and image.shape[2] == 4:
            image = image[..., :3]
        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    elif suffix == ".webp":
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        params = [cv2.IMWRITE_WEBP_QUALITY, int(jpeg_quality)]
    elif suffix == ".bmp" and image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif suffix == ".png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, 3]
    ok, buffer = cv2.imencode(suffix, np.ascontiguousarray(image), params)
    if not ok:
        raise ImgganError(f"OpenCV could not encode an image as {suffix}")
    return buffer.tobytes()


def write_frames(path: Path, images: list[np.ndarray], protect: set[Path] | None = None) -> None:
    """Write ``images`` atomically as one multi-page TIFF or animated GIF (``path``'s suffix decides).

    Raises:
        ImgganError: the format stores one image only, or ``path`` is a protected input.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MULTI_FRAME_SUFFIXES:
        raise ImgganError(f"{path}: {len(images)} frames cannot be stored as {suffix or 'this format'}")
    if protect is not None and Path(os.path.realpath(path)) in protect:
        raise ImgganError(f"{path}: refusing to overwrite an input file")
    if suffix == ".gif":  # OpenCV's GIF encoder takes 8-bit BGR
        images = [_gif_frame(image) for image in images]
    ok, buffer = cv2.imencodemulti(suffix, [np.ascontiguousarray(image) for image in images])
    if not ok:
        raise ImgganError(f"OpenCV could not encode {len(images)} frames as {suffix}")
    atomic_write_bytes(path, buffer.tobytes())


def _gif_frame(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(image[..., :3])


def write_image(path: Path, image: np.ndarray, jpeg_quality: int = 95, protect: set[Path] | None = None) -> None:
    """Write ``image`` atomically to ``path`` in the format its suffix names.

    Args:
        protect: resolved paths that must never be written (the run's inputs).

    Raises:
        ImgganError: ``path`` is one of the protected inputs.
    """
    path = Path(path)
    if protect is not None and Path(os.path.realpath(path)) in protect:
        raise ImgganError(f"{path}: refusing to overwrite an input file")
    atomic_write_bytes(path, encode_image(image, path.suffix or ".png", jpeg_quality))
