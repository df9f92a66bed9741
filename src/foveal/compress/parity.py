"""Parity between a bundle and its converted copy: identical decisions, probabilities within a tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foveal.errors import FovealError

TOLERANCE = 1e-4  # max |Δprobability| for fp32 graphs


class RefusedError(FovealError):
    """A compression command refused its result (the CLI exits with status 1); nothing was written."""


class ParityError(RefusedError):
    """A converted model disagrees with its source beyond tolerance."""


class AccuracyDropError(RefusedError):
    """A compressed model loses more accuracy than allowed (``--max-drop``)."""


@dataclass
class Parity:
    n: int
    max_abs_diff: float
    decisions_identical: bool
    disagreements: int
    tolerance: float
    data: str
    split: str

    @property
    def ok(self) -> bool:
        return self.decisions_identical and self.max_abs_diff <= self.tolerance

    def to_json(self) -> dict:
        return {"n": self.n, "max_abs_diff": self.max_abs_diff, "decisions_identical": self.decisions_identical,
                "disagreements": self.disagreements, "tolerance": self.tolerance, "data": self.data,
                "split": self.split, "passed": self.ok}


def decisions(task, proba: np.ndarray) -> list:
    """What the task decides for each row (label, leaf path or label set), as comparable values."""
    return [tuple(p.label) if isinstance(p.label, list) else p.label for p in task.decode(proba)]


def compare(task, reference: np.ndarray, candidate: np.ndarray, sample, tolerance: float = TOLERANCE) -> Parity:
    """How far ``candidate`` probabilities are from ``reference`` on ``sample``'s images."""
    diff = float(np.max(np.abs(reference - candidate))) if len(reference) else 0.0
    ref, new = decisions(task, reference), decisions(task, candidate)
    wrong = sum(a != b for a, b in zip(ref, new))
    return Parity(n=len(reference), max_abs_diff=diff, decisions_identical=wrong == 0, disagreements=wrong,
                  tolerance=tolerance, data=sample.data, split=sample.split)


def require(parity: Parity, what: str, fix: str = "keep the source bundle, or report the architecture as a foveal bug") -> None:
    """Raise :class:`ParityError` unless ``parity`` holds."""
    if parity.ok:
        return
    problems = []
    if not parity.decisions_identical:
        problems.append(f"{parity.disagreements} of {parity.n} decisions differ")
    if parity.max_abs_diff > parity.tolerance:
        problems.append(f"max |Δp| {parity.max_abs_diff:.2e} > {parity.tolerance:.0e}")
    raise ParityError(f"{what} fails parity on {parity.n} images of {parity.data} ({parity.split}): "
                      f"{' and '.join(problems)}; no bundle written",
                      fix)
