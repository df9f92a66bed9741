"""Building the parts of a training run from its config: network, head, optimizer, schedule,
EMA, AMP, augmentation, Mixup. Each part comes from torch / timm; this module only wires them."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from foveal.config import TrainConfig
from foveal.data.task import Task
from foveal.deep.distributed import DistContext
from foveal.errors import ConfigError

@dataclass
class Parts:
    """The live objects of a training run."""

    net: nn.Module
    head: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: object
    scaler: torch.amp.GradScaler
    augment: object
    gen: torch.Generator
    mean: torch.Tensor
    std: torch.Tensor
    device: torch.device
    spec: dict
    ctx: DistContext
    ema: object | None = None
    mixup: object | None = None
    amp_dtype: torch.dtype | None = None
    sample_weights: torch.Tensor | None = None
    compile: bool = False
    transfer: dict = field(default_factory=dict)
    train_net: nn.Module | None = None
    _wrapped_frozen: bool | None = None
    # self-supervised runs (foveal.learn): ``views(images uint8 NCHW, gen) -> (inputs, targets)`` replaces
    # augmentation + normalisation + Mixup; ``after_update(net, progress 0..1)`` runs after every update
    views: Callable | None = None
    after_update: Callable | None = None
    # ``objective(loop, x, y, weight, step) -> loss`` replaces the forward + supervised loss of batch ``step`` of
    # epoch ``loop.state.epoch`` (foveal.fewer: adds a term on unlabelled images drawn for that step)
    objective: Callable | None = None

    def inputs(self, channels_last: bool = False):
        """How this run turns uint8 batches into network input (shared with the bundle's predictor)."""
        from foveal.deep.inference import InputSpec

        return InputSpec(self.mean, self.std, self.device, self.amp_dtype, channels_last)

    @property
    def eval_net(self) -> nn.Module:
        """The weights that are validated and shipped: the EMA copy when ``--ema`` is on."""
        return self.ema.module if self.ema is not None else self.net

    def rewrap(self, frozen: bool) -> None:
        """(Re)build the training wrapper: DDP over the trainable parameters, then ``torch.compile``."""
        if self.train_net is not None and frozen == self._wrapped_frozen:
            return
        net = self.net
        if self.ctx.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            net = DistributedDataParallel(net, device_ids=ids)
        self.train_net = torch.compile(net) if self.compile else net
        self._wrapped_frozen = frozen


def check_combinations(cfg: TrainConfig, task: Task) -> None:
    """Refuse option combinations that cannot work for ``task`` (values and ranges are checked in
    ``foveal.config``), with the fix."""
    if (cfg.mixup or cfg.cutmix) and task.type not in ("binary", "multiclass"):
        raise ConfigError(f"--mixup / --cutmix work for single-label tasks, not {task.type}", "drop them")
    if (cfg.mixup or cfg.cutmix) and cfg.loss == "focal":
        raise ConfigError("--loss focal cannot take Mixup/CutMix soft targets", "drop --mixup/--cutmix or use --loss ce")
    if cfg.hierarchical_softmax and task.type != "hierarchical":
        raise ConfigError(f"--hierarchical-softmax needs a hierarchical task, this one is {task.type}",
                          "drop the flag, or use nested class folders / a/b/c labels")
    if cfg.class_weights == "auto" and task.type == "hierarchical":
        raise ConfigError("--class-weights auto is not available for hierarchical tasks", "use --sampler balanced instead")


@contextlib.contextmanager
def torch_threads(n: int):
    """``--workers N``: torch's CPU threads for the block (0 leaves torch's default), restored after."""
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def amp_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    """bf16 where the device has it (CPUs, recent GPUs), else fp16 with loss scaling."""
    if not cfg.amp:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16


def loss_options(cfg: TrainConfig, task: Task, targets: np.ndarray):
    from foveal.deep.heads import LossOptions
    from foveal.deep.losses import auto_class_weights

    weight = None
    if cfg.class_weights == "auto":
        weight = auto_class_weights(targets, task.n_classes, task.type == "multilabel")
    return LossOptions(loss=cfg.loss, smoothing=cfg.label_smoothing if not (cfg.mixup or cfg.cutmix) else 0.0,
                       soft_targets=bool(cfg.mixup or cfg.cutmix), weight=weight)


def make_mixup(cfg: TrainConfig, task: Task):
    if not (cfg.mixup or cfg.cutmix):
        return None
    from timm.data import Mixup

    return Mixup(mixup_alpha=cfg.mixup, cutmix_alpha=cfg.cutmix, label_smoothing=cfg.label_smoothing,
                 num_classes=task.n_classes)


def make_ema(cfg: TrainConfig, net: nn.Module):
    if not cfg.ema:
        return None
    from timm.utils import ModelEmaV3

    return ModelEmaV3(net, decay=cfg.ema_decay, use_warmup=True)


def updates_per_epoch(cfg: TrainConfig, n_train: int, world: int, even: bool) -> int:
    from foveal.deep.batches import batch_slices

    shard = -(-n_train // world)
    n_batches = len(batch_slices(torch.arange(shard), cfg.batch_size, even))
    return max(1, math.ceil(n_batches / cfg.accumulate))


def build_network(cfg: TrainConfig, task: Task, images: np.ndarray, head: nn.Module, parent: dict | None):
    """The network and its spec; ``parent`` is an ``--init-from`` bundle's (spec, weights)."""
    from foveal.deep.models import build_model, timm_args

    _, h, w, channels = images.shape
    arch = parent["spec"]["architecture"] if parent else cfg.model
    args = dict(parent["spec"]["timm_args"]) if parent else timm_args(arch, (h, w), cfg.dropout)
    net = build_model(arch, channels, head.n_outputs, args)
    spec = {"family": "deep", "architecture": arch, "in_chans": channels, "num_outputs": head.n_outputs,
            "timm_args": args}
    if parent and parent["spec"].get("pruned"):  # keep a pruned parent's narrower layers
        from foveal.deep.shapes import fit_to_state

        fit_to_state(net, parent["weights"], keep_classifier_outputs=True)
        spec["pruned"] = parent["spec"]["pruned"]
    return net, spec


def initial_weights(cfg: TrainConfig, net: nn.Module, parent: dict | None) -> dict:
    """Load ``--pretrained`` or the ``--init-from`` bundle's weights; the report lists what did not fit."""
    from foveal.deep.transfer import load_pretrained, match_state

    if cfg.pretrained:
        return {"source": str(cfg.pretrained), **load_pretrained(net, cfg.pretrained)}
    if parent:
        matched, report = match_state(net, parent["weights"])
        net.load_state_dict(matched, strict=False)
        return {"source": str(cfg.init_from), **report}
    return {}


def build_parts(cfg: TrainConfig, task: Task, images: np.ndarray, targets: np.ndarray, ctx: DistContext,
                parent: dict | None = None, mean_std: tuple[list, list] | None = None,
                augment: tuple[dict, bool] = ({}, False)) -> Parts:
    """Everything a run needs, from ``cfg``, the training targets and the training images
    (n, H, W, C) uint8 — or a sample of them for shapes and statistics (``--cache none``).

    ``augment`` is (the options that override the preset, whether the data is orientation-sensitive)."""
    from foveal.deep.augment import make_augment
    from foveal.deep.batches import channel_stats, sample_weights
    from foveal.deep.heads import head_spec, make_head
    from foveal.deep.optim import Schedule, make_optimizer

    check_combinations(cfg, task)
    head = make_head(task, loss_options(cfg, task, targets), cfg.hierarchical_softmax).to(ctx.device)
    net, spec = build_network(cfg, task, images, head, parent)
    spec["head"] = head_spec(task, cfg.hierarchical_softmax)
    transfer = initial_weights(cfg, net, parent)
    net = net.to(ctx.device, memory_format=torch.channels_last if cfg.channels_last else torch.preserve_format)
    mean, std = mean_std or (parent["mean_std"] if parent else channel_stats(images))
    lower = cfg.pretrained or parent or cfg.unfreeze_after
    optimizer = make_optimizer(net, cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.backbone_lr_scale if lower else 1.0)
    mixup = make_mixup(cfg, task)
    per_epoch = updates_per_epoch(cfg, len(targets), ctx.world, mixup is not None)
    schedule = Schedule(cfg.schedule, optimizer, cfg.epochs, per_epoch, cfg.warmup_epochs)
    schedule.step(0)
    dtype = amp_dtype(cfg, ctx.device)
    return Parts(net=net, head=head, optimizer=optimizer, schedule=schedule, ctx=ctx,
                 scaler=torch.amp.GradScaler(ctx.device.type, enabled=dtype == torch.float16),
                 augment=make_augment(cfg.augment, *augment), gen=torch.Generator().manual_seed(cfg.seed + 1),
                 mean=torch.tensor(mean), std=torch.tensor(std), device=ctx.device, spec=spec,
                 ema=make_ema(cfg, net), mixup=mixup, amp_dtype=dtype, compile=cfg.compile, transfer=transfer,
                 sample_weights=sample_weights(targets) if cfg.sampler == "balanced" else None)


def describe_transfer(report: dict, init_from: bool) -> str:
    """One console line about the initial weights (``--pretrained`` / ``--init-from``)."""
    from foveal.deep.transfer import transfer_summary

    return transfer_summary(report, f"weights from {report.get('source')}" if init_from else "pretrained weights")
