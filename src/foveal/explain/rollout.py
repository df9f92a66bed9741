"""Attention rollout (Abnar & Zuidema, 2020): how much each patch feeds the class token, through
every layer of a vision transformer.

Each block's attention is recomputed from its ``qkv`` projection (so fused attention kernels, which
never materialise the matrix, work too), averaged over heads, mixed half-and-half with the identity
for the residual path, row-normalised, and multiplied through the layers. The class token's row
(the mean row for models without one) laid out on the patch grid is the map.
"""

from __future__ import annotations

import torch
from torch import nn

from foveal.errors import BundleError


def attention_blocks(module: nn.Module) -> list[nn.Module]:
    """The self-attention modules (timm's ``Attention``: a ``qkv`` projection and ``num_heads``), in order."""
    return [m for m in module.modules() if isinstance(getattr(m, "qkv", None), nn.Linear) and hasattr(m, "num_heads")]


def _attention_of(block: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """(n, N, N) head-averaged attention of ``block`` on its input ``tokens`` (n, N, C)."""
    n, count, _ = tokens.shape
    qkv = block.qkv(tokens).reshape(n, count, 3, block.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k = qkv[0], qkv[1]
    q, k = getattr(block, "q_norm", nn.Identity())(q), getattr(block, "k_norm", nn.Identity())(k)
    scale = getattr(block, "scale", q.shape[-1] ** -0.5)
    return ((q * scale) @ k.transpose(-2, -1)).softmax(dim=-1).mean(dim=1)


def attention_rollout(forward: nn.Module, layer, images: torch.Tensor) -> torch.Tensor:
    """(n, h, w) rollout maps on the patch grid of ``layer`` (a token :class:`TargetLayer`)."""
    blocks = attention_blocks(forward)
    if not blocks or not getattr(layer, "tokens", False):
        raise BundleError("attention maps need a vision-transformer bundle (a model made of attention blocks)",
                          "use --method gradcam, integrated-gradients, saliency or occlusion")
    found: list[torch.Tensor] = []

    def hook(block, inputs, output):
        found.append(_attention_of(block, inputs[0]))

    handles = [b.register_forward_hook(hook) for b in blocks]
    try:
        with torch.no_grad():
            forward(images.detach())
    finally:
        for handle in handles:
            handle.remove()
    eye = torch.eye(found[0].shape[-1])
    rollout = eye.expand_as(found[0])
    for attn in found:
        mixed = 0.5 * attn + 0.5 * eye
        rollout = (mixed / mixed.sum(dim=-1, keepdim=True)) @ rollout
    prefix = layer.prefix_tokens
    scores = rollout[:, 0, prefix:] if prefix else rollout.mean(dim=1)
    h, w = layer.grid
    return scores.reshape(len(images), h, w)
