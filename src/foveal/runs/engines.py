"""Training engines by name: what turns a validated config and decoded data into a fitted model.

An engine is a class with:

- ``name``: the key it registers under (``classical``, ``deep``; later ``distill``, ``pretrain``, …);
- ``labels`` (optional attribute): ``"optional"`` when the engine can use images without labels;
- ``check(cfg)``: refuse bad values and combinations that need no data (model names, estimator
  parameters, files named by options) — called before anything is read;
- ``check_task(cfg, task)``: the same for combinations that depend on the task;
- ``load(cfg, ds, validation=True)``: the :class:`~foveal.runs.data.RunData` (picks the preprocessing and cache,
  then ``load_run_data`` decodes and splits);
- ``fit(cfg, data, folder)``: a :class:`Fitted` (``folder`` is None for in-memory fits such as
  ``ImageClassifier``; deep engines write checkpoints into it).

``foveal.runs.pipeline.run_training`` drives every engine through the same life.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from foveal.config import CLASSICAL, DEEP, DISTILL, FEWER, PRETRAIN, TrainConfig
from foveal.errors import ConfigError

_ENGINES: dict[str, str] = {
    CLASSICAL: "foveal.runs.classical:ClassicalEngine",
    DEEP: "foveal.runs.deep:DeepEngine",
    PRETRAIN: "foveal.learn.engine:PretrainEngine",
    DISTILL: "foveal.compress.distill_engine:DistillEngine",
    FEWER: "foveal.fewer.engine:FewerEngine",  # --semi / --adapt: the deep or classical engine plus unlabelled images
}


@dataclass
class Fitted:
    """An engine's result: a model with ``predict_proba`` and ``files``, the bundle's ``model`` section,
    and what the engine adds to the manifest's ``training`` section."""

    model: Any
    spec: dict
    summary: dict = field(default_factory=dict)
    parent: dict | None = None  # lineage.parent when the run starts from a bundle (--init-from)
    notes: list[str] = field(default_factory=list)  # lines for the console (early stopping, transfer, …)
    history: list[dict] = field(default_factory=list)  # per-epoch records of iterative engines (metrics.csv)
    manifest: dict = field(default_factory=dict)  # top-level manifest entries the engine sets (a backbone's purpose)
    val_proba: Any = None  # the validation split's probabilities when the engine already predicted it with these weights
    settle: Callable[[], None] | None = None  # waits for the engine's writes still in flight (its last checkpoint)


class Engine(Protocol):
    name: str

    def check(self, cfg: TrainConfig) -> None: ...
    def check_task(self, cfg: TrainConfig, task) -> None: ...
    def load(self, cfg: TrainConfig, ds, validation: bool = True): ...
    def fit(self, cfg: TrainConfig, data, folder) -> Fitted | None: ...


def register_engine(name: str, target: str) -> None:
    """Make ``name`` resolve to ``target`` ("package.module:Class")."""
    _ENGINES[name] = target


def get_engine(name: str) -> Engine:
    if name not in _ENGINES:
        raise ConfigError(f"no training engine named {name!r}", f"use one of {', '.join(sorted(_ENGINES))}")
    module, attr = _ENGINES[name].split(":")
    return getattr(importlib.import_module(module), attr)()


def engine_scopes(cfg: TrainConfig, name: str) -> tuple[str, ...]:
    """The option scopes an engine reads: its name, and for distillation also the student's engine."""
    if name == DISTILL:
        from foveal.classical.estimators import ESTIMATORS

        return (DISTILL, CLASSICAL if cfg.model in ESTIMATORS else DEEP)
    if name == FEWER:  # semi-supervised / domain adaptation: also the options of the model's own engine
        from dataclasses import replace

        return (name, engine_name(replace(cfg, semi=None, adapt=None, unlabeled=None, target_unlabeled=None)))
    return (name,)


def plain_deep(cfg: TrainConfig) -> bool:
    """Whether ``cfg`` is a deep run on labelled data with nothing but the model name left to check
    (no bundle, teacher or unlabelled images): the guess that lets decoding start before timm imports."""
    from foveal.classical.estimators import ESTIMATORS

    others = (cfg.semi, cfg.adapt, cfg.unlabeled, cfg.target_unlabeled, cfg.teacher, cfg.init_from, cfg.pretrained)
    return not any(others) and cfg.model not in ESTIMATORS


def engine_name(cfg: TrainConfig) -> str:
    """``classical`` for scikit-learn estimators, ``deep`` for cnn-small, timm names and ``--init-from``."""
    from foveal.classical.estimators import ESTIMATORS

    if cfg.semi or cfg.adapt or cfg.unlabeled or cfg.target_unlabeled:  # unlabelled images too (foveal.fewer)
        return FEWER
    if cfg.teacher:  # a student of a teacher bundle, deep or classical
        return DISTILL
    if cfg.init_from or cfg.pretrained and Path(cfg.pretrained).is_dir():  # a bundle's network
        return DEEP
    if cfg.model in ESTIMATORS:
        return CLASSICAL
    from foveal.deep.models import is_deep_model

    if is_deep_model(cfg.model):
        return DEEP
    import difflib

    from foveal.deep.models import OWN_MODELS

    close = difflib.get_close_matches(cfg.model, [*ESTIMATORS, *OWN_MODELS, "resnet18", "mobilenetv3_small_050"], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ConfigError(f"unknown model {cfg.model!r}",
                      f"{hint}classical: {', '.join(ESTIMATORS)}; deep: cnn-small or any timm architecture "
                      "(`foveal models PATTERN` lists them)")
