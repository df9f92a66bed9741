"""Sample weights that balance subgroups × classes (``foveal train --reweight COLUMN``).

Each cell (a subgroup value and a class; for multi-label data the subgroup alone) gets the same
total weight: ``w_i = n / (cells · count(cell_i))``, so the weights average 1 and a rare cell
counts as much as a common one. Samples with no value form their own subgroup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

MAX_WEIGHT = 50.0  # one sample never counts more than this many average samples
MISSING = "(missing)"


def balancing_weights(groups: Sequence[str | None], labels: Sequence | None = None,
                      max_weight: float = MAX_WEIGHT) -> np.ndarray:
    """Weights (n,) float64 that give every (group, label) cell the same total weight, mean 1."""
    keys = [_key(g, None if labels is None else labels[i]) for i, g in enumerate(groups)]
    if not keys:
        return np.zeros(0)
    counts = Counter(keys)
    weights = np.array([len(keys) / (len(counts) * counts[k]) for k in keys], dtype=np.float64)
    weights = np.minimum(weights, max_weight)
    return weights / weights.mean()


def _key(group: str | None, label) -> tuple[str, str]:
    text = MISSING if group in (None, "") else str(group)
    if label is None or isinstance(label, list):  # multi-label: balance the subgroup alone
        return text, ""
    return text, str(label)
