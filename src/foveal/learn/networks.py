"""The networks self-supervised objectives train: a backbone (any foveal / timm architecture without
its classifier) plus the method's heads. ``get_classifier`` returns the heads, so the trainer's
parameter groups and freezing treat them as timm treats a classifier; only the backbone is shipped."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from foveal.errors import ConfigError


def frozen_copy(module: nn.Module) -> nn.Module:
    """A copy whose parameters are buffers: saved in checkpoints, never optimised, frozen or
    reduced by DDP (BYOL's momentum target)."""
    twin = copy.deepcopy(module)
    for sub in twin.modules():
        for name, param in list(sub.named_parameters(recurse=False)):
            delattr(sub, name)
            sub.register_buffer(name, param.detach().clone())
    return twin


class ProjectedNet(nn.Module):
    """SimCLR (backbone → projection) and BYOL (online backbone → projection → prediction, and a
    momentum target backbone → projection), with lightly's heads."""

    def __init__(self, backbone: nn.Module, dim: int, byol: bool) -> None:
        super().__init__()
        from lightly.models.modules import BYOLPredictionHead, BYOLProjectionHead, SimCLRProjectionHead

        self.backbone = backbone
        width = int(backbone.num_features)
        hidden = max(2 * width, 256)
        heads = {"projection": BYOLProjectionHead(width, hidden, dim) if byol else SimCLRProjectionHead(width, hidden, dim)}
        if byol:
            heads["prediction"] = BYOLPredictionHead(dim, hidden, dim)
        self.heads = nn.ModuleDict(heads)
        self.byol = byol
        self.target = frozen_copy(self._online()) if byol else None

    def _online(self) -> nn.Sequential:
        return nn.Sequential(self.backbone, self.heads["projection"])

    def get_classifier(self) -> nn.Module:
        return self.heads

    def forward(self, x: torch.Tensor) -> dict:
        z = self.heads["projection"](self.backbone(x))
        if not self.byol:
            return {"z": z}
        with torch.no_grad():
            target = self.target(x)
        return {"p": self.heads["prediction"](z), "target": target.detach()}

    @torch.no_grad()
    def update_target(self, momentum: float) -> None:
        """target ← m · target + (1 − m) · online, for the online parameters (not batch-norm statistics)."""
        online = dict(self._online().named_parameters())
        buffers = dict(self.target.named_buffers())
        for name, param in online.items():
            buffers[name].mul_(momentum).add_(param.detach(), alpha=1 - momentum)


class RotationNet(nn.Module):
    """Backbone → a linear layer over the four quarter turns."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.heads = nn.ModuleDict({"rotation": nn.Linear(int(backbone.num_features), 4)})

    def get_classifier(self) -> nn.Module:
        return self.heads

    def forward(self, x: torch.Tensor) -> dict:
        return {"logits": self.heads["rotation"](self.backbone(x))}


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ReconstructionNet(nn.Module):
    """Backbone → a convolutional decoder back to the image (colorization, inpainting, autoencoder).

    ``bottleneck``: decode from the pooled embedding (the autoencoder: everything must pass through
    the vector that ``embed`` returns); otherwise from the backbone's feature map (dense pretext tasks).
    """

    def __init__(self, backbone: nn.Module, channels: int, size: tuple[int, int], bottleneck: bool,
                 width: int = 64) -> None:
        super().__init__()
        self.backbone, self.size, self.bottleneck = backbone, tuple(size), bottleneck
        start = max(1, min(size) // 8)
        if bottleneck:
            stem = nn.Sequential(nn.Linear(int(backbone.num_features), width * start * start), nn.ReLU(inplace=True),
                                 nn.Unflatten(1, (width, start, start)))
        else:
            fmap = feature_map_shape(backbone, channels, size)
            start = fmap[1]
            stem = nn.Sequential(nn.Conv2d(fmap[0], width, 1), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        steps = max(0, math.ceil(math.log2(max(size) / start)))
        self.heads = nn.ModuleDict({"decoder": nn.Sequential(stem, *(_up(width, width) for _ in range(steps)),
                                                             nn.Conv2d(width, channels, 3, padding=1))})

    def get_classifier(self) -> nn.Module:
        return self.heads

    def forward(self, x: torch.Tensor) -> dict:
        code = self.backbone(x) if self.bottleneck else self.backbone.forward_features(x)
        image = self.heads["decoder"](code)
        if tuple(image.shape[2:]) != self.size:
            image = nn.functional.interpolate(image, size=self.size, mode="bilinear", align_corners=False)
        return {"image": image}


def feature_map_shape(backbone: nn.Module, channels: int, size: tuple[int, int]) -> tuple[int, int]:
    """(channels, side) of the backbone's feature map; refuses backbones without one (ViT tokens)."""
    was = backbone.training
    backbone.eval()
    with torch.no_grad():
        out = backbone.forward_features(torch.zeros(1, channels, *size))
    backbone.train(was)
    if out.ndim != 4:
        raise ConfigError("this pretraining method decodes images from a convolutional feature map, and this "
                          f"architecture gives {out.ndim}-d features", "use a CNN (cnn-small, resnet18, …) or "
                          "--method simclr / byol / rotation / autoencoder")
    return int(out.shape[1]), int(min(out.shape[2:]))
