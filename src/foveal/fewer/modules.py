"""The torch pieces: the training wrapper that also returns pre-logit features, gradient reversal,
DANN's domain classifier, the CORAL loss, and the head wrapper whose state rides in checkpoints."""

from __future__ import annotations

import torch
from torch import nn


class Twin(nn.Module):
    """``net`` returning (logits, pre-logit features or None, domain logits or None) in one forward, so
    DDP wraps (and synchronises) the network and DANN's domain classifier together."""

    def __init__(self, net: nn.Module, domain: nn.Module | None = None, features: bool = False) -> None:
        super().__init__()
        self.net, self.domain, self.features = net, domain, features

    def forward(self, x: torch.Tensor, reverse: float = 0.0):
        if not self.features:
            return self.net(x), None, None
        feats = self.net.forward_head(self.net.forward_features(x), pre_logits=True)
        logits = self.net.get_classifier()(feats)
        domain = self.domain(reverse_gradient(feats, reverse)) if self.domain is not None else None
        return logits, feats, domain


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Identity forward; the gradient multiplied by ``-scale`` backward (DANN's gradient reversal layer)."""
    return _Reverse.apply(x, scale)


def domain_classifier(features: int, hidden: int = 64) -> nn.Module:
    """A small MLP on pre-logit features: source (0) or target (1)."""
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))


def coral_loss(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Deep CORAL: squared Frobenius distance of the feature covariances, / 4d²."""
    d = source.shape[1]

    def cov(x: torch.Tensor) -> torch.Tensor:
        x = x - x.mean(dim=0, keepdim=True)
        return x.T @ x / max(len(x) - 1, 1)

    return (cov(source.float()) - cov(target.float())).pow(2).sum() / (4 * d * d)


def dann_lambda(progress: float) -> float:
    """The usual ramp of the reversal strength from 0 to 1 over training: 2 / (1 + e^(-10 p)) − 1."""
    import math

    return 2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0


class FewerHead(nn.Module):
    """The run's head plus the domain classifier and counters (seen / accepted pseudo-labels), so
    checkpoints carry them; everything else is the inner head's."""

    def __init__(self, inner: nn.Module, domain: nn.Module | None = None) -> None:
        super().__init__()
        self.inner, self.domain = inner, domain
        self.register_buffer("counts", torch.zeros(2, dtype=torch.float64))  # unlabelled seen, accepted

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["inner"], name)
