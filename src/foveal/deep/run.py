"""``foveal train`` for deep models: data → split → decode once → fit → bundle, in a run folder.

Reuses the classical spine (dataset loading, splitting, decoding, manifest, run files,
metrics); adds checkpoints, resume, signals and DDP.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from foveal.config import TrainConfig
from foveal.data.images import Preprocessing, check_skip_ratio, infer_preprocessing, load_images
from foveal.errors import ConfigError, DataError
from foveal.progress import stderr_console

MIN_AUTO_SIDE = 32
CACHE_NONE_SAMPLE = 512  # images kept in RAM under --cache none (for shapes and normalisation statistics)


def deep_preprocessing(cfg: TrainConfig, train_ds, parent: dict | None) -> Preprocessing:
    """Input size: ``auto`` is the data's common size (at most 64 px) scaled up so its shorter
    side is at least 32 px; ``model`` is the architecture's own default; a number is used as given.
    ``--init-from`` keeps the parent bundle's preprocessing."""
    from foveal.deep.models import default_image_side

    if parent:
        return Preprocessing.from_json(parent["manifest"]["preprocessing"])
    size = cfg.image_size
    if size == "model":
        size = default_image_side(cfg.model)
    elif isinstance(size, str) and size != "auto" and not size.isdigit():
        raise ConfigError(f"--image-size {size!r} is not a number", "use a side in pixels, auto or model")
    prep = infer_preprocessing(train_ds, size, cfg.channels, cfg.max_pixels)
    return prep.with_min_side(MIN_AUTO_SIDE) if cfg.image_size == "auto" else prep


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


def _load_data(cfg: TrainConfig, parent: dict | None):
    from foveal.data.load import load_dataset
    from foveal.data.split import train_val

    ds = load_dataset(cfg.data, cfg.task)
    train_ds, val_ds = train_val(ds, cfg.val_fraction, cfg.seed)
    prep = deep_preprocessing(cfg, train_ds, parent)
    if parent and prep.channels not in (1, 3):
        raise DataError("the parent bundle's channels are not 1 or 3", "retrain the parent")
    train_img = _load_train(cfg, train_ds, prep)
    val_img = load_images(val_ds, prep, 1.0, "Decoding val")
    check_skip_ratio(ds.name, len(train_ds) + len(val_ds), train_img.skipped + val_img.skipped, cfg.max_skip_ratio)
    return ds, train_ds, val_ds, prep, train_img, val_img


def _load_train(cfg: TrainConfig, train_ds, prep: Preprocessing):
    """Decoded once into RAM, or (``--cache none``) only checked, to be decoded per batch."""
    from foveal.deep.batches import resolve_cache

    mode = resolve_cache(cfg.cache, len(train_ds), prep.size, prep.channels, train_ds.images is None)
    if mode == "none":
        return load_images(train_ds, prep, 1.0, "Checking train", sample=CACHE_NONE_SAMPLE)
    return load_images(train_ds, prep, 1.0, "Decoding train")


def _train_tensor(cfg: TrainConfig, train_ds, prep: Preprocessing, train_img, y_train):
    from foveal.deep.batches import FileImages, ImageTensor

    if len(train_img.images) == len(train_img.kept):
        return ImageTensor.from_numpy(train_img.images, y_train)
    import torch

    return ImageTensor(FileImages(train_ds, prep, train_img.kept), torch.as_tensor(y_train))


def _targets(ds, part, loaded) -> np.ndarray:
    """Encoded targets of the decodable samples of ``part``."""
    return ds.task.encode([part.labels[i] for i in loaded.kept])


def run_deep(cfg: TrainConfig, resume: Path | None = None):
    """Train a deep model; ``resume`` continues the run folder's ``checkpoints/last``."""
    from foveal.deep.distributed import setup, teardown

    from foveal.deep.setup import torch_threads

    ctx = setup(cfg.device)
    try:
        with torch_threads(cfg.workers):
            return _run(cfg, resume, ctx)
    finally:
        teardown(ctx)


def _make_loop(cfg, ds, train_img, y_train, ctx, parent, run_dir):
    from foveal.deep.callbacks import ConsoleProgress, RunFolder
    from foveal.deep.setup import build_parts
    from foveal.deep.trainer import Loop, seed_everything

    seed_everything(cfg.seed, cfg.deterministic)
    parts = build_parts(cfg, ds.task, train_img.images, y_train, ctx, parent)
    callbacks = [ConsoleProgress(), RunFolder(run_dir)] if run_dir is not None else [ConsoleProgress()]
    return Loop(cfg, ds.task, parts, ctx, callbacks=callbacks)


def _start_run_dir(cfg: TrainConfig, resume: Path | None, ctx) -> Path | None:
    from foveal.training import _plain_config, make_run_dir
    from foveal.files import atomic_write_text
    import yaml

    if not ctx.is_main:
        return None
    if resume is not None:
        return resume
    run_dir = make_run_dir(cfg)
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(_plain_config(cfg), sort_keys=False))
    return run_dir


def _resume_into(loop, run_dir: Path) -> None:
    from foveal.deep.checkpoint import load_checkpoint, prefixed, restore

    tensors, info = load_checkpoint(run_dir / "checkpoints" / "last.safetensors")
    restore(loop, tensors, info)
    best = run_dir / "checkpoints" / "best.safetensors"
    if best.is_file():
        loop.best_weights = prefixed(load_checkpoint(best)[0], "model/")


def _run(cfg: TrainConfig, resume: Path | None, ctx):
    from foveal.bundle.deep import read_bundle_weights
    from foveal.deep.batches import ImageTensor
    from foveal.deep.trainer import Interrupted, fit_loop

    started = time.perf_counter()
    parent = read_bundle_weights(Path(cfg.init_from)) if cfg.init_from else None
    if parent:
        cfg = replace(cfg, model=parent["spec"]["architecture"])
    ds, train_ds, val_ds, prep, train_img, val_img = _load_data(cfg, parent)
    y_train, y_val = _targets(ds, train_ds, train_img), _targets(ds, val_ds, val_img)
    if ds.task.type != "multilabel" and len(np.unique(y_train)) < 2:
        raise ConfigError("the training split holds a single class", "add images of the other classes")
    run_dir = _start_run_dir(cfg, resume, ctx)
    loop = _make_loop(cfg, ds, train_img, y_train, ctx, parent, run_dir)
    if resume is not None:
        _resume_into(loop, resume)
    train = _train_tensor(cfg, train_ds, prep, train_img, y_train)
    val = ImageTensor.from_numpy(val_img.images, y_val) if len(val_img.kept) else None
    try:
        with stop_on_signals(loop.stop):
            fit_loop(loop, train, val)
    except Interrupted as stop:
        if run_dir is not None:
            stderr_console().print(f"stopped by {stop}; checkpoint written to {run_dir / 'checkpoints' / 'last.safetensors'}"
                                   f" — continue with `foveal train --resume {run_dir}`", highlight=False)
        raise
    return _finish(cfg, loop, ds, train_ds, val_ds, prep, train_img, val_img, run_dir, parent, started)


def _finish(cfg, loop, ds, train_ds, val_ds, prep, train_img, val_img, run_dir, parent, started):
    from foveal.bundle.deep import DeepModel
    from foveal.deep.distributed import gather_hashes
    from foveal.training import _manifest, fingerprint, validate, write_run

    parts = loop.parts
    hashes = gather_hashes(parts.eval_net, loop.ctx)
    model = DeepModel.from_parts(parts)
    ds.task, metrics, val_proba = validate(ds.task, val_ds, val_img, model)
    prep = replace(prep, mean=tuple(parts.mean.tolist()), std=tuple(parts.std.tolist()))
    seconds = time.perf_counter() - started
    if run_dir is None:  # DDP ranks other than 0 write nothing
        return None
    manifest = _manifest(cfg, ds, prep, parts.spec, metrics, fingerprint(train_ds, train_img),
                         n=(len(train_img.kept), len(val_img.kept)), seconds=seconds)
    manifest["training"].update(_training_summary(loop, hashes))
    if parent:
        from foveal.bundle.derive import parent_ref

        manifest["lineage"]["parent"] = parent_ref(parent["path"], "init-from")
    return write_run(run_dir, cfg, manifest, model, metrics, val_ds, (train_img, val_img), val_proba)


def _training_summary(loop, hashes: list[str]) -> dict:
    state = loop.state
    out = {"epochs": state.epoch, "best_epoch": state.best_epoch, "stopped_early": state.stopped_early,
           "updates": state.updates, "world_size": loop.ctx.world}
    if loop.parts.transfer:
        out["transfer"] = loop.parts.transfer
    if loop.ctx.enabled:
        out["rank_weight_hashes"] = hashes
    return out


def resume_config(run_dir: Path) -> TrainConfig:
    """The saved config of a run folder that ``foveal train --resume`` can continue."""
    from foveal.config import resolve

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError(f"{run_dir} is not a run folder (no config.yaml)", "pass the folder `foveal train` wrote")
    if (run_dir / "model" / "foveal.json").is_file():
        raise ConfigError(f"{run_dir} has finished (its model/ bundle exists)", "start a new run instead")
    if not (run_dir / "checkpoints" / "last.safetensors").is_file():
        raise ConfigError(f"{run_dir} has no checkpoint yet", "start the run again; it stopped before its first epoch ended")
    return resolve(TrainConfig, run_dir / "config.yaml", {})
