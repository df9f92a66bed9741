"""A deep bundle's differentiable view, for attribution methods (Grad-CAM, integrated gradients, …).

``ScoreModule`` maps float images in [0, 1] (n, C, H, W) — the decoded, resized image before
normalisation — to per-class scores in the task's class order; ``default_target_layer`` names
the layer a class-activation map should hook: the last convolutional stage of a CNN, or the
last transformer block of a ViT (whose tokens ``TargetLayer.to_map`` lays out as a grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from foveal.deep.batches import normalize


class ScoreModule(nn.Module):
    """Images in [0, 1] → scores: logits (softmax and sigmoid heads) or leaf log-probabilities
    (hierarchical heads); calibration is not applied (it never changes the ranking)."""

    def __init__(self, net: nn.Module, head: nn.Module, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.head = head
        self.register_buffer("mean", mean.detach().clone().float(), persistent=False)
        self.register_buffer("std", std.detach().clone().float(), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head.scores(self.net(normalize(images, self.mean, self.std)))


@dataclass
class TargetLayer:
    """The layer whose activations a class-activation map uses.

    ``tokens`` layers emit (n, prefix + h·w, C) sequences; ``to_map`` turns any activation (or
    gradient) of this layer into (n, C, h, w).
    """

    module: nn.Module
    name: str
    tokens: bool = False
    prefix_tokens: int = 0
    grid: tuple[int, int] | None = None

    def to_map(self, activation: torch.Tensor) -> torch.Tensor:
        if not self.tokens:
            return activation
        x = activation[:, self.prefix_tokens:, :]
        h, w = self.grid
        return x.reshape(x.shape[0], h, w, x.shape[-1]).permute(0, 3, 1, 2)


@dataclass
class DifferentiableView:
    """What attribution code needs from a deep bundle, without touching private classes."""

    module: ScoreModule
    target_layer: TargetLayer
    size: tuple[int, int]
    channels: int
    classes: list[str]


def _feature_info_name(net: nn.Module) -> str | None:
    info = getattr(net, "feature_info", None)
    try:
        last = info[-1] if info is not None else None
    except (TypeError, IndexError):
        return None
    return last.get("module") if isinstance(last, dict) else None


def _last_conv_name(net: nn.Module) -> str | None:
    names = [name for name, m in net.named_modules() if isinstance(m, nn.Conv2d)]
    return names[-1] if names else None


def default_target_layer(net: nn.Module) -> TargetLayer:
    """The last stage timm's ``feature_info`` names (a ViT's last block), else the last convolution."""
    name = _feature_info_name(net) or _last_conv_name(net)
    if name is None:
        raise ValueError(f"{type(net).__name__} has neither feature_info nor a convolution to attribute to")
    module = net.get_submodule(name)
    patch = getattr(net, "patch_embed", None)
    if patch is not None and hasattr(net, "num_prefix_tokens") and getattr(patch, "grid_size", None):
        grid = tuple(int(g) for g in patch.grid_size)
        return TargetLayer(module, name, tokens=True, prefix_tokens=int(net.num_prefix_tokens), grid=grid)
    return TargetLayer(module, name)
