"""Optimizers and learning-rate schedules from timm / torch, with a lower backbone learning rate.

Schedules are stepped per optimizer update and are a pure function of the update count,
so a resumed run only needs that count to be back on the same curve.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from foveal.errors import ConfigError

OPTIMIZERS = ("adamw", "adam", "sgd", "rmsprop")
SCHEDULES = ("cosine", "step", "onecycle", "none")


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


class Schedule:
    """The learning rate as a function of the number of optimizer updates so far."""

    def __init__(self, kind: str, optimizer: torch.optim.Optimizer, epochs: int, updates_per_epoch: int,
                 warmup_epochs: float = 0.0) -> None:
        if kind not in SCHEDULES:
            raise ConfigError(f"unknown --schedule {kind!r}", f"use one of {', '.join(SCHEDULES)}")
        if warmup_epochs < 0:
            raise ConfigError(f"--warmup-epochs must not be negative, got {warmup_epochs}", "use 0 to turn it off")
        warmup_epochs = min(warmup_epochs, epochs - 1)  # a warm-up never takes the whole run
        self.kind = kind
        self.total = max(1, epochs * updates_per_epoch)
        self.optimizer = optimizer
        self.impl = self._build(kind, optimizer, epochs, updates_per_epoch, warmup_epochs)

    @staticmethod
    def _build(kind, optimizer, epochs, updates_per_epoch, warmup_epochs):
        if kind == "onecycle":
            max_lr = [g["lr"] for g in optimizer.param_groups]
            pct = warmup_epochs / epochs if warmup_epochs else 0.3
            return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=max(2, epochs * updates_per_epoch),
                                                       pct_start=min(max(pct, 0.01), 0.99))
        if kind == "none" and not warmup_epochs:
            return None
        from timm.scheduler import create_scheduler_v2

        sched = "step" if kind == "none" else kind  # none + warm-up: a step schedule that never decays
        scheduler, _ = create_scheduler_v2(
            optimizer, sched=sched, num_epochs=epochs, warmup_epochs=int(round(warmup_epochs)),
            decay_epochs=max(1, epochs // 3), decay_rate=1.0 if kind == "none" else 0.1,
            min_lr=0.0, warmup_lr=1e-6, step_on_epochs=False, updates_per_epoch=max(1, updates_per_epoch))
        return scheduler

    def step(self, updates: int) -> None:
        """Set every group's learning rate for the update about to happen."""
        if self.impl is None:
            return
        if self.kind == "onecycle":
            self.impl.last_epoch = min(updates, self.impl.total_steps - 1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for group, lr in zip(self.optimizer.param_groups, self.impl.get_lr()):
                    group["lr"] = lr
            return
        self.impl.step_update(num_updates=updates)

    def lr(self) -> float:
        return max(g["lr"] for g in self.optimizer.param_groups)
