"""Writes a folder of realistic, partly broken image files for decode tests.

Plain module (no pytest imports) so any test or script can build the same fixtures.
Pictures come from ``skimage.data`` so content is real, not noise.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skdata

# Pixels planted in the 16-bit PNG, (row, col) -> 16-bit value, for scaling checks.
GRAY16_PROBES: dict[tuple[int, int], int] = {(0, 0): 65535, (0, 1): 32768, (0, 2): 0, (0, 3): 257}
# Palette PNG: this top-left block is fully transparent.
TRANSPARENT_BLOCK = (slice(0, 8), slice(0, 8))
# The EXIF-rotated JPEG is stored as this (width, height) with orientation 6.
EXIF_STORED_SIZE = (48, 32)
OVERSIZED_HEADER_SIZE = (100_000, 100_000)


def photo(size: tuple[int, int] = (64, 64)) -> Image.Image:
    """The astronaut picture as RGB, resized to ``size`` (w, h)."""
    return Image.fromarray(skdata.astronaut()).resize(size, Image.Resampling.BILINEAR)


def gray_photo(size: tuple[int, int] = (64, 64)) -> Image.Image:
    """The cameraman picture as L, resized to ``size`` (w, h)."""
    return Image.fromarray(skdata.camera()).resize(size, Image.Resampling.BILINEAR)


def jpeg_bytes(img: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    """A real JPEG cut in the middle of its scan data: the header parses, a full decode fails."""
    whole = jpeg_bytes(photo((128, 128)), quality=95)
    scan_start = whole.index(b"\xff\xda")  # start-of-scan marker
    return whole[: scan_start + (len(whole) - scan_start) // 2]


def gray16_png() -> bytes:
    """A 16-bit grayscale PNG whose values span the full 16-bit range."""
    values = np.asarray(gray_photo(), dtype=np.uint16) * 257
    for (row, col), value in GRAY16_PROBES.items():
        values[row, col] = value
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue()


def palette_png_with_transparency() -> bytes:
    """A palette PNG with one fully transparent (magenta) colour covering TRANSPARENT_BLOCK."""
    img = photo().quantize(colors=63)  # leaves palette slot 63 free
    palette = (img.getpalette() or [])[: 63 * 3]
    img.putpalette(palette + [0] * (63 * 3 - len(palette)) + [255, 0, 255])
    rows, cols = TRANSPARENT_BLOCK
    img.paste(63, (cols.start, rows.start, cols.stop, rows.stop))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", transparency=63)
    return buffer.getvalue()


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    """A non-square JPEG stored as EXIF_STORED_SIZE with an EXIF orientation tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg_bytes(photo(EXIF_STORED_SIZE), quality=95, exif=exif)


def cmyk_jpeg() -> bytes:
    return jpeg_bytes(photo().convert("CMYK"), quality=95)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _gray_png(width: int, height: int, idat: bytes, extra: bytes = b"") -> bytes:
    """An 8-bit grayscale PNG: IHDR, optional ``extra`` chunks, one IDAT, IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + extra + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def png_with_header(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose IHDR claims ``width``×``height`` 8-bit gray pixels."""
    return _gray_png(width, height, zlib.compress(b"\x00" * 64))  # a sliver of a first row


@functools.lru_cache(maxsize=4)
def png_bomb(width: int, height: int) -> bytes:
    """A complete, valid grayscale PNG of ``width``×``height`` black pixels (a decompression bomb).

    Every row is a filter byte plus zeros, compressed in chunks so building it never holds
    the decoded image: 20000×20000 is about 400 KB on disk and 400 MB once decoded.
    """
    compressor = zlib.compressobj(9)
    rows_per_chunk = max(1, 8_000_000 // (width + 1))
    parts, done = [], 0
    while done < height:
        n = min(rows_per_chunk, height - done)
        parts.append(compressor.compress(b"\x00" * ((width + 1) * n)))
        done += n
    parts.append(compressor.flush())
    return _gray_png(width, height, b"".join(parts))


def png_with_exif(img: Image.Image, orientation: int) -> bytes:
    """A PNG of ``img`` whose eXIf chunk (before the image data) carries ``orientation``."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", exif=exif)
    return buffer.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def write_dirty_images(folder: Path) -> dict[str, str]:
    """Write the dirty image set into ``folder``; return {filename: "ok" | "skip"}."""
    files: dict[str, tuple[bytes, str]] = {
        "empty.jpg": (b"", "skip"),
        "not_an_image.png": (b"This is a text file, not a picture.\n" * 4, "skip"),
        "truncated.jpg": (truncated_jpeg(), "skip"),
        "oversized_header.png": (png_with_header(*OVERSIZED_HEADER_SIZE), "skip"),
        "cmyk.jpg": (cmyk_jpeg(), "ok"),
        "gray16.png": (gray16_png(), "ok"),
        "palette_transparent.png": (palette_png_with_transparency(), "ok"),
        "exif_rotated.jpg": (exif_rotated_jpeg(), "ok"),
        "photo.jpg": (jpeg_bytes(photo(), quality=90), "ok"),
        "gray.png": (png_bytes(gray_photo()), "ok"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, (content, _) in files.items():
        (folder / name).write_bytes(content)
    return {name: outcome for name, (_, outcome) in files.items()}
