"""The torch module that ``foveal export`` traces: uint8 (n, H, W, C) images → (probabilities, embedding).

Normalisation, the network and the head's probability function are all inside, so the exported
graph needs nothing but decoded images.
"""

from __future__ import annotations

import io
import warnings

import torch
from torch import nn

from foveal.compress.export import DEFAULT_OPSET


class ExportModule(nn.Module):
    """Decoded images in, ``(proba, embedding)`` out, exactly as ``DeepModel`` computes them."""

    def __init__(self, net: nn.Module, head: nn.Module, mean, std) -> None:
        super().__init__()
        self.net = net.eval()
        self.head = head.eval()
        self.register_buffer("scale", 1.0 / (255.0 * torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1)))
        self.register_buffer("shift", (torch.as_tensor(mean, dtype=torch.float32) /
                                       torch.as_tensor(std, dtype=torch.float32)).view(1, -1, 1, 1))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.permute(0, 3, 1, 2).float() * self.scale - self.shift  # (x/255 - mean) / std
        features = self.net.forward_features(x)
        embedding = self.net.forward_head(features, pre_logits=True)
        logits = self.net.forward_head(features)
        return self.head.proba(logits), embedding


def export_onnx(net: nn.Module, head: nn.Module, mean, std, size: tuple[int, int], channels: int,
                opset: int = DEFAULT_OPSET) -> bytes:
    """Serialized ONNX of :class:`ExportModule` with a dynamic batch dimension (TorchScript exporter)."""
    from foveal.bundle.onnx import EMBEDDING, INPUT, PROBA

    module = ExportModule(net.cpu(), head.cpu(), mean, std).eval()
    example = torch.zeros((2, *size, channels), dtype=torch.uint8)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes are not the user's
        torch.onnx.export(module, (example,), buffer, dynamo=False, opset_version=opset,
                          input_names=[INPUT], output_names=[PROBA, EMBEDDING],
                          dynamic_axes={INPUT: {0: "batch"}, PROBA: {0: "batch"}, EMBEDDING: {0: "batch"}},
                          do_constant_folding=True)
    return buffer.getvalue()
