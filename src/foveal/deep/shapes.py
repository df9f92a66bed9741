"""Networks whose layers were made narrower (structured pruning): rebuilding them from their weights.

A pruned bundle stores the original architecture's name and the pruned weights; loading builds the
architecture, then resizes every convolution, batch-norm and linear layer to the shapes the weights
have, so ``load_state_dict`` fits exactly.
"""

from __future__ import annotations

from torch import nn


def _conv(old: nn.Conv2d, weight_shape) -> nn.Conv2d:
    out_ch, in_per_group = int(weight_shape[0]), int(weight_shape[1])
    depthwise = old.groups > 1 and old.groups == old.in_channels
    groups = out_ch if depthwise else old.groups
    return nn.Conv2d(in_per_group * groups, out_ch, old.kernel_size, old.stride, old.padding, old.dilation,
                     groups, old.bias is not None, old.padding_mode)


def _norm(old: nn.modules.batchnorm._BatchNorm, n: int):
    return type(old)(n, old.eps, old.momentum, old.affine, old.track_running_stats)


def resized(module: nn.Module, name: str, state: dict, keep_outputs: bool = False) -> nn.Module | None:
    """A copy of ``module`` sized to ``state[name + '.weight']``, or None when it already fits or has no weight there."""
    shape = tuple(state[f"{name}.weight"].shape) if f"{name}.weight" in state else None
    if shape is None or tuple(module.weight.shape) == shape:
        return None
    if isinstance(module, nn.Conv2d):
        return _conv(module, shape)
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return _norm(module, shape[0])
    if isinstance(module, nn.Linear):
        out = module.out_features if keep_outputs else shape[0]
        return nn.Linear(shape[1], out, module.bias is not None)
    return None


def fit_to_state(net: nn.Module, state: dict, keep_classifier_outputs: bool = False) -> nn.Module:
    """Resize ``net``'s layers in place to the shapes in ``state`` (a pruned network's weights).

    ``keep_classifier_outputs`` keeps the classifier's number of outputs (a new head for new labels).
    """
    classifier = net.get_classifier() if hasattr(net, "get_classifier") else None
    for name, module in list(net.named_modules()):
        if not name:
            continue
        new = resized(module, name, state, keep_classifier_outputs and module is classifier)
        if new is not None:
            net.set_submodule(name, new)
    if hasattr(net, "num_features") and classifier is not None:
        fitted = net.get_classifier()
        if isinstance(fitted, nn.Linear):
            net.num_features = fitted.in_features
    return net
