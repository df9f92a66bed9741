"""Attribution maps for deep bundles, computed with captum on the bundle's differentiable view.

Every method returns non-negative (n, H, W) float32 maps at the model's input size; larger means
"more evidence for the target":

- ``gradcam`` — captum's ``LayerGradCam`` on the view's target layer (ReLU of the gradient-weighted
  activations), upsampled; for ViT blocks the token gradients and activations (captum's layer
  gradient and activation) are laid out on the patch grid first;
- ``gradcam++`` — Chattopadhay et al. (2018): the same layer gradients and activations, with
  pixel-wise weights α = g² / (2g² + ΣA·g³);
- ``integrated-gradients`` — captum's ``IntegratedGradients`` from a black image, summed over
  channels, positive part;
- ``saliency`` — captum's ``Saliency`` (|∂score/∂pixel|), maximum over channels;
- ``occlusion`` — captum's ``Occlusion``: the score drop when a window is filled with the image's
  mean, positive part (also used, through ``predict_proba``, for classical bundles);
- ``attention`` — attention rollout (``foveal.explain.rollout``) for vision transformers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BATCH = 32
IG_STEPS = 32


class NodeScores(nn.Module):
    """Scores over a label tree's nodes: log-sum-exp of the leaf log-probabilities below each node."""

    def __init__(self, module: nn.Module, members: np.ndarray) -> None:
        super().__init__()
        self.module = module
        mask = torch.where(torch.as_tensor(members), 0.0, float("-inf"))
        self.register_buffer("log_mask", mask, persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        leaves = self.module(images)
        return torch.logsumexp(leaves[:, None, :] + self.log_mask[None], dim=2)


def _upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(n, h, w) or (n, 1, h, w) → (n, H, W), bilinear."""
    maps = maps if maps.ndim == 4 else maps[:, None]
    return F.interpolate(maps.float(), size=size, mode="bilinear", align_corners=False)[:, 0]


def _layer_grads_acts(forward, layer, x, targets):
    """The target layer's gradients and activations, each (n, C, h, w), via captum."""
    from captum.attr import LayerActivation, LayerGradientXActivation

    grads = LayerGradientXActivation(forward, layer.module, multiply_by_inputs=False).attribute(x, target=targets)
    acts = LayerActivation(forward, layer.module).attribute(x)
    return layer.to_map(grads.detach()), layer.to_map(acts.detach())


def gradcam(forward, layer, x, targets) -> torch.Tensor:
    if not layer.tokens:
        from captum.attr import LayerGradCam

        cam = LayerGradCam(forward, layer.module).attribute(x, target=targets, relu_attributions=True)
        return _upsample(cam.detach(), x.shape[-2:])
    grads, acts = _layer_grads_acts(forward, layer, x, targets)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    return _upsample(F.relu((weights * acts).sum(dim=1)), x.shape[-2:])


def gradcam_pp(forward, layer, x, targets) -> torch.Tensor:
    grads, acts = _layer_grads_acts(forward, layer, x, targets)
    g2, g3 = grads.pow(2), grads.pow(3)
    denominator = 2 * g2 + acts.sum(dim=(2, 3), keepdim=True) * g3
    alpha = torch.where(grads != 0, g2 / torch.where(denominator != 0, denominator, torch.ones_like(denominator)),
                        torch.zeros_like(grads))
    weights = (alpha * F.relu(grads)).sum(dim=(2, 3), keepdim=True)
    return _upsample(F.relu((weights * acts).sum(dim=1)), x.shape[-2:])


def integrated_gradients(forward, layer, x, targets) -> torch.Tensor:
    from captum.attr import IntegratedGradients

    attr = IntegratedGradients(forward).attribute(x, baselines=torch.zeros_like(x), target=targets,
                                                  n_steps=IG_STEPS, internal_batch_size=len(x) * 8)
    return F.relu(attr.detach().sum(dim=1))


def saliency(forward, layer, x, targets) -> torch.Tensor:
    from captum.attr import Saliency

    return Saliency(forward).attribute(x, target=targets, abs=True).detach().amax(dim=1)


def occlusion(forward, layer, x, targets) -> torch.Tensor:
    """The score drop when a window (about an eighth of the side, half-overlapping) is filled with
    the image's mean; ``forward`` may be any callable on float image tensors."""
    from captum.attr import Occlusion

    _, channels, h, w = x.shape
    k = max(2, round(min(h, w) / 8))
    stride = max(1, k // 2)
    baseline = x.mean(dim=(1, 2, 3), keepdim=True).expand_as(x).contiguous()
    with torch.no_grad():
        attr = Occlusion(forward).attribute(x, sliding_window_shapes=(channels, k, k), strides=(channels, stride, stride),
                                            baselines=baseline, target=targets, perturbations_per_eval=16)
    return F.relu(attr.detach().mean(dim=1))


def attention(forward, layer, x, targets) -> torch.Tensor:
    from foveal.explain.rollout import attention_rollout

    return _upsample(attention_rollout(forward, layer, x), x.shape[-2:])


METHODS: dict[str, Callable] = {
    "gradcam": gradcam,
    "gradcam++": gradcam_pp,
    "integrated-gradients": integrated_gradients,
    "saliency": saliency,
    "occlusion": occlusion,
    "attention": attention,
}
ALIASES = {"grad-cam": "gradcam", "gradcampp": "gradcam++", "grad-cam++": "gradcam++", "ig": "integrated-gradients",
           "integrated_gradients": "integrated-gradients", "attention-rollout": "attention", "rollout": "attention"}


def attribute(forward, layer, images: torch.Tensor, targets: torch.Tensor, method: str,
              batch: int = BATCH) -> np.ndarray:
    """Maps (n, H, W) float32 ≥ 0 for float images (n, C, H, W) in [0, 1] and target indices (n,)."""
    fn = METHODS[method]
    out = []
    for start in range(0, len(images), batch):
        x = images[start:start + batch].detach().clone().requires_grad_(method != "occlusion")
        t = targets[start:start + batch]
        out.append(fn(forward, layer, x, t).float().cpu())
    return torch.cat(out).numpy().astype(np.float32) if out else np.zeros((0, *images.shape[-2:]), np.float32)
