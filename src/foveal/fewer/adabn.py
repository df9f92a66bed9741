"""AdaBN (Li et al., 2016): after training, every batch-norm layer's running statistics are
re-estimated on the target domain's images, so the network normalises target features with target
statistics. The weights are unchanged; the bundle is then for the target domain."""

from __future__ import annotations

import torch
from torch import nn

from foveal.deep.inference import InputSpec

ADABN_BATCH = 256


def batch_norms(net: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


def has_batch_norm(net: nn.Module) -> bool:
    return bool(batch_norms(net))


@torch.no_grad()
def adapt_batch_norm(net: nn.Module, images: torch.Tensor, spec: InputSpec, batch_size: int = ADABN_BATCH) -> int:
    """Replace the running mean / variance of every batch-norm layer with the target images' statistics
    (a cumulative average over all of ``images``, uint8 n, C, H, W); returns the number of layers."""
    layers = batch_norms(net)
    saved = [(m, m.momentum) for m in layers]
    net.eval()
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every batch counts equally
        m.train()
    try:
        with spec.autocast():
            for start in range(0, len(images), batch_size):
                chunk = images[start:start + batch_size]
                if len(chunk) > 1:
                    net(spec.prepare(chunk))
    finally:
        for m, momentum in saved:
            m.momentum = momentum
        net.eval()
    return len(layers)
