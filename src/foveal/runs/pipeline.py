"""One run's life, for every engine: validate the whole configuration → load and split the data
→ fit → write the bundle and run folder → report.

Nothing is decoded and no folder is created before every option has been checked; a run that
fails before it saved anything leaves nothing behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foveal.config import DEEP, TrainConfig, default, flag_of, spec
from foveal.data.task import MultilabelTask
from foveal.errors import ConfigError
from foveal.runs.engines import Engine, Fitted, engine_name, engine_scopes, get_engine
from foveal.runs.folder import RunFolder

ENGINE_WORDS = {"classical": "a classical model", "deep": "a deep model"}
EXAMPLE_MODEL = {"classical": "svm", "deep": "cnn-small"}


@dataclass
class TrainResult:
    run_dir: Path
    bundle: Path
    metrics: dict
    n_train: int
    n_val: int
    seconds: float
    skipped: list[dict] = field(default_factory=list)
    task: str = ""
    preprocessing: dict = field(default_factory=dict)
    config: TrainConfig | None = None
    engine: str = ""
    notes: list[str] = field(default_factory=list)
    drawing: bool = False  # report.html and curves.png are still being drawn by a detached process


def stray_options(cfg: TrainConfig, engine: str) -> tuple[list[str], str, str]:
    """The options set explicitly (flags or YAML) that mean nothing to ``engine``, and what to say."""
    scopes = set(engine_scopes(cfg, engine))
    stray = [name for name in cfg.given if not scopes & set(spec(name).applies)]
    if not stray:
        return [], "", ""
    other = sorted({a for name in stray for a in spec(name).applies})[0]
    flags = ", ".join(flag_of(n) for n in stray)
    word = ENGINE_WORDS.get(engine_scopes(cfg, engine)[-1], engine)  # e.g. distill's student engine
    what = (f"{flags} {'applies' if len(stray) == 1 else 'apply'} to {other} models, not {cfg.model} ({word})")
    fix = (f"drop {'it' if len(stray) == 1 else 'them'}, or choose {ENGINE_WORDS.get(other, other)} "
           f"such as --model {EXAMPLE_MODEL.get(other, other)}")
    return stray, what, fix


def check_applies(cfg: TrainConfig, engine: str) -> None:
    """Refuse options set explicitly that mean nothing to ``engine`` (never silently ignored)."""
    stray, what, fix = stray_options(cfg, engine)
    if stray:
        raise ConfigError(what, fix)
    for name in cfg.given:  # e.g. --mu tunes --semi / --adapt: alone it would be silently ignored
        needs = spec(name).needs  # (a saved config.yaml holds the default: not a request)
        if needs and getattr(cfg, name) != default(name) and not any(getattr(cfg, other) for other in needs):
            wanted = " or ".join(flag_of(other) for other in needs)
            raise ConfigError(f"{flag_of(name)} only applies with {wanted}", f"add {wanted}, or drop {flag_of(name)}")


def checked_engine(cfg: TrainConfig, name: str | Engine | None = None) -> Engine:
    """The engine for ``cfg`` (a name, or an engine instance carrying extra callbacks) after every
    check that needs no data."""
    given = None if name is None or isinstance(name, str) else name
    name = given.name if given is not None else name or engine_name(cfg)
    check_applies(cfg, name)
    engine = given or get_engine(name)
    engine.check(cfg)
    return engine


def run_training(cfg: TrainConfig, resume: Path | None = None, engine: str | Engine | None = None,
                 background: bool = False) -> TrainResult | None:
    """Train and write a run folder; returns None on DDP ranks other than 0. ``background``: the
    report and plots are drawn by a detached process once the bundle is saved (``foveal train``)."""
    from foveal.data import ahead
    from foveal.data.load import load_dataset
    from foveal.runs.data import decode_ahead

    started = time.perf_counter()
    if not cfg.data:
        raise ConfigError("no training data given", "pass DATA: a folder, a manifest or a built-in dataset name")
    early = decode_ahead(cfg) if engine is None else None  # decoding overlaps the checks' imports
    try:
        eng = checked_engine(cfg, engine)
        folder = RunFolder.resuming(resume) if resume else RunFolder.plan(cfg)
        same = early is not None and eng.name == DEEP
        ds = early if same else load_dataset(cfg.data, cfg.task, labels=getattr(eng, "labels", "required"))
        eng.check_task(cfg, ds.task)
        data = eng.load(cfg, ds)
    finally:
        ahead.cancel()  # taken by now, unless the run stopped or the guess was wrong
    try:
        fitted = eng.fit(cfg, data, folder)
    except BaseException:
        folder.discard_if_unused()
        _curves_so_far(folder)
        raise
    if fitted is None:
        return None
    return finish(cfg, eng.name, data, fitted, folder, started, background)


def _curves_so_far(folder: RunFolder) -> None:
    """An interrupted (or failed) run keeps ``curves.png`` of the epochs it finished, next to its checkpoints."""
    from foveal.runs.record import write_curves

    if folder.path.is_dir() and (folder.path / "metrics.csv").is_file():
        try:
            write_curves(folder.path)
        except Exception:  # noqa: BLE001 - the run's own error is the one to report
            pass


def fit_model(cfg: TrainConfig, ds, engine: str | Engine | None = None, validation: bool = True) -> tuple[Fitted, object]:
    """Fit without a run folder (``ImageClassifier``): the same checks, data handling and engine;
    ``validation=False`` trains on every sample (no hold-out)."""
    eng = checked_engine(cfg, engine)
    eng.check_task(cfg, ds.task)
    data = eng.load(cfg, ds, validation)
    return eng.fit(cfg, data, None), data


def validate(data, model, proba: np.ndarray | None = None) -> tuple[dict, np.ndarray | None]:
    """Predict the validation part once (or take ``proba``, the engine's own prediction with the final
    weights): tune multi-label thresholds on it (updating the task), then score it."""
    from foveal.evaluation.metrics import evaluate_predictions
    from foveal.evaluation.thresholds import tune_label_thresholds

    if len(data.val.loaded.kept) == 0:
        return {}, None
    if proba is None or len(proba) != len(data.val.loaded.kept):
        proba = model.predict_proba(data.val.loaded.images)
    labels = data.val.labels()
    if isinstance(data.task, MultilabelTask):
        data.ds.task = MultilabelTask(data.task.classes, tune_label_thresholds(proba, data.task.encode(labels)))
    return evaluate_predictions(data.ds.task, labels, proba), proba


def finish(cfg: TrainConfig, engine: str, data, fitted: Fitted, folder: RunFolder, started: float,
           background: bool = False) -> TrainResult:
    """Score the validation part, then write the bundle and the run files; then draw the report and
    curves (in a detached process when ``background``)."""
    from foveal.bundle.format import save_bundle
    from foveal.runs.background import run_detached
    from foveal.runs.record import bundle_manifest, write_run_files

    metrics, proba = validate(data, fitted.model, fitted.val_proba)
    seconds = time.perf_counter() - started
    manifest = bundle_manifest(cfg, engine, data, fitted, metrics, seconds)
    if not folder.ready:
        folder.create()
        folder.write_config(cfg, engine)
    run_dir = folder.path
    bundle = save_bundle(run_dir / "model", manifest, fitted.model.files())
    write_run_files(run_dir, metrics, data.skipped)
    if fitted.settle:  # the last checkpoint was written while the bundle was; both land before drawing forks
        fitted.settle()
    report = bool(cfg.report and set(engine_scopes(cfg, engine)) & set(spec("report").applies))  # e.g. pretraining has none

    def draw() -> None:
        draw_run_files(run_dir, bundle, data, proba, report)

    needed = report or (run_dir / "metrics.csv").is_file()
    drawing = background and needed and run_detached(draw, run_dir / "report.log")
    if not drawing:
        draw()
    return TrainResult(run_dir=run_dir, bundle=bundle, metrics=metrics, n_train=len(data.train.loaded.kept),
                       n_val=len(data.val.loaded.kept), seconds=manifest["training"]["seconds"],
                       skipped=data.skipped, task=data.task.type, preprocessing=manifest["preprocessing"],
                       config=cfg, engine=engine, notes=fitted.notes, drawing=drawing)


def draw_run_files(run_dir: Path, bundle: Path, data, proba: np.ndarray | None, report: bool) -> None:
    """``curves.png`` (from metrics.csv, when the engine keeps one) and ``report.html``."""
    from foveal.runs.record import write_curves

    write_curves(run_dir)
    if report:
        from foveal.evaluation.report import write_training_report

        write_training_report(run_dir, bundle, data.val.ds, data.val.loaded, proba)
