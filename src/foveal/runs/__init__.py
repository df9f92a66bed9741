"""Runs: one life for every training engine — validate → load and split → fit → bundle → report.

- ``pipeline``: ``run_training`` (a run folder) and ``fit_model`` (in memory, for ``ImageClassifier``);
- ``engines``: the engine registry (``classical``, ``deep``; ``register_engine`` adds more);
- ``classical``, ``deep``: the two engines; ``data``: decoding once and content-aware splitting;
- ``folder``: the run folder; ``record``: the bundle manifest and run files; ``cv``: k-fold runs.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["TrainResult", "train"]


def __getattr__(name: str):
    if name == "TrainResult":
        from foveal.runs.pipeline import TrainResult

        return TrainResult
    raise AttributeError(name)


def train(data=None, config: str | Path | None = None, **options):
    """Train a model and write its run folder; ``options`` are `foveal train`'s (``epochs=10``,
    ``params={"C": 3}``, …), checked exactly as on the command line.

    >>> result = foveal.train("digits", model="svm", features="pixels")  # doctest: +SKIP
    """
    from foveal.config import resolve
    from foveal.runs.pipeline import run_training

    if data is not None:
        options["data"] = data
    return run_training(resolve(config, options))
