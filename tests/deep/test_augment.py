"""Augmentation presets, overrides, the centre-in-view guarantee, describe() and the preview grid."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from deep_helpers import run_cli
from foveal.data.builtin import load_builtin
from foveal.deep.augment import (AUGMENT_OVERRIDES, PRESETS, Augment, check_overrides, make_augment,
                                 parse_override, preview_grid)
from foveal.errors import ConfigError

STILL = {"rotate": 0, "zoom": (1, 1), "translate": 0, "brightness": 0, "contrast": 0, "saturation": 0,
         "noise": 0, "blur": 0, "erase": 0}  # every step but the flips off


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, list]:
    """64 real digits, 8×8 grayscale uint8 (n, H, W, 1), and their labels."""
    data = load_builtin("digits")
    return data.images[:64].copy(), data.labels[:64]


def nchw(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()


def run(augment: Augment, batch: torch.Tensor, seed: int = 0) -> torch.Tensor:
    return augment(batch, torch.Generator().manual_seed(seed))


def left_bright(n: int) -> torch.Tensor:
    """(n, 1, 32, 32) uint8: the left half bright, the right half dark."""
    x = torch.zeros(n, 1, 32, 32, dtype=torch.uint8)
    x[..., :16] = 255
    return x


def bright_square(n: int) -> torch.Tensor:
    """(n, 1, 32, 32) uint8: a bright square filling the central half of a dark canvas (256 pixels)."""
    x = torch.zeros(n, 1, 32, 32, dtype=torch.uint8)
    x[..., 8:24, 8:24] = 255
    return x


def bright_pixels(out: torch.Tensor) -> torch.Tensor:
    """Per sample, the pixels clearly above that sample's dark canvas level (its 5th percentile)."""
    flat = out.flatten(1)
    return (flat > flat.quantile(0.05, dim=1, keepdim=True) + 0.2).sum(1)


@pytest.mark.parametrize("preset", PRESETS)
def test_same_seed_same_batch(digits, preset):
    batch = nchw(digits[0])
    first, again = run(make_augment(preset), batch, 7), run(make_augment(preset), batch, 7)
    assert first.dtype == torch.float32 and first.shape == batch.shape
    assert 0 <= first.min() and first.max() <= 1
    assert torch.equal(first, again)
    if preset != "none":
        assert not torch.equal(first, run(make_augment(preset), batch, 8))


def test_generator_state_resumes_the_stream(digits):
    batch, augment = nchw(digits[0]), make_augment("strong")
    gen = torch.Generator().manual_seed(3)
    augment(batch, gen)
    state = gen.get_state()
    second = augment(batch, gen)
    torch.manual_seed(123)  # the global RNG plays no part
    resumed = torch.Generator()
    resumed.set_state(state)
    assert torch.equal(augment(batch, resumed), second)


def test_hflip_zero_never_mirrors_and_one_always_does(digits):
    batch = nchw(digits[0])
    original = batch.float() / 255
    for seed in range(5):
        kept = run(make_augment("standard", {**STILL, "hflip": 0}), batch, seed)
        assert torch.allclose(kept, original, atol=1e-4)
        mirrored = run(make_augment("standard", {**STILL, "hflip": 1}), batch, seed)
        assert torch.allclose(mirrored, original.flip(-1), atol=1e-4)
        upside_down = run(make_augment("none", {"vflip": 1}), batch, seed)
        assert torch.allclose(upside_down, original.flip(-2), atol=1e-4)


def test_hflip_zero_with_the_rest_of_standard_keeps_left_left():
    out = run(make_augment("standard", {"hflip": "0"}), left_bright(512))
    assert (out[..., :16].mean(dim=(1, 2, 3)) > out[..., 16:].mean(dim=(1, 2, 3))).all()


def test_orientation_sensitive_standard_never_flips():
    augment = make_augment("standard", orientation_sensitive=True)
    assert (augment.hflip, augment.vflip, augment.rotate) == (0, 0, 15)
    out = run(augment, left_bright(512))
    assert (out[..., :16].mean(dim=(1, 2, 3)) > out[..., 16:].mean(dim=(1, 2, 3))).all()
    assert make_augment("light", orientation_sensitive=True) == make_augment("light")  # already safe
    assert make_augment("strong", orientation_sensitive=True).rotate == 15


def test_explicit_overrides_win_over_orientation_sensitivity():
    augment = make_augment("standard", {"hflip": 1, "rotate": "30"}, orientation_sensitive=True)
    assert (augment.hflip, augment.rotate) == (1, 30)
    out = run(make_augment("standard", {"hflip": 1}, orientation_sensitive=True), left_bright(256))
    assert (out[..., :16].mean(dim=(1, 2, 3)) < out[..., 16:].mean(dim=(1, 2, 3))).all()


def test_overrides_win_over_the_preset():
    augment = make_augment("standard", {"zoom": "0.7, 1.2", "rotate": 5, "noise": "0", "vflip": "0.25"})
    assert augment.zoom == (0.7, 1.2) and augment.rotate == 5 and augment.noise == 0 and augment.vflip == 0.25
    assert augment.brightness == make_augment("standard").brightness  # untouched fields keep the preset's
    assert make_augment("none", {"zoom": [0.9, 1.0]}).zoom == (0.9, 1.0)
    assert check_overrides({"hflip": "0.5", "zoom": (1, 1)}) == {"hflip": 0.5, "zoom": (1.0, 1.0)}
    assert set(AUGMENT_OVERRIDES) == {"hflip", "vflip", "rotate", "zoom", "translate", "brightness", "contrast",
                                      "saturation", "noise", "blur", "erase"}
    assert all(AUGMENT_OVERRIDES[name] and name in Augment.__dataclass_fields__ for name in AUGMENT_OVERRIDES)


@pytest.mark.parametrize("name, value, message", [
    ("hflp", "0", "unknown augmentation override 'hflp'"),
    ("rotate", "ten", "--rotate 'ten' is not a number"),
    ("noise", "nan", "--noise 'nan' is not a number"),
    ("hflip", "1.5", "--hflip 1.5 is out of range"),
    ("erase", "-0.1", "--erase -0.1 is out of range"),
    ("rotate", "200", "--rotate 200 is out of range"),
    ("translate", "-0.1", "--translate -0.1 is negative"),
    ("zoom", "0.9", "--zoom '0.9' is not a min,max pair"),
    ("zoom", "0,1", "--zoom 0,1 is out of range"),
    ("zoom", "1.2,0.9", "--zoom 1.2,0.9 is out of range"),
    ("zoom", "0.5,3", "--zoom 0.5,3 is out of range"),
    ("zoom", "a,b", "--zoom 'a' is not a number"),
])
def test_bad_overrides_are_one_line_config_errors(name, value, message):
    with pytest.raises(ConfigError) as caught:
        parse_override(name, value)
    assert message in str(caught.value) and caught.value.fix
    assert len(str(caught.value).splitlines()) == 1
    with pytest.raises(ConfigError):
        make_augment("light", {name: value})


def test_strong_keeps_the_central_half_in_view():
    square = bright_square(2048)
    out = run(make_augment("strong"), square)
    assert (bright_pixels(out) >= 0.5 * 256).all()  # even with colour jitter, blur, noise and erasing
    # Geometry alone with shifts far beyond the safe range: clamped, the whole square stays inside
    # every window (zoom out to 1.1 shrinks it to 256 / 1.21 ≈ 212 pixels, less bilinear edges).
    still = {**STILL, "rotate": 20, "zoom": (0.75, 1.1), "translate": 0.5}
    out = run(make_augment("strong", still), square)
    assert (bright_pixels(out) >= 0.75 * 256).all()


def test_erasing_never_covers_the_centre():
    out = run(make_augment("none", {"erase": 1}), bright_square(1024))
    assert (out < 1).flatten(1).any(1).float().mean() > 0.5  # boxes are drawn...
    assert (bright_pixels(out) >= 0.5 * 256).all()  # ...but small


def test_describe_lists_what_is_active():
    assert make_augment("light").describe() == ("rotate ±10°, zoom 0.9–1.1, translate ±8%, brightness ±10%, "
                                                "contrast ±10%")
    assert make_augment("none").describe() == "no augmentation"
    assert make_augment("none", {"vflip": 0.5, "erase": 0.25, "zoom": "0.8,0.8"}).describe() == \
        "vflip 50%, zoom 0.8, erase 25%"
    strong = make_augment("strong").describe()
    assert strong.startswith("hflip 50%, rotate ±20°") and "blur 30%" in strong and "noise σ 0.04" in strong
    assert "hflip" not in make_augment("standard", orientation_sensitive=True).describe()


def tile_origin(label_width: int, zoom: int, row: int, col: int, side: int, pad: int = 2) -> tuple[int, int]:
    return label_width + zoom * (pad + col * (side + pad)), zoom * (pad + row * (side + pad))


def test_preview_grid_rows_columns_and_originals(digits):
    images, labels = digits[0][:3], digits[1][:3]
    png = preview_grid(images, labels, make_augment("strong"), seed=1, copies=4)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.mode == "L"
    zoom = 12  # 8 px tiles enlarged to 96 px; 2 px padding; 3 rows of 1 original + 4 copies
    grid_width = zoom * (2 + 5 * (8 + 2))
    assert image.height == zoom * (2 + 3 * (8 + 2))
    label_width = image.width - grid_width
    assert label_width > 0
    pixels = np.asarray(image)
    for row in range(3):
        x, y = tile_origin(label_width, zoom, row, 0, 8)
        tile = pixels[y:y + 8 * zoom, x:x + 8 * zoom]
        assert np.array_equal(tile[::zoom, ::zoom], images[row, :, :, 0])  # the original, unchanged
        assert np.array_equal(tile, np.kron(images[row, :, :, 0], np.ones((zoom, zoom), np.uint8)))
        strip = pixels[y:y + 8 * zoom, :label_width]
        assert strip.max() > 200  # the class name is written in the row's label strip
    assert preview_grid(images, labels, make_augment("strong"), seed=1, copies=4) == png


def test_preview_grid_keeps_colour_and_joins_multilabels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    image = Image.open(io.BytesIO(preview_grid(images, [["cat", "dog"], []], make_augment("light"), copies=2)))
    assert image.mode == "RGB"
    zoom = 3
    assert image.height == zoom * (2 + 2 * 34)
    label_width = image.width - zoom * (2 + 3 * 34)
    x, y = tile_origin(label_width, zoom, 1, 0, 32)
    assert np.array_equal(np.asarray(image)[y:y + 96:zoom, x:x + 96:zoom], images[1])


def recipe_line(stdout: str) -> str:
    """The resolved ``describe()`` line `data preview` prints."""
    return next(line for line in stdout.splitlines() if line.startswith("--augment "))


def test_preview_cli_defaults_to_light_and_takes_overrides(capsys, tmp_path, digits_folder):
    out = tmp_path / "preview.png"
    code, stdout, err = run_cli(capsys, "data", "preview", digits_folder, "--out", out, "--n", "2", "--copies", "3")
    assert code == 0, err
    assert recipe_line(stdout) == f"--augment light: {make_augment('light').describe()}"
    code, stdout, err = run_cli(capsys, "data", "preview", digits_folder, "--out", out, "--n", "2",
                                "--augment", "standard", "--hflip", "0", "--zoom", "1,1", "--erase", "0.5")
    assert code == 0, err
    line = recipe_line(stdout)
    assert line.startswith("--augment standard: rotate ±15°, translate ±10%") and "erase 50%" in line
    assert "hflip" not in line


def test_preview_cli_honours_orientation_sensitivity(capsys, tmp_path, monkeypatch, digits_folder):
    import foveal.data.load

    real = foveal.data.load.load_dataset

    def sensitive(*args, **kwargs):
        ds = real(*args, **kwargs)
        ds.orientation_sensitive = True
        return ds

    monkeypatch.setattr(foveal.data.load, "load_dataset", sensitive)
    args = ["data", "preview", digits_folder, "--out", tmp_path / "p.png", "--n", "2", "--copies", "2",
            "--augment", "standard"]
    code, stdout, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "hflip" not in recipe_line(stdout) and "rotate ±15°" in recipe_line(stdout)
    assert "orientation-sensitive" in stdout
    code, stdout, err = run_cli(capsys, *args, "--hflip", "0.5", "--rotate", "40")
    assert code == 0, err
    assert recipe_line(stdout).startswith("--augment standard: hflip 50%, rotate ±40°")


@pytest.mark.parametrize("args, message", [
    (["--hflip", "2"], "--hflip must be at most 1, got 2"),
    (["--zoom", "0.9"], "--zoom needs two numbers MIN,MAX"),
    (["--rotate", "lots"], "--rotate 'lots' is not a number"),
    (["--augment", "wild"], "unknown --augment 'wild'"),
])
def test_preview_cli_bad_values_are_one_line_errors(capsys, tmp_path, args, message):
    code, _, err = run_cli(capsys, "data", "preview", "digits", "--out", tmp_path / "p.png", *args)
    assert code == 2, err
    assert err.startswith("foveal: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p.png").exists()
