"""``tune.html``: optimisation history, parameter importances, the trials and the best configuration."""

from __future__ import annotations

import io
from pathlib import Path

from foveal.files import atomic_write_text


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def history_png(study, metric: str) -> bytes | None:
    """Each finished trial's validation metric by trial number, and the best so far."""
    from matplotlib.figure import Figure

    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if not done:
        return None
    fig = Figure(figsize=(7, 3.4), layout="constrained")
    ax = fig.subplots()
    numbers, values = [t.number for t in done], [t.value for t in done]
    best, running = [], float("-inf")
    for v in values:
        running = max(running, v)
        best.append(running)
    pruned = [t for t in study.get_trials(deepcopy=False) if t.state.name == "PRUNED"]
    ax.scatter(numbers, values, s=22, label="trial")
    if pruned:
        last = [t.intermediate_values.get(t.last_step, float("nan")) if t.last_step is not None else float("nan")
                for t in pruned]
        ax.scatter([t.number for t in pruned], last, s=22, marker="x", label="pruned (last reported)")
    ax.step(numbers, best, where="post", color="C1", label="best so far")
    ax.set(xlabel="trial", ylabel=f"validation {metric}", title="optimisation history")
    ax.legend(loc="best")
    return _png(fig)


def importances(study) -> dict[str, float]:
    """Optuna's parameter importances (its default evaluator); empty when there are too few finished trials."""
    import warnings

    import optuna

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few trials: Optuna notes that importances are rough
            return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


def importance_png(values: dict[str, float]) -> bytes | None:
    if not values:
        return None
    from foveal.evaluation.plots import bar_chart

    return bar_chart(values, "parameter importances (Optuna)", xlabel="importance")


def trials_table(study) -> str:
    from foveal.evaluation.report_html import table

    trials = study.get_trials(deepcopy=False)
    names = sorted({k for t in trials for k in t.params})
    rows = [[t.number, t.state.name.lower(), t.value, t.user_attrs.get("seconds"), *(t.params.get(n) for n in names)]
            for t in trials]
    return table(["trial", "state", "value", "seconds", *names], rows)


def write_tune_page(path: Path, study, metric: str, best: dict, final: Path | None) -> Path:
    import yaml

    from foveal.evaluation.report_html import esc, figure, page, section, tiles

    values = importances(study)
    summary = {f"best validation {metric}": float(study.best_value), "best trial": study.best_trial.number,
               "trials": len(study.get_trials(deepcopy=False))}
    final_line = f"<p>Final model trained with it: <code>{esc(final)}</code></p>" if final else ""
    sections = [
        section("Best", tiles(summary) + f"<pre>{esc(yaml.safe_dump(best, sort_keys=False))}</pre>" + final_line),
        section("Optimisation history", figure(history_png(study, metric), "optimisation history")),
        section("Parameter importances", figure(importance_png(values), "parameter importances") or
                "<p class=\"note\">Too few finished trials to estimate importances.</p>"),
        section("Trials", trials_table(study)),
    ]
    atomic_write_text(path, page(f"Tuning study {study.study_name}", "Optuna TPE, validation metric maximised",
                                 sections))
    return path
