"""The deep engine: cnn-small or any timm architecture, trained by ``foveal.deep.trainer`` with
checkpoints, resume, signals and DDP (torchrun), writing into the run folder."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from dataclasses import replace
from pathlib import Path

from foveal.config import DEEP, TrainConfig, augment_overrides, flag_of
from foveal.data.images import Preprocessing, infer_preprocessing
from foveal.errors import ConfigError, warn
from foveal.progress import info
from foveal.runs.engines import Fitted

MIN_AUTO_SIDE = 32  # timm architectures downsample 32×: smaller inputs leave them almost no map
# cnn-small's three 2× pools leave a 2×2 map at 16 px: enough for one object, measured (test split, default
# recipe): digits 8 seeds 0.9912 at 16 px vs 0.9907 at 32 px in 16 s vs 64 s; digit-taxonomy 3 seeds level 2
# 0.9926 vs 0.9901; faces 1.0 both. Not for several objects per image: multidigits (multi-label) lost
# 0.009 macro-F1 and 0.011 mAP at 16 px, so multi-label tasks keep 32; so do pretraining (unmeasured) and
# fine-tuning --pretrained weights (pretrained at 32 px by that rule).
MIN_AUTO_SIDE_OF = {"cnn-small": 16}
MIN_UPDATES = 50  # measured: cnn-small on 280 digits reaches 0.10 at 12 updates, 0.79-0.87 at 40, 0.97 at 120


def deep_preprocessing(cfg: TrainConfig, pool, parent: dict | None, supervised: bool = True) -> Preprocessing:
    """Input size: ``auto`` is the data's common size (at most 64 px) scaled up so its shorter
    side is at least :func:`min_auto_side`; ``model`` is the architecture's own default; a number is
    used as given. ``--init-from`` keeps the parent bundle's preprocessing."""
    if parent:
        return Preprocessing.from_json(parent["manifest"]["preprocessing"])
    size = cfg.image_size
    if size == "model":  # (only this needs torch and timm imported)
        from foveal.deep.models import default_image_side

        size = default_image_side(cfg.model)
    prep = infer_preprocessing(pool, size, cfg.channels, cfg.max_pixels)
    from_scratch_task = pool.task.type if supervised and not cfg.pretrained else None
    return prep.with_min_side(min_auto_side(cfg.model, from_scratch_task)) if cfg.image_size == "auto" else prep


def min_auto_side(model: str, task_type: str | None) -> int:
    """32 px, or 16 px for cnn-small learning a single-label task from random weights (``MIN_AUTO_SIDE_OF``);
    ``task_type`` None: not that (pretraining, fine-tuning)."""
    small = MIN_AUTO_SIDE_OF.get(model)
    return small if small and task_type not in (None, "multilabel") else MIN_AUTO_SIDE


@contextlib.contextmanager
def stop_on_signals(stop):
    """SIGTERM and a first Ctrl-C ask the loop to checkpoint and stop; a second Ctrl-C aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request(signum, frame):
        if stop.reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.reason = signal.Signals(signum).name

    previous = {s: signal.signal(s, request) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def training_context(cfg: TrainConfig):
    """The process group (torchrun) or single-process context, with ``--workers`` torch threads."""
    from foveal.deep.distributed import setup, teardown
    from foveal.deep.setup import torch_threads

    ctx = setup(cfg.device)
    try:
        with torch_threads(cfg.workers):
            yield ctx
    finally:
        teardown(ctx)


def run_loop(cfg: TrainConfig, engine: str, folder, ctx, make_loop, train, val, command: str = "train"):
    """A deep engine's life in its run folder: create it (rank 0), build the loop, resume it, train it;
    an interrupt leaves a checkpoint and says how to continue. Returns the finished loop."""
    from foveal.deep.trainer import Interrupted, fit_loop
    from foveal.progress import stderr_console

    writes = folder is not None and ctx.is_main
    if writes and not folder.ready:
        folder.create()
        folder.write_config(cfg, engine)
    loop = make_loop(folder.path if writes else None)
    if writes and folder.resume:
        resume_into(loop, folder.path)
    try:
        with stop_on_signals(loop.stop):
            fit_loop(loop, train, val)
    except Interrupted as stop:
        if writes:
            stderr_console().print(f"stopped by {stop}; checkpoint written to {folder.path / 'checkpoints'}"
                                   f"/last.safetensors — continue with `foveal {command} --resume {folder.path}`",
                                   highlight=False, markup=False, soft_wrap=True)
        raise
    return loop


def short_run_advice(n_train: int, cfg: TrainConfig, per_epoch: int) -> str | None:
    """A warning when the run makes too few optimizer updates to learn, with what to change."""
    updates = per_epoch * cfg.epochs
    if updates >= MIN_UPDATES:
        return None
    epochs = math.ceil(MIN_UPDATES / max(per_epoch, 1))
    batch = max(8, 2 ** int(math.log2(max(1, n_train * cfg.epochs // (MIN_UPDATES * cfg.accumulate)))))
    fixes = [f"--epochs {epochs}"] + ([f"--batch-size {batch}"] if batch < cfg.batch_size else [])
    return (f"this run makes only {updates} optimizer updates ({n_train} training images, batch {cfg.batch_size}, "
            f"{cfg.epochs} epochs), likely too few to train a network from scratch; use {' or '.join(fixes)}")


class DeepEngine:
    name = DEEP

    def __init__(self) -> None:
        self.parent: dict | None = None
        self.callbacks: list = []  # extra trainer Callbacks (tuning's pruner, pruning's zero-keeper, …)
        self.backbone: dict | None = None  # --pretrained BUNDLE (e.g. a `foveal pretrain` backbone)

    def check(self, cfg: TrainConfig) -> None:
        from foveal.deep.distributed import pick_device
        from foveal.deep.models import check_model

        if cfg.pretrained and cfg.init_from:
            raise ConfigError("--pretrained and --init-from both given", "use one source of initial weights")
        if (cfg.freeze_backbone or cfg.unfreeze_after) and not (cfg.pretrained or cfg.init_from):
            flag = flag_of("freeze_backbone" if cfg.freeze_backbone else "unfreeze_after")
            raise ConfigError(f"{flag} freezes a backbone, but no trained backbone is given",
                              "add --pretrained FILE or --init-from BUNDLE, or drop the flag")
        if cfg.freeze_backbone and cfg.unfreeze_after:
            raise ConfigError("--freeze-backbone and --unfreeze-after both given",
                              "use --freeze-backbone for a linear probe, or --unfreeze-after N to thaw it later")
        if cfg.pretrained and Path(cfg.pretrained).is_dir():
            self.backbone = pretrained_bundle(cfg)
        elif cfg.pretrained and not Path(cfg.pretrained).is_file():
            raise ConfigError(f"--pretrained {cfg.pretrained} does not exist", "give a .safetensors or .pth weights file")
        pick_device(cfg.device)
        if cfg.init_from:
            from foveal.bundle.deep import read_bundle_weights

            self.parent = read_bundle_weights(Path(cfg.init_from))
        else:
            check_model(self._cfg(cfg).model)

    def check_task(self, cfg: TrainConfig, task) -> None:
        from foveal.deep.setup import check_combinations

        check_combinations(cfg, task)

    def load(self, cfg: TrainConfig, ds, validation: bool = True):
        from foveal.runs.data import load_run_data, resolve_cache, training_pool

        pool = training_pool(ds)
        prep = deep_preprocessing(self._cfg(cfg), pool, self.parent)
        if self.parent and prep.channels not in (1, 3):
            raise ConfigError("the parent bundle's channels are not 1 or 3", "retrain the parent")
        cache = resolve_cache(cfg.cache, len(pool), prep.size, prep.channels, ds.images is None)
        return load_run_data(cfg, ds, prep, cache, validation)

    def _cfg(self, cfg: TrainConfig) -> TrainConfig:
        """``--init-from`` trains the parent's architecture."""
        if self.backbone:  # --pretrained BUNDLE: its architecture, and its weights file
            return replace(cfg, model=self.backbone["architecture"], pretrained=self.backbone["weights"])
        return replace(cfg, model=self.parent["spec"]["architecture"]) if self.parent else cfg

    def fit(self, cfg: TrainConfig, data, folder) -> Fitted | None:
        cfg = self._cfg(cfg)
        with training_context(cfg) as ctx:
            return self._train(cfg, data, folder, ctx)

    def _train(self, cfg: TrainConfig, data, folder, ctx) -> Fitted | None:
        import numpy as np

        y_train = data.train.targets()
        if data.task.type != "multilabel" and len(np.unique(y_train)) < 2:
            raise ConfigError("the training split holds a single class", "add images of the other classes")

        def make_loop(run_dir: Path | None):
            loop = self._loop(cfg, data, y_train, ctx, run_dir)
            self.prepare(cfg, loop)
            return loop

        train, val = _tensors(data, y_train, cfg.reweight)
        if val is not None:
            from foveal.warm import warm_import

            warm_import("sklearn.metrics")  # needed at the first epoch's end (epoch_scores)
        if cfg.target_accuracy is not None and val is None:
            raise ConfigError("--target-accuracy needs validation images, and this run has none",
                              "give DATA a val split or a --val-fraction, or drop --target-accuracy")
        loop = run_loop(cfg, DEEP, folder, ctx, make_loop, train, val)
        try:
            return self._fitted(cfg, loop, data)
        except BaseException:
            loop.emit("on_error")  # the last checkpoint lands before the run folder is judged
            raise

    def prepare(self, cfg: TrainConfig, loop) -> None:
        """A hook for engines built on this one (distillation): adjust the loop's parts before training."""

    def _loop(self, cfg: TrainConfig, data, y_train, ctx, run_dir: Path | None):
        from foveal.deep.callbacks import ConsoleProgress, RunFolder
        from foveal.deep.setup import build_parts, describe_transfer
        from foveal.deep.trainer import Loop, seed_everything
        from foveal.evaluation.metrics import epoch_scores

        seed_everything(cfg.seed, cfg.deterministic)
        orientation = bool(getattr(data.ds, "orientation_sensitive", False))
        parts = build_parts(cfg, data.task, data.train.loaded.images, y_train, ctx, self.parent,
                            augment=(augment_overrides(cfg), orientation))
        advice = short_run_advice(len(y_train), cfg, parts.schedule.total // max(cfg.epochs, 1))
        if advice and ctx.is_main and not (cfg.pretrained or self.parent):  # fine-tuning needs fewer updates
            warn(advice)
        if parts.transfer and ctx.is_main:
            info(describe_transfer(parts.transfer, self.parent is not None))
        if ctx.is_main:
            info(f"augmentation ({cfg.augment}{', orientation-sensitive data' if orientation else ''}): "
                 f"{parts.augment.describe()}")
        folder = [RunFolder(run_dir, defer=True)] if run_dir is not None else []  # finish() settles its last write
        callbacks = [ConsoleProgress(), *folder, *self.callbacks]
        return Loop(cfg, data.task, parts, ctx, callbacks=callbacks,
                    scorer=lambda proba, y: epoch_scores(data.task, y, proba))

    def _fitted(self, cfg: TrainConfig, loop, data) -> Fitted | None:
        from foveal.bundle.deep import DeepModel
        from foveal.deep.callbacks import RunFolder
        from foveal.deep.distributed import gather_hashes

        parts = loop.parts
        hashes = gather_hashes(parts.eval_net, loop.ctx)
        if not loop.ctx.is_main:
            return None
        settle = next((c.settle for c in loop.callbacks if isinstance(c, RunFolder)), None)
        data.prep = replace(data.prep, mean=tuple(parts.mean.tolist()), std=tuple(parts.std.tolist()))
        model = DeepModel(parts.eval_net, parts.head, parts.mean, parts.std, parts.spec, device=str(parts.device))
        parent = None
        if self.parent:
            from foveal.bundle.derive import parent_ref

            parent = parent_ref(self.parent["path"], "init-from")
        return Fitted(model, parts.spec, summary=_summary(loop, hashes), parent=parent, notes=_notes(loop),
                      history=list(loop.state.history), val_proba=loop.best_val_proba, settle=settle)


def _tensors(data, y_train, reweight: str | None = None):
    """The training images as an in-RAM tensor (or read per batch under ``--cache none``) and validation."""
    import torch

    from foveal.deep.batches import FileImages, ImageTensor

    if data.train.in_ram:
        train = ImageTensor.from_numpy(data.train.loaded.images, y_train)
    else:
        train = ImageTensor(FileImages(data.train.ds, data.prep, data.train.loaded.kept), torch.as_tensor(y_train))
    weights = data.train.reweighting(reweight)
    if weights is not None:
        train.weights = torch.as_tensor(weights, dtype=torch.float32)
    val = ImageTensor.from_numpy(data.val.loaded.images, data.val.targets()) if len(data.val.loaded.kept) else None
    return train, val


def pretrained_bundle(cfg: TrainConfig) -> dict:
    """``--pretrained BUNDLE``: a deep bundle (a ``foveal pretrain`` backbone or a classifier), checked
    now; its architecture (``--model`` may be left out) and weights file."""
    from foveal.bundle.deep import WEIGHTS_FILE, read_bundle_weights

    parent = read_bundle_weights(Path(cfg.pretrained))
    arch = parent["spec"]["architecture"]
    if "model" in cfg.given and cfg.model != arch:
        raise ConfigError(f"--pretrained {cfg.pretrained} holds a {arch} network, but --model is {cfg.model}",
                          f"use --model {arch}, or leave --model out")
    return {"architecture": arch, "weights": str(parent["path"] / WEIGHTS_FILE)}


def resume_into(loop, run_dir: Path) -> None:
    """Continue from ``checkpoints/last`` — or start again when the run stopped before its first one."""
    from foveal.deep.checkpoint import load_checkpoint, prefixed, restore

    last = run_dir / "checkpoints" / "last.safetensors"
    if not last.is_file():
        info(f"{run_dir} has no checkpoint yet: starting the run from the beginning")
        return
    tensors, meta = load_checkpoint(last)
    restore(loop, tensors, meta)
    best = run_dir / "checkpoints" / "best.safetensors"
    if best.is_file():
        loop.best_weights = prefixed(load_checkpoint(best)[0], "model/")


def _summary(loop, hashes: list[str]) -> dict:
    state = loop.state
    out = {"epochs": state.epoch, "best_epoch": state.best_epoch, "stopped_early": state.stopped_early,
           "reached_target": state.reached_target, "last_epoch_batches": state.stopped_at_step or None,
           "metric": state.metric, "updates": state.updates, "world_size": loop.ctx.world,
           "augmentation": loop.parts.augment.describe()}
    if loop.parts.transfer:
        out["transfer"] = loop.parts.transfer
    if loop.ctx.enabled:
        out["rank_weight_hashes"] = hashes
    return out


def _notes(loop) -> list[str]:
    """How the run ended and which epoch's weights were kept."""
    state, cfg = loop.state, loop.cfg
    if state.metric is None:
        return [f"no validation data: kept the weights of the last epoch ({state.epoch})"]
    best = f"epoch {state.best_epoch} (validation {state.metric} {state.best_score:.4f})"
    if state.reached_target:
        where = (f"half-way through epoch {state.epoch} ({state.stopped_at_step} of its batches)"
                 if state.stopped_at_step else f"after epoch {state.epoch}")
        return [f"reached --target-accuracy {cfg.target_accuracy:g} {where} of {cfg.epochs}; kept {best}"]
    if state.stopped_early:
        return [f"stopped early after epoch {state.epoch}: validation {state.metric} did not improve for "
                f"{cfg.early_stopping} epochs (--early-stopping); kept {best}"]
    return [f"kept {best}, the best of {state.epoch} epochs"]


def resume_config(run_dir: Path) -> TrainConfig:
    """The saved config of a run folder that ``foveal train --resume`` can continue."""
    from foveal.config import resolve

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError(f"{run_dir} is not a run folder (no config.yaml)", "pass the folder `foveal train` wrote")
    if (run_dir / "model" / "foveal.json").is_file():
        raise ConfigError(f"{run_dir} has finished (its model/ bundle exists)", "start a new run instead")
    return resolve(run_dir / "config.yaml")
