"""Self-supervised objectives as trainer heads: ``loss(outputs, targets)`` reads what the method's
network returns; ``views`` makes a batch's inputs and targets; ``after_update`` moves momentum weights.

Losses come from lightly (NT-Xent for SimCLR, negative cosine similarity for BYOL); pretext tasks use
cross-entropy (rotation) and mean squared error (colorization, inpainting on the hidden pixels only,
the autoencoder)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

CONTRASTIVE = ("simclr", "byol")
BOTTLENECK = ("autoencoder",)


@dataclass(frozen=True)
class ObjectiveSpec:
    """What an objective needs from the run: method options, image geometry and normalisation."""

    method: str
    size: tuple[int, int]
    channels: int
    mean: tuple
    std: tuple
    orientation: bool = False
    projection_dim: int = 128
    temperature: float = 0.2
    momentum: float = 0.99
    min_scale: float = 0.25
    mask_ratio: float = 0.4
    distributed: bool = False


class Objective(nn.Module):
    """The trainer's ``head`` for a pretraining run (``foveal.deep.trainer.forward_loss``)."""

    def __init__(self, spec: ObjectiveSpec) -> None:
        super().__init__()
        from foveal.learn.views import ContrastiveViews, PretextViews

        self.spec = spec
        self.method = spec.method
        if spec.method in CONTRASTIVE:
            self.views = ContrastiveViews(spec.method, spec.size, spec.mean, spec.std, spec.min_scale, spec.orientation)
        else:
            self.views = PretextViews(spec.method, spec.mean, spec.std, spec.orientation, spec.mask_ratio)
        if spec.method == "simclr":
            from lightly.loss import NTXentLoss

            self.criterion = NTXentLoss(temperature=spec.temperature, gather_distributed=spec.distributed)
        elif spec.method == "byol":
            from lightly.loss import NegativeCosineSimilarity

            self.criterion = NegativeCosineSimilarity()

    def describe(self) -> str:
        return self.views.describe()

    def loss(self, outputs: dict, targets: torch.Tensor) -> torch.Tensor:
        outputs = {k: v.float() for k, v in outputs.items()}
        if self.method == "simclr":
            z = outputs["z"]
            n = len(z) // 2
            return self.criterion(z[:n], z[n:])
        if self.method == "byol":
            p, t = outputs["p"], outputs["target"]
            n = len(p) // 2
            return 0.5 * (self.criterion(p[:n], t[n:]) + self.criterion(p[n:], t[:n]))
        if self.method == "rotation":
            return F.cross_entropy(outputs["logits"], targets)
        image = outputs["image"]
        if self.method == "inpainting":  # targets: the image and, last channel, the mask of hidden pixels
            truth, mask = targets[:, :-1], targets[:, -1:]
            hidden = mask.sum() * truth.shape[1]
            return ((image - truth) ** 2 * mask).sum() / hidden.clamp(min=1.0)
        return F.mse_loss(image, targets)

    def after_update(self, net: nn.Module, progress: float) -> None:
        """BYOL: the target follows the online network, its momentum rising from ``momentum`` to 1 (cosine)."""
        if self.method != "byol":
            return
        base = self.spec.momentum
        momentum = 1 - (1 - base) * (math.cos(math.pi * min(progress, 1.0)) + 1) / 2
        net.update_target(momentum)


def build_network(spec: ObjectiveSpec, backbone: nn.Module) -> nn.Module:
    """The method's network around ``backbone``."""
    from foveal.learn.networks import ProjectedNet, ReconstructionNet, RotationNet

    if spec.method in CONTRASTIVE:
        return ProjectedNet(backbone, spec.projection_dim, byol=spec.method == "byol")
    if spec.method == "rotation":
        return RotationNet(backbone)
    return ReconstructionNet(backbone, spec.channels, spec.size, bottleneck=spec.method in BOTTLENECK)
