"""Augmentation presets applied to whole batches on tensors.

torchvision's v2 transforms draw one set of random parameters per call, so on a batch
every image would get the same flip or rotation. Geometry and colour are therefore done
batched with per-sample parameters (``affine_grid`` + ``grid_sample``, per-sample
brightness / contrast / saturation, noise, blur); RandAugment / TrivialAugment run per
sample with torchvision v2. Every draw uses the generator passed in, so runs and resumes
are reproducible. Presets are safe for grayscale (no saturation, no hue).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from foveal.errors import ConfigError

PRESETS = ("none", "light", "standard", "strong")


@dataclass(frozen=True)
class Augment:
    """Per-sample random ranges; zero disables a step."""

    rotate: float = 0.0  # degrees, ±
    zoom: tuple[float, float] = (1.0, 1.0)  # side scale of the sampled region (<1 zooms in)
    translate: float = 0.0  # fraction of the side, ±
    hflip: float = 0.0  # probability
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    noise: float = 0.0  # Gaussian std in [0, 1] units
    blur: float = 0.0  # probability of a 3×3 Gaussian blur
    auto: str = ""  # "trivial" | "randaugment" | ""

    def __call__(self, batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """uint8 (n, C, H, W) → float [0, 1] (n, C, H, W)."""
        if self.auto:
            batch = _auto_augment(batch, self.auto)
        x = batch.float().div_(255.0)
        if self.rotate or self.zoom != (1.0, 1.0) or self.translate or self.hflip:
            x = self._geometry(x, gen)
        x = self._colour(x, gen)
        if self.blur:
            x = _blur_some(x, self.blur, gen)
        if self.noise:
            x = x + torch.randn(x.shape, generator=gen) * self.noise
        return x.clamp_(0.0, 1.0)

    def _geometry(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n = len(x)
        angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(self.rotate)
        lo, hi = self.zoom
        scale = lo + torch.rand(n, generator=gen) * (hi - lo)
        shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * self.translate * 2
        flip = torch.where(torch.rand(n, generator=gen) < self.hflip, -1.0, 1.0)
        cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
        theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1),
                             torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def _colour(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n = len(x)

        def factor(amount: float) -> torch.Tensor:
            return (1 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * amount)

        if self.brightness:
            x = x * factor(self.brightness)
        if self.contrast:
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * factor(self.contrast) + mean
        if self.saturation and x.shape[1] == 3:
            gray = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
            x = (x - gray) * factor(self.saturation) + gray
        return x


def _blur_some(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    from torchvision.transforms.v2 import functional as TF

    chosen = torch.rand(len(x), generator=gen) < p
    if chosen.any():
        x = x.clone()
        x[chosen] = TF.gaussian_blur(x[chosen], kernel_size=[3, 3], sigma=[0.8, 0.8])
    return x


def _auto_augment(batch: torch.Tensor, kind: str) -> torch.Tensor:
    """TrivialAugmentWide / RandAugment per sample on uint8 (they draw from torch's global RNG)."""
    from torchvision.transforms import v2

    op = v2.TrivialAugmentWide() if kind == "trivial" else v2.RandAugment(num_ops=2, magnitude=9)
    return torch.stack([op(image) for image in batch])


_PRESETS = {
    "none": Augment(),
    "light": Augment(rotate=10, zoom=(0.9, 1.1), translate=0.08, brightness=0.1, contrast=0.1),
    "standard": Augment(rotate=15, zoom=(0.8, 1.1), translate=0.1, hflip=0.5, brightness=0.25, contrast=0.25,
                        saturation=0.25, noise=0.02),
    "strong": Augment(rotate=20, zoom=(0.7, 1.15), translate=0.12, hflip=0.5, brightness=0.3, contrast=0.3,
                      saturation=0.3, noise=0.03, blur=0.2, auto="trivial"),
}


def make_augment(preset: str) -> Augment:
    """The preset by name: none | light (no flips; safe for digits and text) | standard | strong."""
    if preset not in _PRESETS:
        raise ConfigError(f"unknown --augment {preset!r}", f"use one of {', '.join(PRESETS)}")
    return _PRESETS[preset]


PREVIEW_MIN_TILE = 96


def preview_grid(images: np.ndarray, preset: str, seed: int = 0, copies: int = 1) -> bytes:
    """A PNG grid of augmented versions of uint8 (n, H, W, C) images, one row per image when ``copies`` > 1."""
    from PIL import Image
    from torchvision.utils import make_grid

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    batch = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()
    batch = batch.repeat_interleave(copies, dim=0)
    augmented = make_augment(preset)(batch, gen)
    grid = make_grid(augmented, nrow=copies if copies > 1 else int(math.ceil(math.sqrt(len(batch)))), padding=2,
                     pad_value=0.5)
    array = (grid.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    image = Image.fromarray(array[:, :, 0] if images.shape[-1] == 1 else array)
    zoom = max(1, math.ceil(PREVIEW_MIN_TILE / max(images.shape[1:3])))  # 8 px digits stay visible
    if zoom > 1:
        image = image.resize((image.width * zoom, image.height * zoom), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
