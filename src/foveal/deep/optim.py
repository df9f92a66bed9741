"""Optimizers and learning-rate schedules from timm / torch, with a lower backbone learning rate.

Schedules are stepped per optimizer update and are a pure function of the update count,
so a resumed run only needs that count to be back on the same curve.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from foveal.config import OPTIMIZERS, SCHEDULES
from foveal.errors import ConfigError



def classifier_names(model: nn.Module) -> set[str]:
    """Parameter names of the model's classifier layer (timm's ``get_classifier``)."""
    head = model.get_classifier()
    ids = {id(p) for p in head.parameters()}
    return {name for name, p in model.named_parameters() if id(p) in ids}


def param_groups(model: nn.Module, lr: float, weight_decay: float, backbone_lr_scale: float = 1.0) -> list[dict]:
    """Backbone / classifier × decay / no-decay groups (biases and norm weights are not decayed)."""
    head = classifier_names(model)
    groups: dict[tuple[bool, bool], list] = {}
    for name, p in model.named_parameters():
        key = (name in head, p.ndim > 1)
        groups.setdefault(key, []).append(p)
    out = []
    for (is_head, decay), params in sorted(groups.items()):
        out.append({"params": params, "lr": lr if is_head else lr * backbone_lr_scale,
                    "weight_decay": weight_decay if decay else 0.0, "foveal_group": "head" if is_head else "backbone"})
    return out


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float,
                   backbone_lr_scale: float = 1.0) -> torch.optim.Optimizer:
    """``timm.optim.create_optimizer_v2`` over foveal's parameter groups."""
    from timm.optim import create_optimizer_v2

    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown --optimizer {name!r}", f"use one of {', '.join(OPTIMIZERS)}")
    if not lr > 0:
        raise ConfigError(f"--lr must be positive, got {lr}", "use e.g. --lr 1e-3")
    groups = param_groups(model, lr, weight_decay, backbone_lr_scale)
    return create_optimizer_v2(groups, opt=name, lr=lr, weight_decay=weight_decay, momentum=0.9)


MAX_WARMUP_SHARE = 0.2  # a warm-up never takes more than a fifth of the run


def warmup_updates(warmup_epochs: float, updates_per_epoch: int, total: int) -> int:
    """Warm-up length in optimizer updates: ``warmup_epochs`` worth, but at most a fifth of the run,
    so short runs (few images, few epochs) still spend most of their updates at full rate."""
    return int(min(round(warmup_epochs * updates_per_epoch), MAX_WARMUP_SHARE * total))


class Schedule:
    """The learning rate as a function of the number of optimizer updates so far.

    timm's schedulers counted in updates (``t_in_epochs=False``), so warm-up and decay are
    defined per update and a resumed run only needs the update count to be back on the curve.
    """

    def __init__(self, kind: str, optimizer: torch.optim.Optimizer, epochs: int, updates_per_epoch: int,
                 warmup_epochs: float = 0.0) -> None:
        if kind not in SCHEDULES:
            raise ConfigError(f"unknown --schedule {kind!r}", f"use one of {', '.join(SCHEDULES)}")
        if warmup_epochs < 0:
            raise ConfigError(f"--warmup-epochs must not be negative, got {warmup_epochs}", "use 0 to turn it off")
        self.kind = kind
        self.total = max(1, epochs * max(1, updates_per_epoch))
        self.warmup = warmup_updates(warmup_epochs, max(1, updates_per_epoch), self.total)
        self.optimizer = optimizer
        self.impl = self._build(kind, optimizer, self.total, self.warmup)

    @staticmethod
    def _build(kind, optimizer, total: int, warmup: int):
        if kind == "onecycle" and total >= 4:  # shorter runs have no room for its two phases: cosine below
            max_lr = [g["lr"] for g in optimizer.param_groups]
            pct = warmup / total if warmup else 0.3
            edge = 1.5 / total  # each phase must span at least one update
            return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total,
                                                       pct_start=min(max(pct, edge), 1 - edge))
        if kind == "none" and not warmup:
            return None
        from timm.scheduler import CosineLRScheduler, StepLRScheduler

        common = {"warmup_t": warmup, "warmup_lr_init": 1e-6, "t_in_epochs": False}
        if kind in ("cosine", "onecycle"):  # the cosine starts at the peak once the warm-up is over
            return CosineLRScheduler(optimizer, t_initial=max(1, total - warmup), lr_min=0.0, warmup_prefix=True,
                                     **common)
        decay = max(1, total // 3) if kind == "step" else total + 1  # none + warm-up: never decays
        return StepLRScheduler(optimizer, decay_t=decay, decay_rate=0.1 if kind == "step" else 1.0, **common)

    def step(self, updates: int) -> None:
        """Set every group's learning rate for the update about to happen."""
        if self.impl is None:
            return
        if isinstance(self.impl, torch.optim.lr_scheduler.OneCycleLR):
            self.impl.last_epoch = min(updates, self.impl.total_steps - 1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for group, lr in zip(self.optimizer.param_groups, self.impl.get_lr()):
                    group["lr"] = lr
            return
        self.impl.step_update(num_updates=updates)

    def lr(self) -> float:
        return max(g["lr"] for g in self.optimizer.param_groups)
