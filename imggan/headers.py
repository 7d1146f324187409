"""Image headers read without decoding: size and frame count of every format imggan reads.

:func:`probe` gives ``(width, height, frames)`` for PNG (APNG frame count from ``acTL``), JPEG, BMP, GIF
(every image descriptor counted), WebP (animation flag), TIFF and BigTIFF (every page), JPEG 2000 (JP2 box
or raw codestream) and the PNM family (PBM/PGM/PPM/PAM). The reader uses it to refuse an image over the
pixel limit before any pixel memory is allocated, and to see a multi-frame file for what it is (the batch
runner processes TIFF pages and GIF frames one by one; anything else with frames is refused with a reason,
never cut to its first frame).

Example:
    >>> import cv2, numpy as np
    >>> from imggan.headers import probe
    >>> ok, tif = cv2.imencode(".tif", np.zeros((37, 53, 3), np.uint8))
    >>> probe(tif.tobytes()), probe(b"P5\\n# comment\\n640 480\\n255\\n")
    ((53, 37, 1), (640, 480, 1))
"""

from __future__ import annotations

import struct

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_MAX_PAGES = 100_000


def _jpeg(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF:
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + length
    return None


def _png(data: bytes) -> tuple[int, int, int]:
    w, h = struct.unpack(">II", data[16:24])
    frames, i = 1, 8
    while i + 12 <= len(data):  # acTL (animation control) comes before the first IDAT
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        if kind == b"acTL" and i + 12 <= len(data):
            (frames,) = struct.unpack(">I", data[i + 8 : i + 12])
            break
        if kind in (b"IDAT", b"IEND"):
            break
        i += 12 + length
    return w, h, max(1, frames)


def _bmp(data: bytes) -> tuple[int, int] | None:
    (header,) = struct.unpack("<I", data[14:18])
    if header == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sides
        return struct.unpack("<HH", data[18:22])
    w, h = struct.unpack("<ii", data[18:26])
    return abs(w), abs(h)


def _gif(data: bytes) -> tuple[int, int, int] | None:
    w, h = struct.unpack("<HH", data[6:10])
    flags = data[10]
    i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0
    while i < len(data):
        block = data[i]
        if block == 0x3B:  # trailer
            break
        if block == 0x2C:  # image descriptor (+ local colour table, LZW size, data sub-blocks)
            frames += 1
            if i + 10 > len(data):
                break
            local = data[i + 9]
            i += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
        elif block == 0x21:  # extension: label, then data sub-blocks
            i += 2
        else:
            break
        while i < len(data) and data[i] != 0:  # skip sub-blocks
            i += data[i] + 1
        i += 1
    return w, h, max(1, frames)


def _webp(data: bytes) -> tuple[int, int, int] | None:
    kind = data[12:16]
    if kind == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        animated = bool(data[20] & 0x02)
        return w, h, 2 if animated else 1  # the frame count needs the ANMF chunks; "more than one" is enough
    if kind == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF, 1
    if kind == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 1
    return None


def _tiff(data: bytes) -> tuple[int, int, int] | None:
    endian = "<" if data[:2] == b"II" else ">"
    (version,) = struct.unpack(endian + "H", data[2:4])
    big = version == 43
    if big:
        (offset,) = struct.unpack(endian + "Q", data[8:16])
        count_fmt, entry_size, value_at, next_fmt = "Q", 20, 12, "Q"
    else:
        (offset,) = struct.unpack(endian + "I", data[4:8])
        count_fmt, entry_size, value_at, next_fmt = "H", 12, 8, "I"
    count_size = struct.calcsize(count_fmt)
    size: tuple[int, int] | None = None
    pages, seen = 0, set()
    while offset and offset not in seen and offset + count_size <= len(data) and pages < _MAX_PAGES:
        seen.add(offset)
        (entries,) = struct.unpack(endian + count_fmt, data[offset : offset + count_size])
        base = offset + count_size
        if pages == 0:
            fields: dict[int, int] = {}
            for k in range(min(entries, 4096)):
                entry = data[base + entry_size * k : base + entry_size * (k + 1)]
                if len(entry) < entry_size:
                    break
                tag, kind = struct.unpack(endian + "HH", entry[:4])
                if tag in (256, 257):
                    fmt = {3: "H", 4: "I", 16: "Q"}.get(kind)
                    if fmt is not None:
                        (fields[tag],) = struct.unpack(endian + fmt, entry[value_at : value_at + struct.calcsize(fmt)])
            if 256 in fields and 257 in fields:
                size = (fields[256], fields[257])
        pages += 1
        next_at = base + entry_size * entries
        chunk = data[next_at : next_at + struct.calcsize(next_fmt)]
        if len(chunk) < struct.calcsize(next_fmt):
            break
        (offset,) = struct.unpack(endian + next_fmt, chunk)
    return (size[0], size[1], max(1, pages)) if size is not None else None


def _jp2(data: bytes) -> tuple[int, int] | None:
    if data[:4] == b"\xff\x4f\xff\x51":  # raw codestream: SIZ marker segment
        xsiz, ysiz, xo, yo = struct.unpack(">IIII", data[8:24])
        return xsiz - xo, ysiz - yo
    at = data.find(b"ihdr", 0, 4096)
    if at < 0 or at + 12 > len(data):
        return None
    h, w = struct.unpack(">II", data[at + 4 : at + 12])
    return w, h


def _pnm(data: bytes) -> tuple[int, int] | None:
    head = data[:4096]
    if head[:2] == b"P7":  # PAM: WIDTH / HEIGHT lines
        fields = dict(line.split(None, 1) for line in head.split(b"\n")[1:] if b" " in line)
        try:
            return int(fields[b"WIDTH"]), int(fields[b"HEIGHT"])
        except (KeyError, ValueError):
            return None
    tokens: list[bytes] = []
    for line in head[2:].split(b"\n"):
        tokens.extend(line.split(b"#", 1)[0].split())
        if len(tokens) >= 2:
            break
    try:
        return int(tokens[0]), int(tokens[1])
    except (IndexError, ValueError):
        return None


def probe(data: bytes) -> tuple[int, int, int] | None:
    """``(width, height, frames)`` from an image's header, without decoding; ``None`` if unrecognised."""
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
            return _png(data)
        if data[:2] == b"\xff\xd8":
            size = _jpeg(data)
        elif data[:2] == b"BM" and len(data) >= 26:
            size = _bmp(data)
        elif data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 13:
            return _gif(data)
        elif data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
            return _webp(data)
        elif data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            return _tiff(data)
        elif data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or data[:4] == b"\xff\x4f\xff\x51":
            size = _jp2(data)
        elif len(data) > 2 and data[:1] == b"P" and data[1:2] in b"1234567" and data[2:3].isspace():
            size = _pnm(data)
        else:
            return None
    except (struct.error, IndexError):
        return None
    return (*size, 1) if size is not None else None
