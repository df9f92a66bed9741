"""The one batched inference path for deep models: uint8 images in, logits or embeddings out.

The trainer's per-epoch validation and the bundle's ``Predictor`` both call it, so they share
normalisation, autocast, memory format and device handling.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from foveal.deep.batches import normalize

DEFAULT_BATCH = 256


@dataclass(frozen=True)
class InputSpec:
    """How uint8 images become network input: normalisation, device, precision, layout."""

    mean: torch.Tensor
    std: torch.Tensor
    device: torch.device = torch.device("cpu")
    amp_dtype: torch.dtype | None = None
    channels_last: bool = False

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (n, C, H, W) → normalised float input on the device."""
        x = normalize(images.float().div_(255.0), self.mean, self.std).to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)


def as_nchw(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (n, H, W, C) arrays (decoded images) or (n, C, H, W) tensors as an NCHW uint8 tensor."""
    if isinstance(images, torch.Tensor):
        return images
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)


def _batched(fn, images, spec: InputSpec, batch_size: int) -> torch.Tensor:
    tensor = as_nchw(images)
    out = []
    with torch.inference_mode(), spec.autocast():
        for start in range(0, len(tensor), batch_size):
            out.append(fn(spec.prepare(tensor[start:start + batch_size])).float().cpu())
    return torch.cat(out) if out else torch.zeros(0)


def predict_logits(net: nn.Module, images, spec: InputSpec, batch_size: int = DEFAULT_BATCH) -> torch.Tensor:
    """Logits (n, outputs) with the network in eval mode, batched, without gradients."""
    net.eval()
    logits = _batched(net, images, spec, batch_size)
    return logits if len(logits) else torch.zeros(0, num_outputs(net))


def embed(net: nn.Module, images, spec: InputSpec, batch_size: int = DEFAULT_BATCH) -> torch.Tensor:
    """Pre-logit features (n, d): ``forward_head(forward_features(x), pre_logits=True)`` as timm defines them."""
    net.eval()

    def features(x: torch.Tensor) -> torch.Tensor:
        return net.forward_head(net.forward_features(x), pre_logits=True)

    out = _batched(features, images, spec, batch_size)
    return out if len(out) else torch.zeros(0, int(getattr(net, "num_features", 0)))


def num_outputs(net: nn.Module) -> int:
    head = net.get_classifier()
    return int(getattr(head, "out_features", getattr(net, "num_classes", 0)))
