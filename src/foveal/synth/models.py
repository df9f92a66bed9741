"""A small class-conditional DCGAN: label embedding + noise → transposed convolutions with batch norm
(generator); strided convolutions with batch norm, then the pooled features' linear score plus their
projection on the label's embedding (Miyato & Koyama 2018) and the batch's feature spread as one
more input (ProGAN's minibatch standard deviation, which lets it notice samples that all look alike)
(discriminator)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from foveal.errors import ConfigError

SIZES = (8, 16, 32, 64)


def check_size(size: int) -> None:
    if size not in SIZES:
        raise ConfigError(f"--image-size {size} is not supported", f"use one of {', '.join(map(str, SIZES))}")


@dataclass(frozen=True)
class GanSpec:
    """Everything needed to rebuild the networks: image side, channels, classes, noise size, width."""

    size: int
    channels: int
    classes: tuple[str, ...]
    z_dim: int = 64
    width: int = 32

    def __post_init__(self) -> None:
        check_size(self.size)

    @property
    def stages(self) -> int:
        """Doublings from the 4×4 seed to ``size``."""
        return int(math.log2(self.size // 4))

    def to_json(self) -> dict:
        return {**asdict(self), "classes": list(self.classes)}

    @classmethod
    def from_json(cls, data: dict) -> "GanSpec":
        return cls(size=int(data["size"]), channels=int(data["channels"]), classes=tuple(data["classes"]),
                   z_dim=int(data["z_dim"]), width=int(data["width"]))


class Generator(nn.Module):
    """(noise, class index) → image in [-1, 1], (n, channels, size, size)."""

    def __init__(self, spec: GanSpec) -> None:
        super().__init__()
        self.spec = spec
        top = spec.width * 2 ** (spec.stages - 1)
        self.embed = nn.Embedding(len(spec.classes), spec.z_dim)
        self.seed = nn.Sequential(nn.Linear(2 * spec.z_dim, top * 16, bias=False), nn.BatchNorm1d(top * 16), nn.ReLU())
        blocks: list[nn.Module] = []
        channels = top
        for _ in range(spec.stages - 1):
            blocks += [nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(channels // 2), nn.ReLU()]
            channels //= 2
        blocks += [nn.ConvTranspose2d(channels, spec.channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*blocks)
        self.top = top

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.seed(torch.cat([z, self.embed(y)], dim=1))
        return self.body(h.view(-1, self.top, 4, 4))


class Discriminator(nn.Module):
    """(image, class index) → one realness logit per image."""

    def __init__(self, spec: GanSpec) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels, width = spec.channels, spec.width
        for stage in range(spec.stages):
            layers += [nn.Conv2d(channels, width, 4, 2, 1, bias=stage == 0)]
            layers += [nn.BatchNorm2d(width)] if stage else []
            layers += [nn.LeakyReLU(0.2)]
            channels, width = width, width * 2
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(channels + 1, 1)
        self.project = nn.Embedding(len(spec.classes), channels)
        nn.init.normal_(self.project.weight, std=0.02)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body(x).mean(dim=(2, 3))
        spread = h.std(dim=0).mean().expand(len(h), 1) if len(h) > 1 else h.new_zeros(len(h), 1)
        return (self.out(torch.cat([h, spread], dim=1)) + (self.project(y) * h).sum(dim=1, keepdim=True)).squeeze(1)


def build(spec: GanSpec) -> tuple[Generator, Discriminator]:
    return Generator(spec), Discriminator(spec)
