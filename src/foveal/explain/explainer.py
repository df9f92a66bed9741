"""``explain(predictor, images, method)``: attribution maps for any bundle, through the model surface.

Deep bundles use their differentiable view (``Predictor.differentiable()``) with the captum methods
of :mod:`foveal.explain.attribution`; classical bundles are explained by occlusion through
``predict_proba``, so every bundle can be explained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from foveal.errors import ConfigError
from foveal.explain.targets import ScoreSpace, chosen_targets, score_space

DEEP_METHODS = ("gradcam", "gradcam++", "integrated-gradients", "saliency", "occlusion", "attention")
CLASSICAL_METHODS = ("occlusion",)
DEFAULT_METHOD = "gradcam"


@dataclass
class Explanation:
    """One map: image ``index`` (a row of the images given), the ``target`` explained (a class or a
    tree node), the model's probability of it, and the (H, W) float32 map at the model's input size."""

    index: int
    target: str
    method: str
    score: float
    map: np.ndarray


def check_method(predictor, method: str) -> str:
    """The canonical method name, refused with the fix when this bundle cannot be explained by it."""
    import importlib.util

    from foveal.explain.attribution import ALIASES

    if importlib.util.find_spec("captum") is None:
        raise ConfigError("explanations need captum, which is not installed", "pip install 'foveal[explain]'")
    name = ALIASES.get(method.strip().lower(), method.strip().lower())
    allowed = DEEP_METHODS if predictor.family == "deep" else CLASSICAL_METHODS
    if name not in DEEP_METHODS:
        raise ConfigError(f"unknown explanation method {method!r}", f"use one of {', '.join(allowed)}")
    if name not in allowed:
        raise ConfigError(f"{name} needs a deep model's gradients; {predictor.path} is a classical model",
                          "use --method occlusion (model-agnostic)")
    if name == "attention" and not predictor.differentiable().target_layer.tokens:
        raise ConfigError("attention maps need a vision-transformer bundle", "use --method gradcam")
    return name


def image_tensor(images: np.ndarray):
    """uint8 (n, H, W, C) → float (n, C, H, W) in [0, 1], as the differentiable view takes them."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(255.0)


def proba_forward(predictor, space: ScoreSpace):
    """A function captum can perturb: float images in [0, 1] → probabilities over ``space`` (any bundle)."""
    import torch

    def forward(x: torch.Tensor) -> torch.Tensor:
        images = (x.detach().clamp(0, 1) * 255.0).round().byte().permute(0, 2, 3, 1).numpy()
        return torch.from_numpy(space.proba(predictor.predict_proba(images))).float()

    return forward


def score_forward(view, space: ScoreSpace):
    """The view's score module, over tree nodes for hierarchical tasks."""
    from foveal.explain.attribution import NodeScores

    return view.module if space.members is None else NodeScores(view.module, space.members).eval()


def maps_for(predictor, images: np.ndarray, targets: list[int], method: str, space: ScoreSpace,
             view=None) -> np.ndarray:
    """(n, H, W) maps of ``images`` for one target index each; ``view`` overrides the bundle's own
    differentiable view (the randomisation check passes a re-initialised copy)."""
    import torch

    from foveal.explain.attribution import attribute

    x, t = image_tensor(images), torch.as_tensor(targets, dtype=torch.long)
    if predictor.family != "deep":
        return attribute(proba_forward(predictor, space), None, x, t, method)
    view = view or predictor.differentiable()
    return attribute(score_forward(view, space), view.target_layer, x, t, method)


def explain(predictor, images: np.ndarray, method: str = DEFAULT_METHOD, target: str | None = None) -> list[Explanation]:
    """Maps for preprocessed uint8 images (n, H, W, C): for ``target`` (a class or tree node) or, by
    default, the prediction — one per predicted label (multi-label) or per level of the predicted
    path (hierarchical)."""
    method = check_method(predictor, method)
    images = np.asarray(images)
    if len(images) == 0:
        return []
    space = score_space(predictor.task)
    proba = predictor.predict_proba(images)
    chosen = chosen_targets(predictor.task, space, proba, target)
    rows = [(i, t) for i, targets in enumerate(chosen) for t in targets]
    maps = maps_for(predictor, images[[i for i, _ in rows]], [t for _, t in rows], method, space)
    probs = space.proba(proba)
    return [Explanation(i, space.names[t], method, float(probs[i, t]), maps[k]) for k, (i, t) in enumerate(rows)]
