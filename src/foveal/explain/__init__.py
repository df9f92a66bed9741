"""Explanations: attribution maps (captum) for deep bundles, occlusion for every bundle, attention
rollout for vision transformers, overlays, and the sanity checks that show the maps mean something.

>>> predictor.explain(images, method="gradcam")  # doctest: +SKIP
"""

from __future__ import annotations

from foveal.explain.explainer import CLASSICAL_METHODS, DEEP_METHODS, Explanation, explain

__all__ = ["CLASSICAL_METHODS", "DEEP_METHODS", "Explanation", "explain"]
