"""The ``pretrain`` training engine: self-supervised pretraining through the deep trainer's loop
(progress, ``metrics.csv``, curves, checkpoints, ``--resume``, torchrun DDP), ending in a
**backbone bundle**: a deep bundle whose manifest says ``"purpose": "backbone"`` and holds the
network without a classifier (``num_outputs`` 0), its preprocessing and the method.

Labels in the data are ignored; every image outside the test split trains (no validation hold-out).
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

from foveal.config import PRETRAIN, TrainConfig
from foveal.errors import ConfigError
from foveal.progress import info
from foveal.runs.engines import Fitted


def backbone_task(dimension: int) -> dict:
    """The manifest's ``task`` of a backbone bundle (older foveal refuses it with a one-line error)."""
    return {"type": "embedding", "classes": [], "dimension": dimension}


class PretrainEngine:
    name = PRETRAIN
    labels = "optional"  # labels are ignored: plain folders of images and unlabelled manifests work

    def check(self, cfg: TrainConfig) -> None:
        from foveal.deep.distributed import pick_device
        from foveal.deep.models import check_model

        check_model(cfg.model)
        pick_device(cfg.device)
        if importlib.util.find_spec("lightly") is None:
            raise ConfigError("foveal pretrain needs lightly", "pip install 'foveal[learn]'")

    def check_task(self, cfg: TrainConfig, task) -> None:
        """Labels are ignored: any task will do."""

    def load(self, cfg: TrainConfig, ds, validation: bool = True):
        from foveal.learn.views import check_views
        from foveal.runs.data import load_run_data, resolve_cache, training_pool
        from foveal.runs.deep import deep_preprocessing

        pool = training_pool(ds)
        prep = deep_preprocessing(cfg, pool, None, supervised=False)
        check_views(cfg.method, prep.size, prep.channels)
        cache = resolve_cache(cfg.cache, len(pool), prep.size, prep.channels, ds.images is None)
        return load_run_data(cfg, ds, prep, cache, validation=False)

    def fit(self, cfg: TrainConfig, data, folder) -> Fitted | None:
        from foveal.runs.deep import run_loop, training_context

        with training_context(cfg) as ctx:
            loop = run_loop(cfg, PRETRAIN, folder, ctx, lambda run_dir: make_loop(cfg, data, ctx, run_dir),
                            training_images(data), None, command="pretrain")
            return fitted(cfg, loop, data)


def training_images(data):
    """Every kept training image as the trainer's uint8 tensor (targets unused), or read per batch."""
    import numpy as np
    import torch

    from foveal.deep.batches import FileImages, ImageTensor

    n = len(data.train.loaded.kept)
    if data.train.in_ram:
        return ImageTensor.from_numpy(data.train.loaded.images, np.zeros(n, dtype=np.int64))
    return ImageTensor(FileImages(data.train.ds, data.prep, data.train.loaded.kept), torch.zeros(n, dtype=torch.long))


def make_loop(cfg: TrainConfig, data, ctx, run_dir: Path | None):
    from foveal.deep.callbacks import ConsoleProgress, RunFolder
    from foveal.deep.trainer import Loop, seed_everything
    from foveal.learn.parts import build_pretrain_parts

    seed_everything(cfg.seed, cfg.deterministic)
    parts = build_pretrain_parts(cfg, data, ctx)
    if ctx.is_main:
        info(f"pretraining {cfg.model} with {cfg.method} on {len(data.train.loaded.kept)} images "
             f"(labels ignored): {parts.head.describe()}")
    callbacks = [ConsoleProgress()] + ([RunFolder(run_dir)] if run_dir is not None else [])
    return Loop(cfg, data.task, parts, ctx, callbacks=callbacks)


def fitted(cfg: TrainConfig, loop, data) -> Fitted | None:
    """The backbone (without the method's heads) as a deep model, and the bundle's backbone entries."""
    from foveal.bundle.deep import DeepModel
    from foveal.deep.distributed import gather_hashes

    parts, state = loop.parts, loop.state
    backbone = parts.net.backbone
    hashes = gather_hashes(backbone, loop.ctx)
    if not loop.ctx.is_main:
        return None
    data.prep = replace(data.prep, mean=tuple(parts.mean.tolist()), std=tuple(parts.std.tolist()))
    model = DeepModel(backbone.cpu(), None, parts.mean, parts.std, parts.spec)
    last = state.history[-1]["train_loss"] if state.history else None
    summary = {"method": cfg.method, "epochs": state.epoch, "updates": state.updates, "final_loss": last,
               "world_size": loop.ctx.world, "views": parts.head.describe()}
    if loop.ctx.enabled:
        summary["rank_weight_hashes"] = hashes
    dimension = int(backbone.num_features)
    manifest = {"purpose": "backbone", "task": backbone_task(dimension),
                "pretraining": {"method": cfg.method, **method_options(cfg)}}
    notes = [f"{cfg.method} pretraining: {state.epoch} epochs, final loss {last:.4g}; backbone of {dimension} "
             "features (embed, index, cluster, probe, or `foveal train DATA --pretrained BUNDLE`)"]
    return Fitted(model, parts.spec, summary=summary, notes=notes, history=list(state.history), manifest=manifest)


def method_options(cfg: TrainConfig) -> dict:
    """The pretraining options that mean something to ``cfg.method``."""
    wanted = {"simclr": ("projection_dim", "temperature", "min_scale"), "byol": ("projection_dim", "momentum", "min_scale"),
              "inpainting": ("mask_ratio",)}.get(cfg.method, ())
    return {name: getattr(cfg, name) for name in wanted}
