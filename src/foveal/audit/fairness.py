"""``foveal audit``: metrics per subgroup (fairlearn's ``MetricFrame``), the gaps between subgroups
with bootstrap confidence intervals, and, for binary tasks, demographic parity and equalized odds.

MetricFrame is given the sample *indices* as ``y_true`` / ``y_pred``; each metric looks the labels,
decisions and probabilities up by index, so one frame serves every task type (multi-label too) and
bootstrap resampling keeps rows together. Subgroups with fewer than ``min_size`` samples are listed
and flagged, never ranked or used for gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foveal.errors import ConfigError, DataError

MISSING = "(missing)"
LOWER_IS_BETTER = frozenset({"false_positive_rate", "false_negative_rate", "ece"})
CI = (0.025, 0.975)


@dataclass
class Outcomes:
    """Per kept sample: encoded truth ``y``, decisions ``pred`` and probabilities ``proba``."""

    task_type: str
    y: np.ndarray
    pred: np.ndarray
    proba: np.ndarray


def _rates(y: np.ndarray, pred: np.ndarray, classes: np.ndarray) -> tuple[float, float]:
    """Macro recall and false-positive rate over ``classes`` (one-vs-rest)."""
    recall, fpr = [], []
    for c in classes:
        pos, neg = y == c, y != c
        recall.append(np.mean(pred[pos] == c) if pos.any() else np.nan)
        fpr.append(np.mean(pred[neg] == c) if neg.any() else np.nan)
    return _nanmean(recall), _nanmean(fpr)


def _nanmean(values: list[float]) -> float:
    """The mean of the defined values (NaN when none is: e.g. a subgroup without positives)."""
    defined = [v for v in values if v == v]
    return float(np.mean(defined)) if defined else float("nan")


def metric_functions(o: Outcomes) -> dict:
    """name → f(rows, rows) for MetricFrame (both arguments are the same index array)."""
    from foveal.evaluation.calibration import ece

    multi = o.task_type == "multilabel"

    def rates(rows):
        y, pred = o.y[rows], o.pred[rows]
        if multi:
            tp, fn = (y & pred).sum(), (y & ~pred).sum()
            fp, tn = (~y & pred).sum(), (~y & ~pred).sum()
            return tp / max(tp + fn, 1), fp / max(fp + tn, 1)
        classes = np.array([1]) if o.task_type == "binary" else np.unique(o.y)
        return _rates(y, pred, classes)

    funcs = {
        "accuracy": lambda r, _: float(np.mean(np.all(o.y[r] == o.pred[r], axis=1) if multi else o.y[r] == o.pred[r])),
        "recall": lambda r, _: float(rates(r)[0]),
        "false_positive_rate": lambda r, _: float(rates(r)[1]),
        "false_negative_rate": lambda r, _: float(1 - rates(r)[0]),
        "ece": lambda r, _: float(ece(o.y[r], o.proba[r], multi)),
    }
    if o.task_type == "binary":
        funcs["selection_rate"] = lambda r, _: float(np.mean(o.pred[r] == 1))
    return funcs


def outcomes(task, labels: list, proba: np.ndarray) -> Outcomes:
    from foveal.evaluation.classification import predicted_indices

    y = task.encode(labels)
    if task.type == "multilabel":
        return Outcomes(task.type, y.astype(bool), proba >= task.thresholds[None, :], proba)
    return Outcomes(task.type, y, predicted_indices(task, proba), proba)


def group_keys(ds, columns: list[str]) -> list[str]:
    """One subgroup name per sample: the value of each column (``(missing)`` when empty), joined by ``|``."""
    values = [ds.column(c) for c in columns]
    return ["|".join(MISSING if v[i] in (None, "") else str(v[i]) for v in values) for i in range(len(ds))]


def _frame(o: Outcomes, groups: np.ndarray, rows: np.ndarray, n_boot: int, seed: int):
    from fairlearn.metrics import MetricFrame

    boot = {"n_boot": n_boot, "ci_quantiles": list(CI), "random_state": seed} if n_boot else {}
    return MetricFrame(metrics=metric_functions(o), y_true=rows, y_pred=rows, sensitive_features=groups[rows], **boot)


def _gaps(frame, judged: bool) -> dict:
    if not judged:
        return {}
    by = frame.by_group
    diff, ratio = frame.difference(), frame.ratio()
    diff_ci = frame.difference_ci() if frame.n_boot else None
    out = {}
    for name in by.columns:
        col = by[name].dropna()
        if col.empty:
            continue
        worst = col.idxmax() if name in LOWER_IS_BETTER else col.idxmin()
        best = col.idxmin() if name in LOWER_IS_BETTER else col.idxmax()
        out[name] = {"difference": float(diff[name]), "ratio": float(ratio[name]), "worst_group": str(worst),
                     "best_group": str(best)}
        if diff_ci is not None:
            out[name]["difference_ci"] = [float(diff_ci[0][name]), float(diff_ci[-1][name])]
    return out


def _parity(o: Outcomes, groups: np.ndarray, rows: np.ndarray) -> dict:
    """Demographic-parity and equalized-odds differences (binary tasks; judged subgroups only)."""
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    if o.task_type != "binary" or len(set(groups[rows])) < 2:
        return {}
    y, pred, g = o.y[rows], o.pred[rows], groups[rows]
    return {"demographic_parity_difference": float(demographic_parity_difference(y, pred, sensitive_features=g)),
            "equalized_odds_difference": float(equalized_odds_difference(y, pred, sensitive_features=g))}


def audit_outcomes(o: Outcomes, groups: list[str], min_size: int = 20, n_boot: int = 200, seed: int = 0) -> dict:
    """``{"overall", "groups", "gaps", "flagged"}`` for one sample → subgroup assignment."""
    groups_arr = np.asarray(groups, dtype=object)
    names, counts = np.unique(groups_arr, return_counts=True)
    sizes = dict(zip(names.tolist(), counts.tolist()))
    flagged = sorted(g for g, n in sizes.items() if n < min_size)
    every = _frame(o, groups_arr, np.arange(len(groups_arr)), 0, seed)
    judged_rows = np.flatnonzero(~np.isin(groups_arr, flagged))
    judged = len(sizes) - len(flagged) >= 2
    frame = _frame(o, groups_arr, judged_rows, n_boot, seed) if judged else None
    out_groups = {}
    for name in every.by_group.index:
        row = {"n": sizes[name], **{k: _num(v) for k, v in every.by_group.loc[name].items()},
               "too_small": name in flagged}
        if frame is not None and frame.n_boot and name in frame.by_group.index:
            lo, hi = frame.by_group_ci[0].loc[name], frame.by_group_ci[-1].loc[name]
            row["ci"] = {k: [_num(lo[k]), _num(hi[k])] for k in frame.by_group.columns}
        out_groups[str(name)] = row
    gaps = {**_gaps(frame, judged), **_parity(o, groups_arr, judged_rows)} if frame is not None else {}
    return {"overall": {k: _num(v) for k, v in every.overall.items()}, "groups": out_groups, "gaps": gaps,
            "flagged": flagged}


def _num(value) -> float | None:
    value = float(value)
    return None if value != value else value


def run_audit(bundle, data, by: list[str], split: str | None = None, min_size: int = 20, n_boot: int = 200,
              seed: int = 0, tta: bool = False, max_skip_ratio: float = 0.1) -> dict:
    """Audit ``bundle`` on ``data``'s split (default: test, else all) by the subgroups of ``by`` columns."""
    from foveal.audit.tta import tta_views, with_tta
    from foveal.bundle import load_bundle
    from foveal.data.load import load_dataset

    from foveal.audit import require

    require("fairlearn")
    if not by:
        raise ConfigError("no subgroup column given", "write e.g. --by site (or --by site,scanner)")
    if min_size < 1 or n_boot < 0:
        raise ConfigError("--min-size must be at least 1 and --bootstrap at least 0", "write e.g. --min-size 20")
    predictor = load_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle
    predictor = with_tta(predictor) if tta else predictor
    ds = load_dataset(data, predictor.task)
    which = split or ("test" if "test" in ds.splits else "all")
    part = ds.select(which)
    keys = group_keys(part, by)  # a missing column fails here, before any image is decoded
    proba, loaded = predictor.predict_dataset(part, max_skip_ratio=max_skip_ratio)
    if len(loaded.kept) == 0:
        raise DataError(f"no image of {part.name} could be decoded", "run `foveal data check` on it")
    o = outcomes(predictor.task, [part.labels[i] for i in loaded.kept], proba)
    body = audit_outcomes(o, [keys[i] for i in loaded.kept], min_size, n_boot, seed)
    return {"by": ",".join(by), "bundle": str(predictor.path), "data": ds.name, "split": which,
            "task": predictor.task.type, "n": int(len(loaded.kept)), "min_size": min_size, "bootstrap": n_boot,
            "tta": tta_views(predictor), **body, "skipped": loaded.skipped}
