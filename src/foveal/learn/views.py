"""How a batch of uint8 images becomes the inputs (and targets) of a self-supervised objective.

Contrastive methods draw two views per image with lightly's SimCLR / BYOL transforms (per image, on
PIL images, as lightly defines them; they draw from torch's and numpy's global generators, which
checkpoints save, so a resumed run draws the same views); pretext tasks start from foveal's batched ``light``
augmentation and then rotate, grey out, mask or keep the image. Every view is normalised with
the run's mean and std, the same normalisation the backbone bundle records.
"""

from __future__ import annotations

import math

import torch

from foveal.deep.batches import normalize

LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, as Pillow's RGB → L
BLUR_MIN_SIDE = 64  # lightly's Gaussian blur destroys images smaller than this (CIFAR recipes turn it off)


def _pil(image: torch.Tensor):
    from PIL import Image

    array = image.permute(1, 2, 0).numpy()
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


class ContrastiveViews:
    """Two random views per image from lightly's transforms (SimCLR's pair, or BYOL's asymmetric pair)."""

    def __init__(self, method: str, size: tuple[int, int], mean, std, min_scale: float, orientation: bool) -> None:
        self.method = method
        self.mean, self.std = torch.as_tensor(mean), torch.as_tensor(std)
        common = {"input_size": tuple(size), "min_scale": min_scale, "normalize": None,
                  "hf_prob": 0.0 if orientation else 0.5}
        small = min(size) < BLUR_MIN_SIDE
        if method == "simclr":
            from lightly.transforms import SimCLRTransform

            self.transform = SimCLRTransform(**common, gaussian_blur=0.0 if small else 0.5)
        else:
            from lightly.transforms import BYOLTransform, BYOLView1Transform, BYOLView2Transform

            self.transform = BYOLTransform(BYOLView1Transform(**common, gaussian_blur=0.0 if small else 1.0),
                                           BYOLView2Transform(**common, gaussian_blur=0.0 if small else 0.1))
        self.orientation = orientation

    def describe(self) -> str:
        flip = "no flips (orientation-sensitive data)" if self.orientation else "flips"
        return f"lightly {self.method} views: random resized crops, colour jitter, grey, {flip}"

    def __call__(self, images: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (n, C, H, W) → (both views stacked: (2n, C, H, W) normalised, dummy targets (n,))."""
        first, second = [], []
        for image in images:
            a, b = self.transform(_pil(image))
            first.append(a)
            second.append(b)
        x = torch.cat([torch.stack(first), torch.stack(second)])
        return normalize(x, self.mean, self.std), torch.zeros(len(images), dtype=torch.long)


class PretextViews:
    """foveal's ``light`` augmentation, then the pretext task's input and target."""

    def __init__(self, method: str, mean, std, orientation: bool, mask_ratio: float = 0.4) -> None:
        from foveal.deep.augment import make_augment

        self.method = method
        self.mean, self.std = torch.as_tensor(mean), torch.as_tensor(std)
        self.augment = make_augment("light", {"rotate": 0.0} if method == "rotation" else {}, orientation)
        self.mask_ratio = mask_ratio

    def describe(self) -> str:
        return f"{self.augment.describe()}; then {self.method}"

    def __call__(self, images: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.augment(images, gen)
        if self.method == "rotation":
            return rotated(x, gen, self.mean, self.std)
        target = normalize(x, self.mean, self.std)
        if self.method == "colorization":
            return normalize(grey(x), self.mean, self.std), target
        if self.method == "inpainting":
            mask = patch_mask(len(x), x.shape[2:], self.mask_ratio, gen)
            return target * (1 - mask), torch.cat([target, mask], dim=1)
        return target, target  # autoencoder


def rotated(x: torch.Tensor, gen: torch.Generator, mean, std) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image turned by a random multiple of 90° (square images); the multiple is the target."""
    turns = torch.randint(0, 4, (len(x),), generator=gen)
    out = x.clone()
    for k in range(1, 4):
        chosen = turns == k
        if chosen.any():
            out[chosen] = torch.rot90(x[chosen], k, dims=(2, 3))
    return normalize(out, mean, std), turns


def grey(x: torch.Tensor) -> torch.Tensor:
    """Float RGB (n, 3, H, W) → its luma repeated in the three channels."""
    weights = torch.tensor(LUMA, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True).expand_as(x).contiguous()


def patch_mask(n: int, size: tuple[int, int], ratio: float, gen: torch.Generator) -> torch.Tensor:
    """(n, 1, H, W) of 0/1: square patches (an eighth of the side, at least 2 px) hidden at ``ratio``."""
    h, w = int(size[0]), int(size[1])
    patch = max(2, min(h, w) // 8)
    rows, cols = math.ceil(h / patch), math.ceil(w / patch)
    grid = (torch.rand(n, 1, rows, cols, generator=gen) < ratio).float()
    return grid.repeat_interleave(patch, dim=2).repeat_interleave(patch, dim=3)[:, :, :h, :w]


def check_views(method: str, size: tuple[int, int], channels: int) -> None:
    """Refuse data a method cannot learn from (called before any image is decoded)."""
    from foveal.errors import ConfigError

    if method == "rotation" and size[0] != size[1]:
        raise ConfigError(f"--method rotation needs square images, the run's size is {size[0]}×{size[1]}",
                          "add --image-size N (e.g. --image-size 32)")
    if method == "colorization" and channels != 3:
        raise ConfigError("--method colorization learns to colour grey images, but the data is grayscale",
                          "use colour images, or another --method (rotation, inpainting, simclr, …)")
