"""``digits-imbalanced``: the built-in digits with one class made rare in training only.

The minority digit keeps ``MINORITY_FRACTION`` of its training images (a seeded choice, at least
one); every other class and the val / test splits are untouched, so test metrics stay comparable
with ``digits`` and the minority class is still measured on all of its test images.
"""

from __future__ import annotations

import numpy as np

MINORITY = "8"  # often confused with 3, 5 and 9: a class a model genuinely needs examples of
MINORITY_FRACTION = 0.05
_SEED = 8_2026


def kept_minority(n_train: int) -> int:
    """How many of ``n_train`` minority training images are kept."""
    return max(1, int(round(n_train * MINORITY_FRACTION)))


def digits_imbalanced() -> tuple[np.ndarray, list, list[str], str]:
    """Images, labels, split and task of the digits with the minority digit cut in training."""
    from foveal.data.builtin import load_builtin

    digits = load_builtin("digits")
    train_minority = [i for i, (y, s) in enumerate(zip(digits.labels, digits.split))
                      if y == MINORITY and s == "train"]
    keep = set(np.random.default_rng(_SEED).permutation(train_minority)[:kept_minority(len(train_minority))].tolist())
    dropped = set(train_minority) - keep
    rows = [i for i in range(len(digits.labels)) if i not in dropped]
    images = np.ascontiguousarray(digits.images[rows])
    return images, [digits.labels[i] for i in rows], [digits.split[i] for i in rows], digits.task
