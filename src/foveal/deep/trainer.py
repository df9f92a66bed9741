"""The epoch loop: a small ``Loop`` of parts (network, head, optimizer, schedule, EMA, AMP)
driven by ``fit_loop``, with callbacks for everything that writes or prints.

Validation predicts through ``foveal.deep.inference`` (the bundle's own path) and is scored by
the ``scorer`` the run passes in (``foveal.evaluation.metrics.epoch_scores``), so per-epoch
metrics are the evaluation package's. Run folders, bundles and data live in ``foveal.runs``.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from foveal.config import TrainConfig
from foveal.data.task import Task
from foveal.deep.batches import ImageTensor, batch_slices, epoch_order, normalize
from foveal.deep.distributed import DistContext, all_reduce_sum, any_rank, sync_buffers
from foveal.deep.setup import Parts
from foveal.deep.transfer import set_backbone_frozen, train_mode


LOSS_SYNC_EVERY = 32  # batches between reads of the running loss (each read stalls a GPU queue)


class Interrupted(KeyboardInterrupt):
    """Raised at an update boundary after SIGTERM / Ctrl-C; the loop saves its state first.

    ``str(err)`` is the signal's name; ``exit_code`` the shell's convention, 128 + the signal number.
    """

    @property
    def exit_code(self) -> int:
        import signal

        try:
            return 128 + signal.Signals[str(self)].value
        except KeyError:
            return 130


@dataclass
class StopFlag:
    """Set by a signal handler; the loop checks it after every optimizer update."""

    reason: str | None = None


@dataclass
class LoopState:
    """Everything about progress that a checkpoint must restore."""

    epoch: int = 0  # completed epochs
    step: int = 0  # batches done in the current epoch (non-zero only when interrupted mid-epoch)
    updates: int = 0  # optimizer updates so far
    best_score: float | None = None
    best_loss: float | None = None  # breaks ties between epochs with the same score
    best_epoch: int = 0
    bad_epochs: int = 0
    history: list[dict] = field(default_factory=list)
    partial: dict = field(default_factory=lambda: {"loss": 0.0, "n": 0, "seconds": 0.0})
    stopped_early: bool = False
    reached_target: bool = False  # --target-accuracy: the best validation metric reached the target
    stopped_at_step: int = 0  # the target was reached half-way: the last epoch ended after this many batches
    metric: str | None = None  # the validation metric that picks the best epoch


class Callback:
    """Hooks the loop calls; the defaults do nothing."""

    def on_epoch_start(self, loop: "Loop", n_batches: int) -> None: ...
    def on_batch_end(self, loop: "Loop", images: int) -> None: ...
    def on_epoch_end(self, loop: "Loop", record: dict, improved: bool) -> None: ...
    def on_interrupt(self, loop: "Loop") -> None: ...
    def on_train_end(self, loop: "Loop") -> None: ...
    def on_error(self, loop: "Loop") -> None: ...  # training raised (not an interrupt): settle what is in flight


@dataclass
class Loop:
    cfg: TrainConfig
    task: Task
    parts: Parts
    ctx: DistContext
    state: LoopState = field(default_factory=LoopState)
    stop: StopFlag = field(default_factory=StopFlag)
    callbacks: list[Callback] = field(default_factory=list)
    best_weights: dict | None = None
    scorer: Callable[[np.ndarray, np.ndarray], dict] | None = None  # (probabilities, targets) → metrics
    val_proba: np.ndarray | None = None  # the latest validation probabilities
    best_val_proba: np.ndarray | None = None  # those of the kept epoch: the run reuses them instead of predicting again
    halfway: tuple[dict | None, float] | None = None  # half-way validation: (scores if it ended the epoch, seconds)

    def emit(self, hook: str, *args) -> None:
        if self.ctx.is_main:
            for cb in self.callbacks:
                getattr(cb, hook)(self, *args)


def seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def frozen_at(cfg: TrainConfig, epoch: int) -> bool:
    """Is the backbone frozen during ``epoch`` (0-based)?"""
    if cfg.unfreeze_after > 0:
        return epoch < cfg.unfreeze_after
    return cfg.freeze_backbone


def _l1(net: nn.Module, weight: float) -> torch.Tensor | float:
    if not weight:
        return 0.0
    return weight * sum(p.abs().sum() for p in net.parameters() if p.requires_grad and p.ndim > 1)


def forward_loss(loop: Loop, x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None,
                 step: int = 0) -> torch.Tensor:
    parts = loop.parts
    if parts.objective is not None:  # e.g. semi-supervised / domain adaptation: a term on an unlabelled stream
        return parts.objective(loop, x, y, weight, step) + _l1(parts.net, loop.cfg.l1)
    with parts.inputs().autocast():
        logits = parts.train_net(x)
        if not isinstance(logits, torch.Tensor):  # a self-supervised network's outputs: its objective reads them
            return parts.head.loss(logits, y) + _l1(parts.net, loop.cfg.l1)
        loss = parts.head.loss(logits.float(), y) if weight is None else \
            parts.head.loss(logits.float(), y, weight)  # --reweight: a weighted mean of per-sample losses
    return loss + _l1(parts.net, loop.cfg.l1)


def prepare_batch(loop: Loop, train: ImageTensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    parts = loop.parts
    if parts.views is not None:  # self-supervised: the objective makes its own inputs and targets
        x, y = parts.views(train.images[idx], parts.gen)
    else:
        x = parts.augment(train.images[idx], parts.gen)
        x = normalize(x, parts.mean, parts.std)
        y = train.targets[idx]
        if parts.mixup is not None:
            x, y = parts.mixup(x, y)
    x = x.to(parts.device, non_blocking=True)
    if loop.cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y.to(parts.device, non_blocking=True)  # a blocking copy would wait for the GPU every step


def _optimizer_step(loop: Loop) -> None:
    parts = loop.parts
    if loop.cfg.grad_clip > 0:
        parts.scaler.unscale_(parts.optimizer)
        torch.nn.utils.clip_grad_norm_(parts.net.parameters(), loop.cfg.grad_clip)
    parts.scaler.step(parts.optimizer)
    parts.scaler.update()
    parts.optimizer.zero_grad(set_to_none=True)
    loop.state.updates += 1
    if parts.ema is not None:
        parts.ema.update(parts.net, step=loop.state.updates)
    if parts.after_update is not None:  # e.g. BYOL's momentum encoder
        parts.after_update(parts.net, loop.state.updates / parts.schedule.total)
    parts.schedule.step(loop.state.updates)


def epoch_batches(loop: Loop, n: int, epoch: int) -> list[torch.Tensor]:
    weights = loop.parts.sample_weights
    order = epoch_order(n, loop.cfg.seed, epoch, weights, loop.ctx.rank, loop.ctx.world)
    return batch_slices(order, loop.cfg.batch_size, even=loop.parts.mixup is not None)


def _flush_loss(loop: Loop, running: torch.Tensor) -> None:
    """Move the device-side loss sum into the epoch's record, stopping on a non-finite loss."""
    value = running.item()
    running.zero_()
    if not math.isfinite(value):
        from foveal.errors import ConfigError

        raise ConfigError(f"the training loss became {value} at epoch {loop.state.epoch + 1}",
                          "lower --lr, add --grad-clip 1.0, or turn off --amp")
    loop.state.partial["loss"] += value


def train_epoch(loop: Loop, train: ImageTensor, val: ImageTensor | None = None) -> dict:
    """One pass over this rank's shard; resumes at ``state.step`` when an epoch was interrupted. Under
    ``--target-accuracy`` the validation split is also scored half-way, and the epoch ends there when
    the target is reached."""
    cfg, parts, state = loop.cfg, loop.parts, loop.state
    frozen = frozen_at(cfg, state.epoch)
    set_backbone_frozen(parts.net, frozen)
    parts.rewrap(frozen)
    train_mode(parts.net, frozen)
    batches = epoch_batches(loop, len(train), state.epoch)
    halfway = len(batches) // 2 if cfg.target_accuracy is not None and val is not None and len(batches) >= 4 else 0
    if state.step >= halfway:  # resumed past it: the interrupted run checked there already (and went on)
        halfway = 0
    loop.halfway = None
    loop.emit("on_epoch_start", len(batches))
    started = time.perf_counter()
    running = torch.zeros((), dtype=torch.float64, device=parts.device)  # summed on the device: no per-step sync
    for i in range(state.step, len(batches)):
        x, y = prepare_batch(loop, train, batches[i])
        last_micro = (i + 1) % cfg.accumulate == 0 or i + 1 == len(batches)
        sync = contextlib.nullcontext() if last_micro or not loop.ctx.enabled else parts.train_net.no_sync()
        group = min(cfg.accumulate, len(batches) - i // cfg.accumulate * cfg.accumulate)  # a last group may be short
        weight = None if train.weights is None else train.weights[batches[i]].to(parts.device, non_blocking=True)
        with sync:
            loss = forward_loss(loop, x, y, weight, i)
            parts.scaler.scale(loss / group).backward()
        running += loss.detach().double() * len(y)
        if (i + 1) % LOSS_SYNC_EVERY == 0:
            _flush_loss(loop, running)
        state.partial["n"] += len(y)
        loop.emit("on_batch_end", len(y))
        if last_micro:
            _optimizer_step(loop)
            state.step = i + 1
            if halfway and state.step >= halfway and state.step < len(batches):
                halfway, checked_at = 0, time.perf_counter()
                met = _target_met_halfway(loop, val, frozen)
                started += time.perf_counter() - checked_at  # validation time is not training time
                if met:
                    state.stopped_at_step = state.step
                    break
            if any_rank(loop.stop.reason is not None, loop.ctx) and i + 1 < len(batches):
                loop.stop.reason = loop.stop.reason or "a signal on another rank"
                _flush_loss(loop, running)
                state.partial["seconds"] += time.perf_counter() - started
                raise Interrupted(loop.stop.reason)
    _flush_loss(loop, running)
    state.partial["seconds"] += time.perf_counter() - started
    sync_buffers(parts.net, loop.ctx)
    loss_sum, n, seconds = all_reduce_sum([state.partial["loss"], state.partial["n"], state.partial["seconds"]], loop.ctx)
    return {"train_loss": loss_sum / max(n, 1), "images_per_s": n / max(seconds / loop.ctx.world, 1e-9),
            "train_seconds": round(seconds / loop.ctx.world, 3)}


def _target_met_halfway(loop: Loop, val: ImageTensor, frozen: bool) -> bool:
    """Score the validation split now; True (on every rank) when the target is met, keeping the scores
    for the epoch's record. The network goes back to training mode either way."""
    started = time.perf_counter()
    scores = validate(loop, val)
    train_mode(loop.parts.net, frozen)
    metric = next((k for k in scores if k != "val_loss"), None)
    met = any_rank(metric is not None and scores[metric] >= loop.cfg.target_accuracy, loop.ctx)
    loop.halfway = (scores if met else None, time.perf_counter() - started)
    return met


def validate(loop: Loop, val: ImageTensor) -> dict:
    """Validation loss and the scorer's metrics, predicted by the bundle's inference path."""
    from foveal.deep.inference import predict_logits

    parts = loop.parts
    logits = predict_logits(parts.eval_net, val.images, parts.inputs(loop.cfg.channels_last))
    loss = parts.head.eval_loss(logits, val.targets).item()
    loop.val_proba = parts.head.proba(logits).double().numpy()
    scores = loop.scorer(loop.val_proba, val.targets.numpy()) if loop.scorer else {}
    return {"val_loss": loss, **scores}


def _end_epoch(loop: Loop, record: dict, val: ImageTensor | None) -> bool:
    """Record the epoch, track the best weights, decide early stopping; returns 'improved'."""
    state = loop.state
    started = time.perf_counter()
    scores, seconds = loop.halfway or (None, 0.0)  # scores: the epoch ended at its half-way validation
    if scores is None:
        scores = validate(loop, val) if val is not None and len(val) else {}
        seconds += time.perf_counter() - started
    record.update(scores)
    if scores:
        record["val_seconds"] = round(seconds, 3)
    state.metric = next((k for k in scores if k != "val_loss"), None)
    state.epoch += 1
    state.step = 0
    state.partial = {"loss": 0.0, "n": 0, "seconds": 0.0}
    record = {"epoch": state.epoch, **record, "lr": loop.parts.schedule.lr()}
    state.history.append(record)
    score, loss = record.get(state.metric) if state.metric else None, record.get("val_loss")
    improved = (score is None or state.best_score is None or score > state.best_score
                or score == state.best_score and loss < state.best_loss)
    if improved:
        state.best_score, state.best_loss, state.best_epoch, state.bad_epochs = score, loss, state.epoch, 0
        loop.best_weights = {k: v.detach().clone() for k, v in loop.parts.eval_net.state_dict().items()}
        loop.best_val_proba = loop.val_proba
    else:
        state.bad_epochs += 1
    loop.emit("on_epoch_end", record, improved)
    return improved


def reached_target(loop: Loop) -> bool:
    """``--target-accuracy``: has the best validation metric so far reached the target?"""
    target, best = loop.cfg.target_accuracy, loop.state.best_score
    return target is not None and best is not None and best >= target


def fit_loop(loop: Loop, train: ImageTensor, val: ImageTensor | None) -> Loop:
    """Train from ``loop.state`` to the last epoch (or early stop); interrupts save and re-raise."""
    cfg, state = loop.cfg, loop.state
    try:
        while state.epoch < cfg.epochs:
            record = train_epoch(loop, train, val)
            _end_epoch(loop, record, val)
            if cfg.early_stopping and state.bad_epochs >= cfg.early_stopping:
                state.stopped_early = True
                break
            if reached_target(loop):
                state.reached_target = True
                break
            if any_rank(loop.stop.reason is not None, loop.ctx):
                raise Interrupted(loop.stop.reason or "a signal on another rank")
    except Interrupted:
        loop.emit("on_interrupt")  # a consistent state: saved as checkpoints/last
        raise
    except BaseException:
        loop.emit("on_error")
        raise
    if loop.best_weights is not None:
        loop.parts.eval_net.load_state_dict(loop.best_weights)
    loop.emit("on_train_end")
    return loop
