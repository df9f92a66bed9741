"""foveal: from a folder of images to a trained, evaluated image classifier.

Public API (imports stay lazy so ``import foveal`` is fast):
``load_dataset``, ``load_bundle``, ``train``, ``evaluate``, ``ImageClassifier``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["ImageClassifier", "load_dataset", "load_bundle", "train", "evaluate", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from foveal.bundle import load_bundle
    from foveal.estimator import ImageClassifier
    from foveal.data.load import load_dataset
    from foveal.evaluation.run import evaluate_bundle as evaluate
    from foveal.runs import train

_LAZY = {
    "ImageClassifier": ("foveal.estimator", "ImageClassifier"),
    "load_dataset": ("foveal.data.load", "load_dataset"),
    "load_bundle": ("foveal.bundle", "load_bundle"),
    "train": ("foveal.runs", "train"),
    "evaluate": ("foveal.evaluation.run", "evaluate_bundle"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'foveal' has no attribute {name!r}")
