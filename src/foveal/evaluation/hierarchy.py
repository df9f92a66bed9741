"""Hierarchical metrics over leaf paths ``a/b/c``: per-level accuracy, ancestor-augmented
precision / recall / F1 (Kiritchenko et al., micro-averaged) and mistake severity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from foveal.data.task import PATH_SEP


def ancestors(leaf: str) -> set[str]:
    """The node and every ancestor below the root: ``a/b/c`` → ``{a, a/b, a/b/c}``."""
    parts = leaf.split(PATH_SEP)
    return {PATH_SEP.join(parts[: i + 1]) for i in range(len(parts))}


def tree_distance(a: str, b: str) -> int:
    """Edges on the path between two nodes through their lowest common ancestor."""
    pa, pb = a.split(PATH_SEP), b.split(PATH_SEP)
    common = 0
    for x, y in zip(pa, pb):
        if x != y:
            break
        common += 1
    return (len(pa) - common) + (len(pb) - common)


def level_accuracies(labels: Sequence[str], predicted: Sequence[str], depth: int) -> dict:
    """``level_k_accuracy``: agreement of the first k levels, over samples at least k deep."""
    out = {}
    for level in range(1, depth + 1):
        pairs = [(t.split(PATH_SEP)[:level], p.split(PATH_SEP)[:level]) for t, p in zip(labels, predicted)
                 if len(t.split(PATH_SEP)) >= level]
        if pairs:
            out[f"level_{level}_accuracy"] = float(np.mean([t == p for t, p in pairs]))
    return out


def hierarchical_prf(labels: Sequence[str], predicted: Sequence[str]) -> dict:
    """hP = Σ|Â∩T̂| / Σ|Â|, hR = Σ|Â∩T̂| / Σ|T̂|, hF = their harmonic mean (T̂, Â: ancestor-augmented sets)."""
    inter = pred = true = 0
    for t, p in zip(labels, predicted):
        at, ap = ancestors(t), ancestors(p)
        inter += len(at & ap)
        pred += len(ap)
        true += len(at)
    hp = inter / pred if pred else float("nan")
    hr = inter / true if true else float("nan")
    hf = 2 * hp * hr / (hp + hr) if pred and true and hp + hr > 0 else 0.0
    return {"hierarchical_precision": hp, "hierarchical_recall": hr, "hierarchical_f1": hf}


def mistake_severity(labels: Sequence[str], predicted: Sequence[str]) -> tuple[dict, dict]:
    """Mean tree distance over mistakes and over all samples, and the count of each distance."""
    d = [tree_distance(t, p) for t, p in zip(labels, predicted)]
    wrong = [x for x in d if x > 0]
    metrics = {"mistake_severity": float(np.mean(wrong)) if wrong else 0.0,
               "mean_tree_distance": float(np.mean(d)) if d else float("nan")}
    return metrics, {str(k): v for k, v in sorted(Counter(wrong).items())}


def hierarchical(labels: Sequence[str], predicted: Sequence[str], depth: int) -> tuple[dict, dict]:
    """(extra metrics, extra details) for a hierarchical task."""
    m = level_accuracies(labels, predicted, depth)
    m.update(hierarchical_prf(labels, predicted))
    severity, counts = mistake_severity(labels, predicted)
    m.update(severity)
    return m, {"mistake_severity_counts": counts}
