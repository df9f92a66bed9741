"""Tests for foveal.data.decode on real, partly broken files."""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

import dirty_images as dirty
from foveal.data.decode import (
    ALLOWED_FORMATS,
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    _to_array,
    decode_image,
    image_header,
    resize_image,
)
from foveal.errors import ConfigError, DecodeError


@pytest.fixture(scope="module")
def dirty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dirty")


@pytest.fixture(scope="module")
def expected(dirty_dir: Path) -> dict[str, str]:
    return dirty.write_dirty_images(dirty_dir)


def _png(img: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


# --- the dirty folder ------------------------------------------------------------------


def test_every_dirty_file_has_its_expected_outcome(dirty_dir: Path, expected: dict[str, str]) -> None:
    assert set(expected.values()) == {"ok", "skip"}
    for name, outcome in expected.items():
        if outcome == "ok":
            array = decode_image(dirty_dir / name)
            assert array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3, name
        else:
            with pytest.raises(DecodeError):
                decode_image(dirty_dir / name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.jpg", "empty file (0 bytes)"),
        ("not_an_image.png", "not an image"),
        ("truncated.jpg", "truncated or corrupt image data"),
        ("oversized_header.png", "image too large: 100000×100000"),
    ],
)
def test_skip_reasons(dirty_dir: Path, expected: dict[str, str], name: str, reason: str) -> None:
    assert expected[name] == "skip"
    with pytest.raises(DecodeError) as info:
        decode_image(dirty_dir / name)
    assert info.value.what.startswith(reason)
    assert info.value.fix


def test_truncated_jpeg_header_is_valid(dirty_dir: Path, expected: dict[str, str]) -> None:
    # Only a full decode finds the damage: the header still reads.
    assert image_header(dirty_dir / "truncated.jpg")["width"] == 128


def test_oversized_message_gives_size_limit_and_option(dirty_dir: Path, expected: dict[str, str]) -> None:
    with pytest.raises(DecodeError) as info:
        decode_image(dirty_dir / "oversized_header.png")
    message = str(info.value)
    assert "100000×100000" in message
    assert f"{DEFAULT_MAX_PIXELS:,}" in message
    assert "--max-pixels" in message


def test_oversized_header_refused_fast_without_allocating(
    dirty_dir: Path, expected: dict[str, str]
) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(DecodeError):
        decode_image(dirty_dir / "oversized_header.png", max_pixels=10**9)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 5_000_000


def test_header_between_pillow_warning_and_error_is_refused_quietly() -> None:
    data = dirty.png_with_header(10_000, 10_000)  # over Pillow's warning level, under its error
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any leaked DecompressionBombWarning fails the test
        with pytest.raises(DecodeError, match="10000×10000"):
            decode_image(data)


def test_max_pixels_applies_to_ordinary_images(dirty_dir: Path, expected: dict[str, str]) -> None:
    with pytest.raises(DecodeError, match="64×64 = 4,096 pixels exceeds the limit of 4,095"):
        decode_image(dirty_dir / "photo.jpg", max_pixels=4095)
    assert decode_image(dirty_dir / "photo.jpg", max_pixels=4096).shape == (64, 64, 3)


def test_image_header_reads_beyond_pillow_cap(dirty_dir: Path, expected: dict[str, str]) -> None:
    header = image_header(dirty_dir / "oversized_header.png", max_pixels=None)
    assert header == {"width": 100_000, "height": 100_000, "mode": "L", "format": "PNG"}


def test_image_header_refuses_oversized_by_default(dirty_dir: Path, expected: dict[str, str]) -> None:
    with pytest.raises(DecodeError, match="image too large: 100000×100000"):
        image_header(dirty_dir / "oversized_header.png")
    with pytest.raises(DecodeError, match="64×64 = 4,096 pixels exceeds the limit of 4,095"):
        image_header(dirty_dir / "photo.jpg", max_pixels=4095)
    assert image_header(dirty_dir / "photo.jpg", max_pixels=4096)["width"] == 64


def test_cmyk_jpeg_gives_sensible_rgb(dirty_dir: Path, expected: dict[str, str]) -> None:
    cmyk = decode_image(dirty_dir / "cmyk.jpg").astype(int)
    rgb = decode_image(dirty_dir / "photo.jpg").astype(int)
    assert np.abs(cmyk - rgb).mean() < 12  # same picture, not inverted or channel-swapped


def test_16bit_png_scaled_by_16bit_range(dirty_dir: Path, expected: dict[str, str]) -> None:
    array = decode_image(dirty_dir / "gray16.png", channels=None)
    assert array.shape == (64, 64, 1)
    probes = {value: int(array[row, col, 0]) for (row, col), value in dirty.GRAY16_PROBES.items()}
    assert probes[65535] == 255
    assert probes[32768] in (127, 128)
    assert probes[0] == 0 and probes[257] == 1
    eight_bit = decode_image(dirty_dir / "gray.png", channels=None)
    assert np.array_equal(array[1:], eight_bit[1:])  # v*257 scales back exactly, not clipped


def test_palette_transparency_composited_on_background(dirty_dir: Path, expected: dict[str, str]) -> None:
    path = dirty_dir / "palette_transparent.png"
    red = decode_image(path, background=(255, 0, 0))
    white = decode_image(path)
    assert (red[dirty.TRANSPARENT_BLOCK] == [255, 0, 0]).all()
    assert (white[dirty.TRANSPARENT_BLOCK] == 255).all()
    assert not (white == [255, 0, 255]).all(axis=2).any()  # the hidden magenta never shows
    assert np.array_equal(red[16:], white[16:])  # opaque pixels unaffected


@pytest.mark.parametrize(("orientation", "turns"), [(6, -1), (8, 1)])
def test_exif_rotation_transposes_shape(orientation: int, turns: int) -> None:
    data = dirty.exif_rotated_jpeg(orientation)
    width, height = dirty.EXIF_STORED_SIZE
    stored = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    array = decode_image(data)
    assert array.shape == (width, height, 3)
    assert np.array_equal(array, np.rot90(stored, k=turns))
    header = image_header(data)
    assert (header["width"], header["height"]) == (height, width)


def test_bytes_and_path_give_identical_arrays(dirty_dir: Path, expected: dict[str, str]) -> None:
    for name, outcome in expected.items():
        if outcome == "ok":
            path = dirty_dir / name
            assert np.array_equal(decode_image(path), decode_image(path.read_bytes())), name
            assert np.array_equal(decode_image(str(path)), decode_image(path)), name


def test_channels_options(dirty_dir: Path, expected: dict[str, str]) -> None:
    photo = dirty_dir / "photo.jpg"
    gray = dirty_dir / "gray.png"
    luminance = np.asarray(Image.open(photo).convert("L"))
    assert np.array_equal(decode_image(photo, channels=1)[:, :, 0], luminance)
    gray3 = decode_image(gray, channels=3)
    assert (gray3 == gray3[:, :, :1]).all()
    assert decode_image(gray, channels=None).shape[2] == 1
    for name in ("photo.jpg", "cmyk.jpg", "palette_transparent.png", "exif_rotated.jpg"):
        assert decode_image(dirty_dir / name, channels=None).shape[2] == 3, name
    with pytest.raises(ConfigError):
        decode_image(photo, channels=2)


def test_source_files_unchanged(dirty_dir: Path, expected: dict[str, str]) -> None:
    def digests() -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in dirty_dir.iterdir()}

    before = digests()
    max_pixels, truncated = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    for name in expected:
        for options in ({}, {"channels": None}, {"draft_size": (8, 8)}):
            try:
                decode_image(dirty_dir / name, **options)
                image_header(dirty_dir / name)
            except DecodeError:
                pass
    assert digests() == before
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == (max_pixels, truncated)


# --- draft, resize, formats and modes ------------------------------------------------


@pytest.mark.parametrize("target", [(60, 60), (100, 40), (8, 8), (300, 300)])
def test_draft_size_never_below_target(target: tuple[int, int]) -> None:
    data = dirty.jpeg_bytes(dirty.photo((256, 192)))
    array = decode_image(data, draft_size=target)
    height, width = array.shape[:2]
    assert width >= min(target[0], 256) and height >= min(target[1], 192)
    if target == (60, 60):
        assert (height, width) == (96, 128)  # decoded at 1/2 scale: faster, still ≥ target


def test_draft_size_accounts_for_exif_rotation() -> None:
    data = dirty.exif_rotated_jpeg(6)  # stored 48×32, displayed 32 wide × 48 tall
    array = decode_image(data, draft_size=(16, 24))
    assert array.shape[:2] == (24, 16)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic", "lanczos", "area"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_resize_shapes(interpolation: str, channels: int) -> None:
    image = np.zeros((30, 40, channels), dtype=np.uint8)
    image[10:20, 10:30] = 200
    resized = resize_image(image, (12, 50), interpolation)
    assert resized.shape == (12, 50, channels) and resized.dtype == np.uint8
    assert resized.max() > 0


def test_resize_matches_pillow_and_rejects_unknown_interpolation() -> None:
    photo = np.asarray(dirty.photo())
    expected = np.asarray(Image.fromarray(photo).resize((20, 10), Image.Resampling.BILINEAR))
    assert np.array_equal(resize_image(photo[:, :, :], (10, 20)), expected)
    with pytest.raises(ConfigError):
        resize_image(photo, (10, 10), "cubic-ish")


def test_extensions_and_formats() -> None:
    assert {".jpg", ".jpeg", ".png", ".tif", ".webp", ".pbm"} <= IMAGE_EXTENSIONS
    assert all(ext == ext.lower() and ext.startswith(".") for ext in IMAGE_EXTENSIONS)
    assert "JPEG" in ALLOWED_FORMATS and "PNG" in ALLOWED_FORMATS


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("BMP", "RGB"), ("TIFF", "RGB"), ("WEBP", "RGB"), ("PPM", "RGB"), ("PPM", "L"), ("PPM", "1"), ("GIF", "P")],
)
def test_allowed_formats_decode(fmt: str, mode: str) -> None:
    img = dirty.photo((24, 16)).convert(mode)
    array = decode_image(_encode(img, fmt, **({"lossless": True} if fmt == "WEBP" else {})))
    assert array.shape == (16, 24, 3)
    if mode in ("RGB", "L") and fmt != "WEBP":
        assert np.array_equal(array, np.asarray(img.convert("RGB")))


def test_disallowed_format_is_refused() -> None:
    data = _encode(dirty.photo((16, 16)), "PCX")
    with pytest.raises(DecodeError, match="not a supported format"):
        decode_image(data)


def test_missing_file_is_a_decode_error(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="cannot read file"):
        decode_image(tmp_path / "nope.jpg")


def test_multiframe_uses_first_frame() -> None:
    first, second = dirty.gray_photo((20, 20)), Image.new("L", (20, 20), 255)
    buffer = io.BytesIO()
    first.save(buffer, format="GIF", save_all=True, append_images=[second])
    array = decode_image(buffer.getvalue(), channels=1)
    assert np.abs(array[:, :, 0].astype(int) - np.asarray(first)).mean() < 20
    assert array.min() < 200


def test_one_bit_and_la_pngs() -> None:
    bits = dirty.gray_photo((16, 16)).point(lambda v: 255 if v > 128 else 0).convert("1")
    array = decode_image(_png(bits), channels=None)
    assert array.shape == (16, 16, 1) and set(np.unique(array)) <= {0, 255}
    la = Image.merge("LA", [dirty.gray_photo((16, 16)), Image.new("L", (16, 16), 0)])
    assert (decode_image(_png(la), channels=None, background=(50, 50, 50)) == 50).all()


def test_rgba_composited() -> None:
    rgba = dirty.photo((16, 16)).convert("RGBA")
    rgba.putalpha(Image.new("L", (16, 16), 128))
    array = decode_image(_png(rgba), background=(0, 0, 0)).astype(int)
    half = np.asarray(dirty.photo((16, 16))).astype(int) * 128 / 255
    assert np.abs(array - half).max() <= 1


def _sixteen_bit(mode: str) -> Image.Image:
    values = np.array([[0, 257, 32768, 65535]], dtype=np.uint16)
    if mode == "I":
        return Image.fromarray(values.astype(np.int32))
    return Image.frombytes(mode, (4, 1), values.astype(">u2" if mode == "I;16B" else "<u2").tobytes())


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I;16L", "I"])
def test_sixteen_bit_modes(mode: str) -> None:
    img = _sixteen_bit(mode)
    assert img.mode == mode
    out = _to_array(img, channels=None, background=(255, 255, 255))
    assert out[0, :, 0].tolist() == [0, 1, 128, 255]


def test_float_mode_scaled() -> None:
    unit = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert _to_array(unit, channels=1, background=(0, 0, 0))[0, :, 0].tolist() == [0, 128, 255]
    wide = Image.fromarray(np.array([[-10.0, 495.0, 1000.0]], dtype=np.float32))
    assert _to_array(wide, channels=1, background=(0, 0, 0))[0, :, 0].tolist() == [0, 128, 255]


@pytest.mark.parametrize("mode", ["YCbCr", "LAB", "HSV", "CMYK", "RGBX", "P"])
def test_colour_modes_convert_to_rgb(mode: str) -> None:
    rgb = dirty.photo((8, 8))
    img = rgb.convert(mode) if mode != "LAB" else rgb.convert("RGB").convert("LAB")
    out = _to_array(img, channels=None, background=(255, 255, 255))
    assert out.shape == (8, 8, 3)
    assert np.array_equal(out, np.asarray(img.convert("RGB")))


def test_premultiplied_alpha_modes() -> None:
    la = Image.new("La", (4, 4), (100, 0))  # fully transparent
    assert (_to_array(la, channels=None, background=(30, 30, 30)) == 30).all()
    rgba = Image.new("RGBa", (4, 4), (0, 0, 0, 0))
    assert (_to_array(rgba, channels=3, background=(1, 2, 3)) == [1, 2, 3]).all()
