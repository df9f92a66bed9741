"""Checking and decoding one upload: the header is judged before any pixel is decoded."""

from __future__ import annotations

import io
import warnings

import numpy as np

from foveal.data.decode import ALLOWED_FORMATS
from foveal.data.images import Preprocessing
from foveal.errors import DecodeError
from foveal.serve.errors import ApiError

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "GIF": "gif", "TIFF": "tif", "WEBP": "webp", "PPM": "ppm"}
_FIX = "send a PNG, JPEG, BMP, GIF, TIFF or WebP image"


def probe(data: bytes, max_pixels: int) -> str:
    """The image format of ``data`` from its header; refuses empty, non-image and oversized uploads.

    Raises :class:`ApiError` 422 (empty), 415 (not an image) or 413 (more than ``max_pixels``).
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ApiError(422, "empty_image", "the upload is empty (0 bytes)", _FIX)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
                width, height, fmt = *img.size, img.format
    except Image.DecompressionBombError:
        raise _too_large(None, max_pixels) from None
    except UnidentifiedImageError:
        raise ApiError(415, "not_an_image", "the upload is not an image in a supported format", _FIX) from None
    except Exception as err:  # Pillow raises many types for a broken header
        raise ApiError(422, "undecodable_image", f"the image header cannot be read ({err})", _FIX) from None
    if width * height > max_pixels:
        raise _too_large((width, height), max_pixels)
    return fmt


def _too_large(size: tuple[int, int] | None, max_pixels: int) -> ApiError:
    shape = f" ({size[0]}×{size[1]})" if size else ""
    return ApiError(413, "image_too_large", f"the image{shape} has more than {max_pixels:,} pixels",
                    "downscale the image before sending it")


def decode_upload(data: bytes, prep: Preprocessing, max_pixels: int | None = None) -> np.ndarray:
    """Model input for one upload, or :class:`ApiError` with the status that fits the failure."""
    limit = prep.max_pixels if max_pixels is None else min(max_pixels, prep.max_pixels)
    probe(data, limit)
    try:
        return prep.decode(data)
    except DecodeError as err:
        raise ApiError(422, "undecodable_image", str(err), _FIX) from None


def image_extension(data: bytes) -> str:
    """File extension for a stored copy, from the content (never from the client's file name)."""
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
        return EXTENSIONS.get(img.format or "", "img")
