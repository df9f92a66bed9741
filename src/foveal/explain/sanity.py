"""Checks that maps mean something (tested, not assumed).

- :func:`pointing_game` — the share of maps whose peak lies inside the object's box;
- :func:`randomisation_check` — Adebayo et al. (2018): the maps of a copy of the model with
  re-initialised weights must differ from the trained model's (Spearman rank correlation per image),
  while two runs on the trained model agree;
- :func:`deletion_check` — removing the most salient pixels must lower the target's probability more
  than removing as many random pixels.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np


def pointing_game(maps: np.ndarray, boxes: np.ndarray, tolerance: int = 0) -> float:
    """Share of (n, H, W) maps whose maximum falls inside its (top, left, bottom, right) box (± ``tolerance`` px)."""
    hits = []
    for values, (top, left, bottom, right) in zip(maps, boxes):
        y, x = np.unravel_index(int(np.argmax(values)), values.shape)
        hits.append(top - tolerance <= y < bottom + tolerance and left - tolerance <= x < right + tolerance)
    return float(np.mean(hits)) if hits else float("nan")


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a.ravel(), b.ravel()).statistic)


def randomised_view(view, seed: int = 0):
    """A deep copy of a differentiable view whose network weights are all re-initialised."""
    import torch

    clone = copy.deepcopy(view)
    torch.manual_seed(seed)
    for module in clone.module.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    clone.module.eval()
    return clone


@dataclass
class RandomisationResult:
    trained_vs_trained: float  # mean rank correlation of two runs on the trained model
    trained_vs_random: float  # … of the trained model against the re-initialised copy

    def to_json(self) -> dict:
        return {"trained_vs_trained": self.trained_vs_trained, "trained_vs_random": self.trained_vs_random}


def randomisation_check(predictor, images: np.ndarray, method: str = "gradcam", seed: int = 0) -> RandomisationResult:
    """Rank correlations of the trained model's maps with a second run and with a randomised model."""
    from foveal.explain.explainer import check_method, maps_for
    from foveal.explain.targets import chosen_targets, score_space

    method = check_method(predictor, method)
    space = score_space(predictor.task)
    targets = [t[0] for t in chosen_targets(predictor.task, space, predictor.predict_proba(images))]
    first = maps_for(predictor, images, targets, method, space)
    second = maps_for(predictor, images, targets, method, space)
    random = maps_for(predictor, images, targets, method, space, view=randomised_view(predictor.differentiable(), seed))
    return RandomisationResult(float(np.mean([_spearman(a, b) for a, b in zip(first, second)])),
                               float(np.mean([_spearman(a, b) for a, b in zip(first, random)])))


@dataclass
class DeletionResult:
    salient_drop: float  # mean fall of the target probability when the most salient pixels are removed
    random_drop: float  # … when as many random pixels are removed

    def to_json(self) -> dict:
        return {"salient_drop": self.salient_drop, "random_drop": self.random_drop}


def _removed(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Images with the masked pixels set to each image's mean (what "removing" means here)."""
    fill = images.reshape(len(images), -1, images.shape[-1]).mean(axis=1)[:, None, None, :]
    return np.where(masks[..., None], np.rint(fill).astype(np.uint8), images)


def deletion_check(predictor, images: np.ndarray, maps: np.ndarray, targets: list[int], fraction: float = 0.2,
                   seed: int = 0) -> DeletionResult:
    """Mean drop in the targets' probability after removing the top ``fraction`` of pixels by
    saliency, against removing a random ``fraction`` (same count per image)."""
    from foveal.explain.targets import score_space

    space = score_space(predictor.task)
    n, h, w = maps.shape
    k = max(1, int(round(fraction * h * w)))
    rows = np.arange(n)
    salient = np.zeros((n, h * w), bool)
    salient[rows[:, None], np.argsort(-maps.reshape(n, -1), axis=1, kind="stable")[:, :k]] = True
    rng = np.random.default_rng(seed)
    random = np.zeros((n, h * w), bool)
    random[rows[:, None], np.argsort(rng.random((n, h * w)), axis=1)[:, :k]] = True
    before = space.proba(predictor.predict_proba(images))[rows, targets]
    after_salient = space.proba(predictor.predict_proba(_removed(images, salient.reshape(n, h, w))))[rows, targets]
    after_random = space.proba(predictor.predict_proba(_removed(images, random.reshape(n, h, w))))[rows, targets]
    return DeletionResult(float(np.mean(before - after_salient)), float(np.mean(before - after_random)))
