"""Training criteria: cross-entropy / BCE from torch and timm, focal loss, automatic class weights."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn



class FocalLoss(nn.Module):
    """Softmax focal loss (Lin et al. 2017): cross-entropy scaled by ``(1 - p_true) ** gamma``."""

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None, smoothing: float = 0.0) -> None:
        super().__init__()
        self.gamma = gamma
        self.smoothing = smoothing
        self.register_buffer("weight", weight if weight is not None else None, persistent=False)

    def per_sample(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(logits, target, weight=self.weight, reduction="none", label_smoothing=self.smoothing)
        p_true = torch.exp(-F.cross_entropy(logits, target, reduction="none")).detach()
        return (1.0 - p_true) ** self.gamma * ce

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        focal = self.per_sample(logits, target)
        if self.weight is None:
            return focal.mean()
        return focal.sum() / self.weight[target].sum()  # as weighted cross-entropy averages


class SigmoidFocalLoss(nn.Module):
    """Multi-label focal loss (torchvision's ``sigmoid_focal_loss``), averaged over labels and samples."""

    def __init__(self, gamma: float = 2.0) -> None:
        super().__init__()
        self.gamma = gamma

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        from torchvision.ops import sigmoid_focal_loss

        return sigmoid_focal_loss(logits, target.to(logits.dtype), alpha=-1, gamma=self.gamma, reduction="mean")


def auto_class_weights(targets: np.ndarray, n_classes: int, multilabel: bool) -> torch.Tensor:
    """Weights from label frequencies (timm's ``compute_class_weights``).

    Single-label: class weights ∝ 1 / frequency (mean 1). Multi-label: BCE positive weights
    negatives / positives per label, capped at 50.
    """
    from timm.loss import compute_class_weights

    if multilabel:
        counts = targets.sum(axis=0)
        return compute_class_weights(counts.tolist(), len(targets), "neg_pos", max_weight=50.0)[1]
    counts = np.bincount(targets, minlength=n_classes)
    return compute_class_weights(counts.tolist(), len(targets), "inv_freq", max_weight=50.0)[1]


def single_label_criterion(loss: str, weight: torch.Tensor | None, smoothing: float, soft_targets: bool) -> nn.Module:
    """The criterion for softmax heads; soft targets come from Mixup/CutMix (smoothing already applied)."""
    if soft_targets:
        from timm.loss import SoftTargetCrossEntropy

        return SoftTargetCrossEntropy()
    if loss == "focal":
        return FocalLoss(weight=weight, smoothing=smoothing)
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=smoothing)


def multilabel_criterion(loss: str, pos_weight: torch.Tensor | None) -> nn.Module:
    if loss == "focal":
        return SigmoidFocalLoss()
    from timm.loss import create_classification_loss

    return create_classification_loss("bce", multi_label=True, pos_weight=pos_weight)


def per_sample_loss(criterion: nn.Module, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The (n,) losses ``criterion`` averages (one per sample; multi-label: the mean over labels)."""
    if isinstance(criterion, FocalLoss):
        return criterion.per_sample(logits, target)
    if isinstance(criterion, SigmoidFocalLoss):
        from torchvision.ops import sigmoid_focal_loss

        return sigmoid_focal_loss(logits, target.to(logits.dtype), alpha=-1, gamma=criterion.gamma,
                                  reduction="none").mean(dim=1)
    if isinstance(criterion, nn.CrossEntropyLoss):
        return F.cross_entropy(logits, target, weight=criterion.weight, reduction="none",
                               label_smoothing=criterion.label_smoothing)
    if target.shape == logits.shape and hasattr(criterion, "pos_weight"):  # BCE (timm's or torch's)
        return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype), getattr(criterion, "weight", None),
                                                  pos_weight=criterion.pos_weight, reduction="none").mean(dim=1)
    if target.shape == logits.shape:  # soft targets from Mixup / CutMix
        return torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1)
    raise TypeError(f"no per-sample form of {type(criterion).__name__}")


def weighted_mean(losses: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Σ wᵢ·ℓᵢ / Σ wᵢ: per-sample weights (``--reweight``) applied to per-sample losses."""
    weight = weight.to(losses.device, losses.dtype)
    return (losses * weight).sum() / weight.sum().clamp_min(1e-12)
