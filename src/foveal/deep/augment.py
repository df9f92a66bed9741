"""Augmentation presets applied to whole batches on tensors, with per-field overrides.

torchvision's v2 transforms draw one set of random parameters per call, so on a batch
every image would get the same flip or rotation. Everything here is therefore batched with
per-sample parameters (``affine_grid`` + ``grid_sample``, per-sample brightness / contrast /
saturation, blur, erasing, noise), and every draw uses the generator passed in, so runs and
resumes are reproducible. Crops are safe: the central half of the image always stays inside
the sampled window. Presets are safe for grayscale (no hue). torch and numpy are imported on
use, so the command line can build its flags from :data:`AUGMENT_OVERRIDES` cheaply.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Union

from foveal.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import torch

PRESETS = ("none", "light", "standard", "strong", "robust")

AUGMENT_OVERRIDES: dict[str, str] = {
    "hflip": "Probability of a left-right flip, 0-1.",
    "vflip": "Probability of an upside-down flip, 0-1.",
    "rotate": "Rotation range in degrees, ± (0-180).",
    "zoom": "Side scale of the sampled region as min,max, e.g. 0.8,1.1 (<1 zooms in; 1,1 turns zoom off).",
    "translate": "Shift range as a fraction of the side, ± (the image centre always stays in view).",
    "brightness": "Brightness jitter, ± fraction (0.2 = ±20%).",
    "contrast": "Contrast jitter, ± fraction.",
    "saturation": "Saturation jitter, ± fraction (colour images only).",
    "noise": "Standard deviation of Gaussian noise, in units of the full 0-1 pixel range.",
    "blur": "Probability of a 3×3 Gaussian blur, 0-1.",
    "erase": "Probability of erasing one small box (2-8% of the area, never the whole centre), 0-1.",
}

_PROBABILITIES = ("hflip", "vflip", "blur", "erase")
ORIENTATION_MAX_ROTATE = 15.0  # degrees: the most rotation an orientation-sensitive dataset gets by default
ERASE_AREA = (0.02, 0.08)  # fraction of the image area; sides stay ≤ 0.4 of the image, so the central half
ERASE_ASPECT = (0.5, 2.0)  # (a quarter of the area) is never covered entirely
HEAVY_BLUR = (0.4, 1.2)  # Gaussian σ range, px at 32 px (scaled with the side)
JPEG_QUALITY = (15, 75)
HEAVY_NOISE = (0.02, 0.12)  # Gaussian σ range, [0, 1] units

Override = Union[float, tuple[float, float]]


@dataclass(frozen=True)
class Augment:
    """Per-sample random ranges; zero disables a step."""

    rotate: float = 0.0  # degrees, ±
    zoom: tuple[float, float] = (1.0, 1.0)  # side scale of the sampled region (<1 zooms in)
    translate: float = 0.0  # fraction of the side, ±
    hflip: float = 0.0  # probability
    vflip: float = 0.0  # probability
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    noise: float = 0.0  # Gaussian std in [0, 1] units
    blur: float = 0.0  # probability of a 3×3 Gaussian blur
    erase: float = 0.0  # probability of erasing one small box
    # the ``robust`` preset's degradations (no flags of their own: they come with the preset)
    heavy_blur: float = 0.0  # probability of a Gaussian blur with σ from HEAVY_BLUR px (at 32 px)
    jpeg: float = 0.0  # probability of a JPEG round trip at a quality from JPEG_QUALITY
    heavy_noise: float = 0.0  # probability of Gaussian noise with σ from HEAVY_NOISE

    def __call__(self, batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """uint8 (n, C, H, W) → float [0, 1] (n, C, H, W)."""
        import torch

        x = batch.float().div_(255.0)
        if self.rotate or self.zoom != (1.0, 1.0) or self.translate or self.hflip or self.vflip:
            x = self._geometry(x, gen)
        x = self._colour(x, gen)
        if self.blur:
            x = _blur_some(x, self.blur, gen)
        if self.erase:
            x = _erase_some(x, self.erase, gen)
        if self.heavy_blur:
            x = _varied_blur(x, self.heavy_blur, gen)
        if self.jpeg:
            x = _jpeg_some(x, self.jpeg, gen)
        if self.heavy_noise:
            x = _varied_noise(x, self.heavy_noise, gen)
        if self.noise:
            x = x + torch.randn(x.shape, generator=gen) * self.noise
        return x.clamp_(0.0, 1.0)

    def describe(self) -> str:
        """One line listing the active transforms and their ranges."""
        lo, hi = self.zoom
        parts = [
            self.hflip and f"hflip {_pct(self.hflip)}",
            self.vflip and f"vflip {_pct(self.vflip)}",
            self.rotate and f"rotate ±{self.rotate:g}°",
            (lo, hi) != (1.0, 1.0) and (f"zoom {lo:g}" if lo == hi else f"zoom {lo:g}–{hi:g}"),
            self.translate and f"translate ±{_pct(self.translate)}",
            self.brightness and f"brightness ±{_pct(self.brightness)}",
            self.contrast and f"contrast ±{_pct(self.contrast)}",
            self.saturation and f"saturation ±{_pct(self.saturation)}",
            self.blur and f"blur {_pct(self.blur)}",
            self.erase and f"erase {_pct(self.erase)}",
            self.noise and f"noise σ {self.noise:g}",
            self.heavy_blur and f"blur σ {HEAVY_BLUR[0]:g}–{HEAVY_BLUR[1]:g} px {_pct(self.heavy_blur)}",
            self.jpeg and f"JPEG q{JPEG_QUALITY[0]}–{JPEG_QUALITY[1]} {_pct(self.jpeg)}",
            self.heavy_noise and f"noise σ {HEAVY_NOISE[0]:g}–{HEAVY_NOISE[1]:g} {_pct(self.heavy_noise)}",
        ]
        return ", ".join(p for p in parts if p) or "no augmentation"

    def _geometry(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        n = len(x)
        angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(self.rotate)
        lo, hi = self.zoom
        scale = lo + torch.rand(n, generator=gen) * (hi - lo)
        shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * self.translate * 2
        hflip = torch.where(torch.rand(n, generator=gen) < self.hflip, -1.0, 1.0)
        vflip = torch.where(torch.rand(n, generator=gen) < self.vflip, -1.0, 1.0) if self.vflip else torch.ones(n)
        cos, sin = torch.cos(angle), torch.sin(angle)
        shift = _keep_centre_in_view(shift, cos, sin, scale)
        cos, sin = cos * scale, sin * scale
        theta = torch.stack([torch.stack([cos * hflip, -sin * vflip, shift[:, 0]], 1),
                             torch.stack([sin * hflip, cos * vflip, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def _colour(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        import torch

        n = len(x)

        def factor(amount: float) -> torch.Tensor:
            return (1 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * amount).clamp_(min=0.0)

        if self.brightness:
            x = x * factor(self.brightness)
        if self.contrast:
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * factor(self.contrast) + mean
        if self.saturation and x.shape[1] == 3:
            gray = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            x = (x - gray) * factor(self.saturation) + gray
        return x


def _pct(value: float) -> str:
    return f"{round(value * 100, 1):g}%"


def _keep_centre_in_view(shift: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                         scale: torch.Tensor) -> torch.Tensor:
    """Clamp each sample's window centre so the box [-0.5, 0.5]² stays inside its window.

    The window is the square of half-side ``scale`` rotated by the angle; in the window's
    frame the box reaches 0.5·(|cos|+|sin|) from the origin, so the centre may move at most
    ``scale`` minus that along each window axis (no rotation: |t| ≤ max(s − 0.5, 0)).
    """
    import torch

    room = (scale - 0.5 * (cos.abs() + sin.abs())).clamp(min=0.0)
    along = cos * shift[:, 0] + sin * shift[:, 1]  # R(-angle) · shift
    across = -sin * shift[:, 0] + cos * shift[:, 1]
    outside = (along.abs() > room) | (across.abs() > room)
    along, across = along.clamp(-room, room), across.clamp(-room, room)
    clamped = torch.stack([cos * along - sin * across, sin * along + cos * across], 1)
    return torch.where(outside[:, None], clamped, shift)  # untouched shifts stay bit-exact


def _blur_some(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    import torch
    from torchvision.transforms.v2 import functional as TF

    chosen = torch.rand(len(x), generator=gen) < p
    if chosen.any():
        x = x.clone()
        x[chosen] = TF.gaussian_blur(x[chosen], kernel_size=[3, 3], sigma=[0.8, 0.8])
    return x


def _erase_some(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Fill one box of 2-8% of the area (aspect 1:2-2:1) with a random grey, in a ``p`` share of samples."""
    import torch

    n, _, h, w = x.shape
    chosen = torch.rand(n, generator=gen) < p
    area = ERASE_AREA[0] + torch.rand(n, generator=gen) * (ERASE_AREA[1] - ERASE_AREA[0])
    log_lo, log_hi = math.log(ERASE_ASPECT[0]), math.log(ERASE_ASPECT[1])
    aspect = torch.exp(log_lo + torch.rand(n, generator=gen) * (log_hi - log_lo))
    half_h, half_w = (area * aspect).sqrt() / 2, (area / aspect).sqrt() / 2  # fractions of each side
    centre = torch.rand(n, 2, generator=gen)
    fill = torch.rand(n, generator=gen)
    rows = (torch.arange(h) + 0.5) / h
    cols = (torch.arange(w) + 0.5) / w
    inside_y = (rows.view(1, h) - centre[:, :1]).abs() <= half_h.view(n, 1)
    inside_x = (cols.view(1, w) - centre[:, 1:]).abs() <= half_w.view(n, 1)
    mask = (inside_y[:, :, None] & inside_x[:, None, :] & chosen.view(n, 1, 1)).unsqueeze(1)
    return torch.where(mask, fill.view(n, 1, 1, 1), x)


def _varied_blur(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """A ``p`` share of samples blurred, each with its own σ (one grouped convolution for the batch)."""
    import torch
    import torch.nn.functional as F

    n, c, h, w = x.shape
    chosen = torch.rand(n, generator=gen) < p
    sigma = (HEAVY_BLUR[0] + torch.rand(n, generator=gen) * (HEAVY_BLUR[1] - HEAVY_BLUR[0])) * min(h, w) / 32
    if not chosen.any():
        return x
    radius = max(1, math.ceil(3 * float(sigma.max())))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-offsets[None] ** 2 / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    kernel = torch.where(chosen[:, None], kernel, (offsets == 0).float()[None])  # identity for the others
    weight = kernel.repeat_interleave(c, dim=0)  # (n·c, k)
    y = x.reshape(1, n * c, h, w)
    mode = "reflect" if radius < min(h, w) else "replicate"
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode=mode), weight[:, None, None, :], groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode=mode), weight[:, None, :, None], groups=n * c)
    return y.reshape(n, c, h, w)


def _jpeg_some(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """A ``p`` share of samples compressed as JPEG at a random quality (Pillow's libjpeg)."""
    import numpy as np
    import torch
    from PIL import Image

    chosen = torch.rand(len(x), generator=gen) < p
    quality = torch.randint(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1, (len(x),), generator=gen)
    if not chosen.any():
        return x
    x = x.clone()
    for i in torch.nonzero(chosen).flatten().tolist():
        pixels = (x[i].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        buffer = io.BytesIO()
        Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(buffer, format="JPEG",
                                                                                 quality=int(quality[i]))
        decoded = np.asarray(Image.open(buffer)).reshape(pixels.shape)
        x[i] = torch.from_numpy(decoded.copy()).permute(2, 0, 1).float().div(255.0)
    return x


def _varied_noise(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Gaussian noise on a ``p`` share of samples, each with its own σ."""
    import torch

    n = len(x)
    chosen = (torch.rand(n, generator=gen) < p).float()
    sigma = HEAVY_NOISE[0] + torch.rand(n, generator=gen) * (HEAVY_NOISE[1] - HEAVY_NOISE[0])
    return x + torch.randn(x.shape, generator=gen) * (sigma * chosen).view(n, 1, 1, 1)


_PRESETS = {
    "none": Augment(),
    "light": Augment(rotate=10, zoom=(0.9, 1.1), translate=0.08, brightness=0.1, contrast=0.1),
    "standard": Augment(rotate=15, zoom=(0.8, 1.1), translate=0.1, hflip=0.5, brightness=0.25, contrast=0.25,
                        saturation=0.25, noise=0.02),
    "strong": Augment(rotate=20, zoom=(0.75, 1.1), translate=0.15, hflip=0.5, brightness=0.4, contrast=0.4,
                      saturation=0.4, noise=0.04, blur=0.3, erase=0.25),
    # light's geometry plus the degradations images meet in the field: noise, blur, JPEG, colour
    "robust": Augment(rotate=10, zoom=(0.9, 1.1), translate=0.08, brightness=0.3, contrast=0.4, saturation=0.3,
                      heavy_blur=0.3, jpeg=0.3, heavy_noise=0.3),
}


def parse_override(name: str, text: object) -> Override:
    """One override from a flag's text (or a number / 2-sequence for zoom), checked; ConfigError if bad."""
    if name not in AUGMENT_OVERRIDES:
        raise ConfigError(f"unknown augmentation override {name!r}", f"use one of {', '.join(AUGMENT_OVERRIDES)}")
    if name == "zoom":
        return _parse_zoom(text)
    value = _number(name, text)
    if name in _PROBABILITIES and not 0 <= value <= 1:
        raise ConfigError(f"--{name} {value:g} is out of range", f"give a probability from 0 to 1, e.g. --{name} 0")
    if name == "rotate" and not 0 <= value <= 180:
        raise ConfigError(f"--rotate {value:g} is out of range", "give degrees from 0 to 180, e.g. --rotate 10")
    if value < 0:
        raise ConfigError(f"--{name} {value:g} is negative", f"give 0 or more, e.g. --{name} 0.1 (0 turns it off)")
    return value


def check_overrides(overrides: Mapping[str, object] | None) -> dict[str, Override]:
    """Every override parsed and checked (names, numbers, ranges); ConfigError on the first bad one."""
    return {name: parse_override(name, value) for name, value in (overrides or {}).items()}


def make_augment(preset: str, overrides: Mapping[str, object] | None = None,
                 orientation_sensitive: bool = False) -> Augment:
    """The preset by name (none | light | standard | strong | robust) with ``overrides`` set by field name.

    ``orientation_sensitive`` (flips or large rotations change the label, e.g. digits) turns the
    preset's flips off and caps its rotation at 15°; explicit overrides always win.
    """
    if preset not in _PRESETS:
        raise ConfigError(f"unknown --augment {preset!r}", f"use one of {', '.join(PRESETS)}")
    checked = check_overrides(overrides)
    augment = _PRESETS[preset]
    if orientation_sensitive:
        augment = replace(augment, hflip=0.0, vflip=0.0, rotate=min(augment.rotate, ORIENTATION_MAX_ROTATE))
    return replace(augment, **checked)


def _number(name: str, text: object) -> float:
    try:
        value = float(text.strip() if isinstance(text, str) else text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(text, bool) or not math.isfinite(value):
        raise ConfigError(f"--{name} {text!r} is not a number", f"give a number, e.g. --{name} {_EXAMPLES[name]}")
    return value


def _parse_zoom(text: object) -> tuple[float, float]:
    parts = text.split(",") if isinstance(text, str) else text
    if isinstance(parts, (str, bytes)) or not isinstance(parts, Sequence) or len(parts) != 2:
        raise ConfigError(f"--zoom {text!r} is not a min,max pair", "give two numbers, e.g. --zoom 0.8,1.1 "
                                                                    "(1,1 turns zoom off)")
    lo, hi = (_number("zoom", part) for part in parts)
    if not 0 < lo <= hi <= 2:
        raise ConfigError(f"--zoom {lo:g},{hi:g} is out of range", "give 0 < min ≤ max ≤ 2, e.g. --zoom 0.8,1.1")
    return (lo, hi)


_EXAMPLES = {"hflip": "0", "vflip": "0", "rotate": "10", "zoom": "0.8,1.1", "translate": "0.1", "brightness": "0.2",
             "contrast": "0.2", "saturation": "0.2", "noise": "0.02", "blur": "0.2", "erase": "0.25"}

PREVIEW_MIN_TILE = 96
PREVIEW_PAD = 2  # pixels between tiles, before enlarging
PREVIEW_LABEL_CHARS = 24


def preview_grid(images: np.ndarray, labels: Sequence, augment: Augment, seed: int = 0, copies: int = 6) -> bytes:
    """A PNG: one row per uint8 (n, H, W, C) image — its class name, the original, then ``copies`` augmented versions.

    Tiles of ``PREVIEW_PAD`` px spacing are enlarged (nearest) by a whole factor to at least
    ``PREVIEW_MIN_TILE`` px; the labels sit in a strip at the left. Grayscale stays grayscale.
    """
    import numpy as np
    import torch
    from PIL import Image

    n, h, w, channels = images.shape
    batch = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()
    augmented = augment(batch.repeat_interleave(copies, dim=0), torch.Generator().manual_seed(seed))
    augmented = (augmented * 255).round_().byte().permute(0, 2, 3, 1).numpy().reshape(n, copies, h, w, channels)
    tiles = np.concatenate([np.ascontiguousarray(images)[:, None], augmented], axis=1)  # (n, copies + 1, h, w, c)
    pad = PREVIEW_PAD
    grid = np.full((pad + n * (h + pad), pad + (copies + 1) * (w + pad), channels), 128, dtype=np.uint8)
    for row in range(n):
        for col in range(copies + 1):
            top, left = pad + row * (h + pad), pad + col * (w + pad)
            grid[top:top + h, left:left + w] = tiles[row, col]
    zoom = max(1, math.ceil(PREVIEW_MIN_TILE / max(h, w)))  # 8 px digits stay visible
    grid = grid.repeat(zoom, axis=0).repeat(zoom, axis=1)
    image = Image.fromarray(grid[:, :, 0] if channels == 1 else grid)
    image = _with_labels(image, [_label_text(label) for label in labels], row_height=zoom * (h + pad),
                         top=zoom * pad)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _label_text(label: object) -> str:
    text = ("+".join(map(str, label)) or "(none)") if isinstance(label, (list, tuple)) else str(label)
    return text if len(text) <= PREVIEW_LABEL_CHARS else text[:PREVIEW_LABEL_CHARS - 1] + "…"


def _with_labels(grid, texts: list[str], row_height: int, top: int):
    """``grid`` with a dark strip at its left holding each row's text, vertically centred."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=14)
    except (ImportError, OSError):  # Pillow without FreeType: the small bitmap font
        font = ImageFont.load_default()
    draw = ImageDraw.Draw(grid)
    margin = 6
    width = 2 * margin + max([math.ceil(draw.textlength(t, font=font)) for t in texts] + [0])
    out = Image.new(grid.mode, (width + grid.width, grid.height), 32 if grid.mode == "L" else (32, 32, 32))
    out.paste(grid, (width, 0))
    draw = ImageDraw.Draw(out)
    white = 255 if grid.mode == "L" else (255, 255, 255)
    for row, text in enumerate(texts):
        middle = top + row * row_height + (row_height - top) // 2
        _, y0, _, y1 = draw.textbbox((0, 0), text, font=font)
        draw.text((margin, middle - (y0 + y1) // 2), text, fill=white, font=font)
    return out
