"""Decode image files into uint8 arrays — the one path used by train, evaluate and predict.

Every failure becomes a :class:`~foveal.errors.DecodeError` whose ``what`` is a short
reason, so runs can skip the file and report why.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

from foveal.errors import ConfigError, DecodeError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", "PPM")
DEFAULT_MAX_PIXELS = 89_478_485

Source = str | Path | bytes  # any os.PathLike works too

_INTERPOLATIONS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "area": Image.Resampling.BOX,
}
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION = 0x0112
_FIX_BROKEN = "remove the file or replace it with a valid image"


def decode_image(
    source: Source,
    *,
    channels: int | None = 3,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    background: tuple[int, int, int] = (255, 255, 255),
    draft_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Decode ``source`` (a path or the file's bytes) to an H×W×C uint8 array.

    ``channels`` is 1, 3, or None (1 for grayscale-like sources, 3 otherwise).
    Transparent pixels are composited over ``background``; EXIF orientation is
    applied; ``draft_size`` (w, h) lets JPEG decode at a reduced scale no smaller
    than that size. A header over ``max_pixels`` (None: no limit) is refused before
    any pixel is decoded. Raises :class:`DecodeError` with a short reason on any failure.
    """
    if channels not in (1, 3, None):
        raise ConfigError(f"channels must be 1, 3 or None, got {channels!r}", "use 1 or 3")
    with _opened(source, max_pixels=max_pixels) as img:
        try:
            if draft_size is not None:
                _apply_draft(img, draft_size)
            _load_fully(img)
            if _loaded_orientation(img) != 1:
                img = ImageOps.exif_transpose(img)
            return _to_array(img, channels=channels, background=background)
        except DecodeError:
            raise
        except Exception as exc:  # Pillow raises many types; all mean "cannot use this file"
            raise _pillow_failure(exc) from exc


def image_header(source: Source, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> dict:
    """Width, height (after EXIF orientation), mode and format, read from the header only.

    A header larger than ``max_pixels`` raises :class:`DecodeError` ("image too large")
    before anything else is read; ``None`` disables the check. Pixels are never decoded.
    """
    with _opened(source, max_pixels=max_pixels) as img:
        width, height = img.size
        if _header_orientation(img) in _TRANSPOSING_ORIENTATIONS:
            width, height = height, width
        return {"width": width, "height": height, "mode": img.mode, "format": img.format}


def resize_image(
    image: np.ndarray, size: tuple[int, int], interpolation: str = "bilinear"
) -> np.ndarray:
    """Squash an H×W×C uint8 image to exactly ``size`` = (height, width), keeping C."""
    if interpolation not in _INTERPOLATIONS:
        names = ", ".join(_INTERPOLATIONS)
        raise ConfigError(f"unknown interpolation {interpolation!r}", f"use one of: {names}")
    if image.ndim != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H×W×C uint8 array, got {image.dtype} {image.shape}")
    height, width = size
    resample = _INTERPOLATIONS[interpolation]
    planes = [
        Image.fromarray(np.ascontiguousarray(image[:, :, c])).resize((width, height), resample)
        for c in range(image.shape[2])
    ]
    return np.stack([np.asarray(plane) for plane in planes], axis=-1)


# --- opening -----------------------------------------------------------------------


@contextmanager
def _opened(source: Source, *, max_pixels: int | None) -> Iterator[Image.Image]:
    """Open ``source`` read-only, identify it and check its header size."""
    with _binary_stream(source) as fp:
        img = _identify(fp, max_pixels)
        try:
            if max_pixels is not None:
                _check_pixels(img.size, max_pixels)
            yield img
        finally:
            img.close()


@contextmanager
def _binary_stream(source: Source) -> Iterator[IO[bytes]]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise DecodeError("empty file (0 bytes)", _FIX_BROKEN)
        yield io.BytesIO(source)
        return
    try:
        fp = open(source, "rb")  # noqa: SIM115 - closed below; never opened for writing
    except OSError as exc:
        reason = f"cannot read file ({exc.strerror or exc})"
        raise DecodeError(reason, "check the path and its permissions") from exc
    with fp:
        if os.fstat(fp.fileno()).st_size == 0:
            raise DecodeError("empty file (0 bytes)", _FIX_BROKEN)
        yield fp


def _identify(fp: IO[bytes], max_pixels: int | None) -> Image.Image:
    """Image.open restricted to ALLOWED_FORMATS, with its failures turned into DecodeError.

    Thread-safe: no warning filters are touched. Pillow raises above twice its own cap;
    below that, the caller's :func:`_check_pixels` (run right after opening) decides.
    """
    try:
        return Image.open(fp, formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning only arrives as an exception when the caller's filters escalate it.
        return _past_pillow_cap(fp, max_pixels, exc)
    except Image.UnidentifiedImageError as exc:
        allowed = ", ".join(ALLOWED_FORMATS)
        raise DecodeError(
            f"not an image, or not a supported format ({allowed})",
            "remove the file or convert it to PNG or JPEG",
        ) from exc
    except Exception as exc:
        raise _pillow_failure(exc) from exc


def _past_pillow_cap(fp: IO[bytes], max_pixels: int | None, exc: Exception) -> Image.Image:
    """Pillow's cap fired: report our limit with W×H, or honour a user limit raised past it."""
    img = _identify_uncapped(fp)
    if img is None:
        raise _too_large(None, max_pixels or DEFAULT_MAX_PIXELS) from exc
    if max_pixels is not None:
        try:
            _check_pixels(img.size, max_pixels)
        except DecodeError:
            img.close()
            raise
    return img


def _identify_uncapped(fp: IO[bytes]) -> Image.Image | None:
    """Identify like Image.open but without Pillow's size cap (used only to read W×H)."""
    try:
        Image.init()
        fp.seek(0)
        prefix = fp.read(16)
        for fmt in ALLOWED_FORMATS:
            factory, accept = Image.OPEN[fmt]
            if accept is None or accept(prefix) is True:
                fp.seek(0)
                return factory(fp, "")
    except Exception:  # best effort: callers fall back to a message without W×H
        return None
    return None


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    if size[0] * size[1] > max_pixels:
        raise _too_large(size, max_pixels)


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> DecodeError:
    shape = f"{size[0]}×{size[1]} = {size[0] * size[1]:,} pixels " if size else ""
    return DecodeError(
        f"image too large: {shape}exceeds the limit of {max_pixels:,} pixels",
        "raise the limit with --max-pixels if the file is trusted, or downscale it",
    )


def _pillow_failure(exc: Exception) -> DecodeError:
    detail = str(exc) or type(exc).__name__
    return DecodeError(f"could not decode image ({detail})", _FIX_BROKEN)


# --- decoding ----------------------------------------------------------------------


def _header_orientation(img: Image.Image) -> int:
    """EXIF orientation (1 = upright) from what the header parse saw; never decodes pixels.

    Pillow's ``PngImageFile.getexif`` decodes the whole image to look for a late eXIf
    chunk, so for PNG only an eXIf chunk seen before the image data counts here.
    """
    if not isinstance(img, PngImagePlugin.PngImageFile):
        return _loaded_orientation(img)  # other formats read EXIF from the header
    try:
        exif = Image.Exif()
        raw = img.info.get("exif")
        if raw:
            exif.load(raw)
        return int(exif.get(_EXIF_ORIENTATION, 1))
    except Exception:  # unreadable EXIF: treat as upright
        return 1


def _loaded_orientation(img: Image.Image) -> int:
    """EXIF orientation via Pillow's getexif (for PNG call it only after pixels are loaded)."""
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # unreadable EXIF: treat as upright
        return 1


def _apply_draft(img: Image.Image, draft_size: tuple[int, int]) -> None:
    """Let JPEG decode at 1/2, 1/4 or 1/8 scale, never below ``draft_size`` (w, h)."""
    width, height = draft_size
    if _header_orientation(img) in _TRANSPOSING_ORIENTATIONS:
        width, height = height, width  # draft works on the stored, unrotated image
    img.draft(None, (max(1, width), max(1, height)))


def _load_fully(img: Image.Image) -> None:
    """Decode all pixel data so truncation and corruption surface here (not verify())."""
    try:
        img.load()
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        raise DecodeError(f"truncated or corrupt image data ({detail})", _FIX_BROKEN) from exc


def _to_array(
    img: Image.Image, *, channels: int | None, background: tuple[int, int, int]
) -> np.ndarray:
    """Convert any Pillow mode to H×W×C uint8 with the requested channel count."""
    gray_like = img.mode in _GRAY_MODES
    pixels = _to_l_or_rgb(img, background)
    if channels is None:
        channels = 1 if gray_like else 3
    if channels == 1 and pixels.mode == "RGB":
        pixels = pixels.convert("L")
    array = np.asarray(pixels, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    if channels == 3 and array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array)


def _to_l_or_rgb(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Reduce ``img`` to mode L (grayscale sources) or RGB (everything else)."""
    mode = img.mode
    if _has_alpha(img):
        flat = _composite(img, background)
        return flat.convert("L") if mode in _GRAY_MODES else flat
    if mode == "L":
        return img
    if mode == "1":
        return img.convert("L")
    if mode in _SIXTEEN_BIT_MODES:
        return Image.fromarray(_scale_16bit(np.asarray(img)))
    if mode == "F":
        return Image.fromarray(_scale_float(np.asarray(img)))
    return img.convert("RGB")  # P, RGB, RGBX, CMYK, YCbCr, LAB, HSV


def _has_alpha(img: Image.Image) -> bool:
    if img.mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        return True
    return img.mode in ("P", "L", "RGB") and "transparency" in img.info


def _composite(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Alpha-composite over an opaque ``background`` colour; returns RGB."""
    if img.mode == "La":
        img = img.convert("LA")  # Pillow cannot convert premultiplied La to RGBA directly
    rgba = img.convert("RGBA")
    base = Image.new("RGBA", rgba.size, (*background, 255))
    return Image.alpha_composite(base, rgba).convert("RGB")


def _scale_16bit(values: np.ndarray) -> np.ndarray:
    """Map the 16-bit range 0..65535 to 0..255 (÷257, rounded); out-of-range values clip."""
    wide = np.clip(values.astype(np.int64), 0, 65535)
    return ((wide + 128) // 257).astype(np.uint8)


def _scale_float(values: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] scale by 255, in [0, 255] pass through, else min-max stretch."""
    data = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
    if low >= 0.0 and high <= 1.0:
        data = data * 255.0
    elif not (low >= 0.0 and high <= 255.0):
        data = (data - low) * (255.0 / (high - low)) if high > low else np.zeros_like(data)
    return np.clip(np.rint(data), 0, 255).astype(np.uint8)
