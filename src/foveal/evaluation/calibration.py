"""Calibration: expected calibration error, Brier score, reliability bins and temperature scaling.

Single-label tasks (binary, multiclass, hierarchical leaves) are judged on the
top-label confidence; multi-label tasks on every (sample, label) probability
as its own binary forecast.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from foveal.probability import EPS, renormalized

N_BINS = 15
T_BOUNDS = (0.05, 20.0)


def bin_index(p: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Equal-width bins ``(lo, hi]`` over [0, 1] (0 falls in the first), as sklearn's ``calibration_curve``."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], p, side="left")


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> list[dict]:
    """Per non-empty bin: bounds, count, mean confidence and observed frequency (accuracy)."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    idx = bin_index(confidence, n_bins)
    out = []
    for b in range(n_bins):
        mask = idx == b
        if mask.any():
            out.append({"lower": b / n_bins, "upper": (b + 1) / n_bins, "count": int(mask.sum()),
                        "confidence": float(confidence[mask].mean()), "accuracy": float(correct[mask].mean())})
    return out


def ece_from_bins(bins: list[dict]) -> float:
    """sum_b (n_b / n) |accuracy_b - confidence_b|."""
    total = sum(b["count"] for b in bins)
    if total == 0:
        return float("nan")
    return float(sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / total)


def confidence_and_correct(y: np.ndarray, proba: np.ndarray,
                           multilabel: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The forecasts and outcomes a reliability diagram plots.

    Single-label: the largest probability (top label), and whether that class is the true one.
    Multi-label: every label probability, and whether that label is present.
    """
    if multilabel:
        return proba.ravel(), np.asarray(y).ravel()
    top = np.argmax(proba, axis=1)
    return proba[np.arange(len(proba)), top], (top == y)


def ece(y: np.ndarray, proba: np.ndarray, multilabel: bool = False, n_bins: int = N_BINS) -> float:
    """Expected calibration error with ``n_bins`` equal-width bins (top-label for single-label tasks)."""
    conf, correct = confidence_and_correct(y, proba, multilabel=multilabel)
    return ece_from_bins(reliability_bins(conf, correct, n_bins))


def brier(y: np.ndarray, proba: np.ndarray, multilabel: bool = False) -> float:
    """scikit-learn's Brier score: binary on the positive class, multiclass over all classes
    (sklearn scales it by 1/2 to lie in [0, 1]), multi-label the mean of the per-label scores."""
    if multilabel:
        return float(np.mean([skm.brier_score_loss(y[:, j], proba[:, j], pos_label=1)
                              for j in range(proba.shape[1])]))
    if proba.shape[1] == 2:
        return float(skm.brier_score_loss(y, proba[:, 1], pos_label=1))
    return float(skm.brier_score_loss(y, proba, labels=np.arange(proba.shape[1])))


def nll(y: np.ndarray, proba: np.ndarray, multilabel: bool = False) -> float:
    """Negative log-likelihood (scikit-learn's ``log_loss``; multi-label: mean per-label log loss)."""
    if multilabel:
        return float(np.mean([skm.log_loss(y[:, j], proba[:, j], labels=[0, 1]) for j in range(proba.shape[1])]))
    return float(skm.log_loss(y, renormalized(proba), labels=np.arange(proba.shape[1])))


def fit_temperature(y: np.ndarray, proba: np.ndarray, multilabel: bool = False) -> float:
    """The temperature that minimises the NLL of ``apply_temperature(proba, T)`` on (y, proba).

    A bounded 1-D search over log T (Brent's method); the NLL is convex in 1/T.
    """
    from scipy.optimize import minimize_scalar

    y = np.asarray(y)
    if multilabel:
        p = np.clip(proba, EPS, 1 - EPS)
        z = np.log(p) - np.log1p(-p)

        def loss(log_t: float) -> float:
            s = z / np.exp(log_t)
            return float(np.mean(np.logaddexp(0, s) - y * s))  # binary cross-entropy on logits
    else:
        z = np.log(np.clip(proba, EPS, None))
        rows = np.arange(len(y))

        def loss(log_t: float) -> float:
            s = z / np.exp(log_t)
            m = s.max(axis=1)
            lse = m + np.log(np.exp(s - m[:, None]).sum(axis=1))
            return float(np.mean(lse - s[rows, y]))

    lo, hi = np.log(T_BOUNDS[0]), np.log(T_BOUNDS[1])
    result = minimize_scalar(loss, bounds=(lo, hi), method="bounded", options={"xatol": 1e-5})
    return float(np.exp(result.x))


def calibration_metrics(y: np.ndarray, proba: np.ndarray, multilabel: bool = False) -> tuple[dict, list[dict]]:
    """``({"ece", "brier", "log_loss"}, reliability bins)`` for one set of predictions."""
    conf, correct = confidence_and_correct(y, proba, multilabel)
    bins = reliability_bins(conf, correct)
    metrics = {"ece": ece_from_bins(bins), "brier": brier(y, proba, multilabel), "log_loss": nll(y, proba, multilabel)}
    return metrics, bins
