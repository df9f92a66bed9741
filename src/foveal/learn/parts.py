"""The trainer's :class:`~foveal.deep.setup.Parts` for a pretraining run: the method's network around
a backbone, the objective as the head, its views as the batch hook, and the usual optimizer,
schedule, AMP and generator (``foveal.deep.setup`` builds the same pieces for supervised runs)."""

from __future__ import annotations

import torch

from foveal.config import TrainConfig


def build_backbone(arch: str, channels: int, size: tuple[int, int], args: dict | None = None):
    """``arch`` without a classifier (timm's ``num_classes=0``), freshly initialised; and its timm arguments."""
    from foveal.deep.models import build_model, timm_args

    args = dict(args) if args is not None else timm_args(arch, size, 0.0)
    return build_model(arch, channels, 0, args), args


def build_pretrain_parts(cfg: TrainConfig, data, ctx):
    from foveal.deep.batches import channel_stats
    from foveal.deep.optim import Schedule, make_optimizer
    from foveal.deep.setup import Parts, amp_dtype, updates_per_epoch
    from foveal.learn.objectives import Objective, ObjectiveSpec, build_network

    images, prep = data.train.loaded.images, data.prep
    mean, std = channel_stats(images)
    orientation = bool(getattr(data.ds, "orientation_sensitive", False))
    spec = ObjectiveSpec(method=cfg.method, size=tuple(prep.size), channels=prep.channels, mean=tuple(mean),
                         std=tuple(std), orientation=orientation, projection_dim=cfg.projection_dim,
                         temperature=cfg.temperature, momentum=cfg.momentum, min_scale=cfg.min_scale,
                         mask_ratio=cfg.mask_ratio, distributed=ctx.enabled)
    backbone, args = build_backbone(cfg.model, prep.channels, tuple(prep.size))
    net = build_network(spec, backbone)
    net = net.to(ctx.device, memory_format=torch.channels_last if cfg.channels_last else torch.preserve_format)
    objective = Objective(spec).to(ctx.device)
    optimizer = make_optimizer(net, cfg.optimizer, cfg.lr, cfg.weight_decay)
    per_epoch = updates_per_epoch(cfg, len(data.train.loaded.kept), ctx.world, False)
    schedule = Schedule(cfg.schedule, optimizer, cfg.epochs, per_epoch, cfg.warmup_epochs)
    schedule.step(0)
    dtype = amp_dtype(cfg, ctx.device)
    model_spec = {"family": "deep", "architecture": cfg.model, "in_chans": prep.channels, "num_outputs": 0,
                  "timm_args": args, "method": cfg.method}
    return Parts(net=net, head=objective, optimizer=optimizer, schedule=schedule, ctx=ctx,
                 scaler=torch.amp.GradScaler(ctx.device.type, enabled=dtype == torch.float16),
                 augment=objective.views, gen=torch.Generator().manual_seed(cfg.seed + 1),
                 mean=torch.tensor(mean), std=torch.tensor(std), device=ctx.device, spec=model_spec,
                 amp_dtype=dtype, compile=cfg.compile, views=objective.views, after_update=objective.after_update)
