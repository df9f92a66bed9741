"""Common corruptions in the spirit of ImageNet-C (Hendrycks & Dietterich, 2019), at five severities.

They act on decoded images at the model's input size, uint8 (n, H, W, C) in and out, and are
deterministic: the random parts draw from a generator seeded by (seed, corruption, severity).
Severity parameters follow the benchmark's small-image (CIFAR-10-C) settings; blur radii, motion
lengths and the like scale with the image side over 32 px, so a 64 px model sees the same blur.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image

SEVERITIES = (1, 2, 3, 4, 5)
REFERENCE_SIDE = 32  # px: the side the blur parameters are given for

_NOISE = (0.04, 0.06, 0.08, 0.09, 0.10)  # Gaussian σ in [0, 1] units
_SHOT = (500, 250, 100, 75, 50)  # photons per unit intensity
_IMPULSE = (0.01, 0.02, 0.03, 0.05, 0.07)  # share of pixels set to 0 or 1
_BLUR = (0.4, 0.6, 0.7, 0.8, 1.0)  # Gaussian σ, px at 32 px
_DEFOCUS = (0.75, 1.0, 1.25, 1.75, 2.25)  # disc radius, px at 32 px
_MOTION = (2.0, 3.0, 4.0, 5.0, 6.5)  # streak length, px at 32 px
_JPEG = (80, 65, 58, 50, 40)  # quality
_PIXELATE = (0.95, 0.9, 0.85, 0.75, 0.65)  # side kept before enlarging back
_BRIGHTNESS = (0.05, 0.1, 0.15, 0.2, 0.3)  # added to the HSV value
_CONTRAST = (0.75, 0.5, 0.4, 0.3, 0.15)  # factor around the image mean
_SATURATE = ((0.3, 0.0), (0.1, 0.0), (1.5, 0.0), (2.0, 0.1), (2.5, 0.2))  # HSV saturation × a + b
_ROTATE = (5.0, 10.0, 15.0, 20.0, 30.0)  # degrees, random sign
_OCCLUDE = (0.05, 0.1, 0.15, 0.2, 0.3)  # share of the area covered by one square


def _unit(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 255.0


def _bytes(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def _scale(images: np.ndarray) -> float:
    return min(images.shape[1:3]) / REFERENCE_SIDE


def gaussian_noise(images, severity, rng):
    x = _unit(images)
    return _bytes(x + rng.normal(size=x.shape).astype(np.float32) * _NOISE[severity - 1])


def shot_noise(images, severity, rng):
    lam = _SHOT[severity - 1]
    return _bytes(rng.poisson(_unit(images) * lam) / lam)


def impulse_noise(images, severity, rng):
    x = _unit(images)
    hit = rng.random(x.shape) < _IMPULSE[severity - 1]
    return _bytes(np.where(hit, (rng.random(x.shape) < 0.5).astype(np.float32), x))


def gaussian_blur(images, severity, rng):
    from scipy.ndimage import gaussian_filter

    sigma = _BLUR[severity - 1] * _scale(images)
    return _bytes(gaussian_filter(_unit(images), sigma=(0, sigma, sigma, 0), mode="reflect"))


def _convolve(images: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """Each image convolved with its own (k, k) kernel (reflect padding), batched with torch."""
    import torch
    import torch.nn.functional as F

    n, h, w, c = images.shape
    k = kernels.shape[-1]
    x = torch.from_numpy(_unit(images)).permute(0, 3, 1, 2).reshape(1, n * c, h, w)
    weight = torch.from_numpy(np.repeat(kernels, c, axis=0)[:, None].astype(np.float32))
    pad = k // 2
    x = F.pad(x, (pad, pad, pad, pad), mode="replicate" if pad >= min(h, w) else "reflect")
    out = F.conv2d(x, weight, groups=n * c).reshape(n, c, h, w).permute(0, 2, 3, 1)
    return _bytes(out.numpy())


def _disc(radius: float) -> np.ndarray:
    size = 2 * int(np.ceil(radius)) + 1
    yy, xx = np.mgrid[:size, :size] - size // 2
    kernel = (xx ** 2 + yy ** 2 <= radius ** 2).astype(np.float32)
    return kernel / kernel.sum()


def defocus_blur(images, severity, rng):
    kernel = _disc(_DEFOCUS[severity - 1] * _scale(images))
    return _convolve(images, np.repeat(kernel[None], len(images), axis=0))


def _streak(length: float, angle: float) -> np.ndarray:
    """A normalised line kernel through the centre, ``length`` px long, sampled with bilinear splats."""
    size = 2 * int(np.ceil(length / 2)) + 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    for t in np.linspace(-length / 2, length / 2, 4 * size):
        y, x = c + t * np.sin(angle), c + t * np.cos(angle)
        y0, x0 = int(np.floor(y)), int(np.floor(x))
        for yy, xx, wgt in ((y0, x0, (1 - y + y0) * (1 - x + x0)), (y0 + 1, x0, (y - y0) * (1 - x + x0)),
                            (y0, x0 + 1, (1 - y + y0) * (x - x0)), (y0 + 1, x0 + 1, (y - y0) * (x - x0))):
            if 0 <= yy < size and 0 <= xx < size:
                kernel[yy, xx] += wgt
    return kernel / kernel.sum()


def motion_blur(images, severity, rng):
    length = _MOTION[severity - 1] * _scale(images)
    angles = rng.uniform(0, np.pi, size=len(images))
    return _convolve(images, np.stack([_streak(length, a) for a in angles]))


def jpeg(images, severity, rng):
    out = np.empty_like(images)
    for i, image in enumerate(images):
        buffer = io.BytesIO()
        Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(buffer, format="JPEG",
                                                                               quality=_JPEG[severity - 1])
        decoded = np.asarray(Image.open(buffer))
        out[i] = decoded[:, :, None] if decoded.ndim == 2 else decoded
    return out


def pixelate(images, severity, rng):
    n, h, w, c = images.shape
    small = (max(1, round(w * _PIXELATE[severity - 1])), max(1, round(h * _PIXELATE[severity - 1])))
    out = np.empty_like(images)
    for i, image in enumerate(images):
        for ch in range(c):
            plane = Image.fromarray(image[:, :, ch]).resize(small, Image.Resampling.BOX)
            out[i, :, :, ch] = np.asarray(plane.resize((w, h), Image.Resampling.BOX))
    return out


def _hsv_edit(images: np.ndarray, edit: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    from skimage.color import hsv2rgb, rgb2hsv

    if images.shape[-1] == 1:  # gray: the value channel is the image
        return _bytes(edit(np.concatenate([np.zeros_like(_unit(images))] * 2 + [_unit(images)], axis=-1))[..., 2:])
    return _bytes(hsv2rgb(edit(rgb2hsv(_unit(images), channel_axis=-1)), channel_axis=-1))


def brightness(images, severity, rng):
    def edit(hsv):
        hsv[..., 2] = np.clip(hsv[..., 2] + _BRIGHTNESS[severity - 1], 0, 1)
        return hsv

    return _hsv_edit(images, edit)


def contrast(images, severity, rng):
    x = _unit(images)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return _bytes((x - mean) * _CONTRAST[severity - 1] + mean)


def saturate(images, severity, rng):
    a, b = _SATURATE[severity - 1]

    def edit(hsv):
        hsv[..., 1] = np.clip(hsv[..., 1] * a + b, 0, 1)
        return hsv

    return _hsv_edit(images, edit)


def rotate(images, severity, rng):
    import torch
    import torch.nn.functional as F

    angles = np.radians(_ROTATE[severity - 1]) * rng.choice([-1.0, 1.0], size=len(images))
    cos, sin = torch.as_tensor(np.cos(angles)).float(), torch.as_tensor(np.sin(angles)).float()
    zero = torch.zeros(len(images))
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    x = torch.from_numpy(_unit(images)).permute(0, 3, 1, 2)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return _bytes(out.permute(0, 2, 3, 1).numpy())


def occlusion(images, severity, rng):
    n, h, w, c = images.shape
    side = np.sqrt(_OCCLUDE[severity - 1] * h * w)
    ph, pw = max(1, min(h, round(side))), max(1, min(w, round(side)))
    out = images.copy()
    tops, lefts = rng.integers(0, h - ph + 1, n), rng.integers(0, w - pw + 1, n)
    fills = rng.integers(0, 256, n)
    for i in range(n):
        out[i, tops[i]:tops[i] + ph, lefts[i]:lefts[i] + pw] = fills[i]
    return out


CORRUPTIONS: dict[str, Callable[[np.ndarray, int, np.random.Generator], np.ndarray]] = {
    "gaussian_noise": gaussian_noise, "shot_noise": shot_noise, "impulse_noise": impulse_noise,
    "gaussian_blur": gaussian_blur, "defocus_blur": defocus_blur, "motion_blur": motion_blur,
    "jpeg": jpeg, "pixelate": pixelate, "brightness": brightness, "contrast": contrast,
    "saturate": saturate, "rotate": rotate, "occlusion": occlusion,
}
COLOUR_ONLY = frozenset({"saturate"})  # means nothing for gray images


def applicable(name: str, channels: int) -> bool:
    return not (name in COLOUR_ONLY and channels == 1)


def corrupt(images: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """``images`` (n, H, W, C) uint8 with corruption ``name`` at ``severity`` (1–5), deterministic by ``seed``."""
    from foveal.errors import ConfigError

    if name not in CORRUPTIONS:
        raise ConfigError(f"unknown corruption {name!r}", f"use one of {', '.join(CORRUPTIONS)}")
    if severity not in SEVERITIES:
        raise ConfigError(f"severity {severity} is not 1-5", "use severities 1, 2, 3, 4, 5")
    if len(images) == 0:
        return images.copy()
    rng = np.random.default_rng([seed, list(CORRUPTIONS).index(name), severity])
    return CORRUPTIONS[name](np.ascontiguousarray(images), severity, rng)
