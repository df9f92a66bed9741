"""Probability transforms every model kind shares: temperature scaling and renormalisation.

Lives below ``bundle/`` and ``evaluation/`` so a bundle applies its calibration without
importing the evaluation package (which fits the temperature).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-12


def apply_temperature(proba: np.ndarray, temperature: float, multilabel: bool = False) -> np.ndarray:
    """Rescale probabilities by a temperature on their logits.

    Single-label: ``softmax(log p / T)``; multi-label: ``sigmoid(logit(p) / T)`` per label.
    ``T > 1`` softens, ``T < 1`` sharpens; the ranking of classes never changes.
    """
    proba = np.asarray(proba, dtype=float)
    if multilabel:
        p = np.clip(proba, EPS, 1 - EPS)
        return 1.0 / (1.0 + np.exp(-(np.log(p) - np.log1p(-p)) / temperature))
    z = np.log(np.clip(proba, EPS, None)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def renormalized(proba: np.ndarray) -> np.ndarray:
    """Rows rescaled to sum to exactly 1 when they already do up to float32 noise (deep models)."""
    proba = np.asarray(proba, dtype=float)
    sums = proba.sum(axis=1, keepdims=True)
    if len(proba) and np.all(np.abs(sums - 1.0) < 1e-4):
        return proba / sums
    return proba
