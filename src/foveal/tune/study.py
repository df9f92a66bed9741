"""``foveal tune``: an Optuna study over a search space, resumable from its SQLite storage.

The data are decoded once; each trial fits the engine in memory on the same train/validation split
and is scored on the validation part (deep trials report every epoch to a MedianPruner). Killing the
process and running the same command again continues the study: trials left running are marked
failed and queued again. At the end: ``best.yaml`` (usable with ``foveal train --config``), a final
model trained with it (``final/``) and ``tune.html``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from foveal.errors import ConfigError, FovealError
from foveal.progress import info

DONE_STATES = ("COMPLETE", "PRUNED")
NOT_RECORDED = {"out", "name", "project", "report"}


@dataclass
class TuneSetup:
    """What every trial shares: the base options, the space, where the study lives."""

    values: dict  # option overrides from the command line (data included)
    config: Path | None  # a YAML of options under the flags
    space: dict
    trials: int
    out: Path
    storage: str
    study: str
    timeout: float | None = None
    seed: int = 0
    final: bool = True


@dataclass
class TuneResult:
    study: object
    best: dict
    best_value: float
    metric: str
    best_yaml: Path
    page: Path
    final: Path | None
    counts: dict = field(default_factory=dict)


def trial_config(setup: TuneSetup, overrides: dict):
    from foveal.config import resolve

    values = dict(setup.values)
    if "params" in overrides:
        values["params"] = {**(values.get("params") or {}), **overrides["params"]}
    values.update({k: v for k, v in overrides.items() if k != "params"})
    return resolve(setup.config, values)


def open_study(setup: TuneSetup, deep: bool):
    """Create or load the study; trials a killed process left running are failed and queued again."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1) if deep else optuna.pruners.NopPruner()
    study = optuna.create_study(storage=setup.storage, study_name=setup.study, direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=setup.seed), pruner=pruner,
                                load_if_exists=True)
    stale = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in stale:
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
    if stale:
        info(f"study {setup.study}: {len(stale)} trial(s) were cut off; queued again")
    return study


def counted(study) -> int:
    return sum(t.state.name in DONE_STATES for t in study.get_trials(deepcopy=False))


def make_objective(setup: TuneSetup, data, engine_name: str, metric_holder: dict):
    """The objective: fit one trial's configuration on the shared data, return its validation metric."""
    from foveal.deep.trainer import Interrupted
    from foveal.runs.engines import get_engine
    from foveal.runs.pipeline import validate
    from foveal.tune.space import suggest

    def objective(trial) -> float:
        cfg = trial_config(setup, suggest(trial, setup.space))
        engine = get_engine(engine_name)
        if hasattr(engine, "callbacks"):
            from foveal.tune.pruning import ReportToTrial

            engine.callbacks.append(ReportToTrial(trial))
        engine.check(cfg)
        started = time.perf_counter()
        try:
            fitted = engine.fit(cfg, data, None)
        except Interrupted:
            trial.study.enqueue_trial(trial.params, skip_if_exists=False)  # run it again next time
            raise
        metrics, _ = validate(data, fitted.model, fitted.val_proba)
        name, value = _objective_metric(metrics)
        metric_holder["metric"] = name
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
        trial.set_user_attr("metrics", {k: v for k, v in metrics.get("metrics", {}).items()
                                        if isinstance(v, (int, float))})
        info(f"trial {trial.number}: validation {name} {value:.4f} · {_shown(trial.params)}")
        return value

    return objective


def _objective_metric(metrics: dict) -> tuple[str, float]:
    from foveal.evaluation.metrics import headline

    heads = headline(metrics)
    if not heads:
        raise ConfigError("a trial has no validation metric (no validation images)",
                          "give DATA a val split or a --val-fraction above 0")
    name, value = next(iter(heads.items()))
    return name, float(value)


def _shown(params: dict) -> str:
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items())


def run_tune(setup: TuneSetup) -> TuneResult:
    """Run (or continue) the study to ``setup.trials`` finished trials, then write best.yaml, final/, tune.html."""
    from foveal.data.load import load_dataset
    from foveal.runs.engines import engine_name
    from foveal.runs.pipeline import checked_engine

    base = trial_config(setup, {})
    name = engine_name(base)
    engine = checked_engine(base, name)
    for key, entry in setup.space.items():  # every searched value must be a valid option before any work
        _check_extremes(setup, key, entry)
    setup.out.mkdir(parents=True, exist_ok=True)
    study = open_study(setup, deep=name != "classical")
    remaining = setup.trials - counted(study)
    holder: dict = {"metric": study.user_attrs.get("metric", "accuracy")}
    if remaining > 0:
        ds = load_dataset(base.data, base.task)
        engine.check_task(base, ds.task)
        data = engine.load(base, ds)
        info(f"study {setup.study}: {counted(study)} of {setup.trials} trials done; running {remaining} more")
        study.optimize(make_objective(setup, data, name, holder), n_trials=remaining, timeout=setup.timeout,
                       catch=(FovealError,), gc_after_trial=True)
        study.set_user_attr("metric", holder["metric"])
    return finish(setup, study, holder["metric"])


def _check_extremes(setup: TuneSetup, key: str, entry) -> None:
    from foveal.tune.space import put

    values = entry.get("choices", [entry.get("low"), entry.get("high")]) if isinstance(entry, dict) else [entry]
    for value in values:
        overrides: dict = {}
        put(overrides, key, int(value) if isinstance(entry, dict) and entry.get("type") == "int" else value)
        trial_config(setup, overrides)


def best_options(setup: TuneSetup, study) -> dict:
    """The base options given plus the best trial's values: a YAML for ``foveal train --config``."""
    from foveal.runs.engines import engine_name, engine_scopes
    from foveal.tune.space import as_overrides

    best = as_overrides(study.best_trial.params)
    cfg = trial_config(setup, best)
    names = set(trial_config(setup, {}).given) | set(best)
    plain = cfg.applied(engine_scopes(cfg, engine_name(cfg)))
    out = {k: v for k, v in plain.items() if k in names and k not in NOT_RECORDED}
    out["data"] = str(Path(str(cfg.data)).resolve()) if Path(str(cfg.data)).exists() else str(cfg.data)
    return out


def finish(setup: TuneSetup, study, metric: str) -> TuneResult:
    import yaml

    from foveal.files import atomic_write_text
    from foveal.tune.report import write_tune_page

    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    counts = {s: states.count(s) for s in ("COMPLETE", "PRUNED", "FAIL")}
    if not counts["COMPLETE"]:
        raise ConfigError(f"study {setup.study} has no completed trial", "look at the errors above; widen the space")
    best = best_options(setup, study)
    best_yaml = setup.out / "best.yaml"
    atomic_write_text(best_yaml, "# best configuration of study " + setup.study + " — `foveal train --config "
                      "best.yaml`\n" + yaml.safe_dump(best, sort_keys=False))
    final = train_final(setup, best_yaml) if setup.final else None
    page = write_tune_page(setup.out / "tune.html", study, metric, best, final)
    return TuneResult(study, best, float(study.best_value), metric, best_yaml, page, final, counts)


def train_final(setup: TuneSetup, best_yaml: Path) -> Path:
    """Train the final model with best.yaml into ``out/final`` (kept when it already holds this configuration)."""
    from foveal.config import read_yaml, resolve
    from foveal.files import atomic_write_text
    from foveal.runs.pipeline import run_training

    final = setup.out / "final"
    done = final / "model" / "foveal.json"
    if done.is_file() and (final / "best.yaml").is_file() and read_yaml(final / "best.yaml") == read_yaml(best_yaml):
        return final / "model"
    name = "final" if not final.exists() else f"final-{int(time.time())}"
    result = run_training(resolve(best_yaml, {"out": str(setup.out / name)}))
    atomic_write_text(result.run_dir / "best.yaml", best_yaml.read_text())
    return result.bundle
