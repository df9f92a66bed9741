"""Hand-made image features as scikit-learn transformers, created by name.

>>> extractor = create_features("hog,lbp", hog={"orientations": 12})

Extractor modules (and scikit-image) are imported only when first used.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from foveal.errors import ConfigError

if TYPE_CHECKING:
    from sklearn.pipeline import FeatureUnion

    from foveal.features.base import ImageFeatures

__all__ = ["TRUSTED_TYPES", "create_features", "list_features"]


class _Entry(NamedTuple):
    module: str
    cls: str
    description: str


_REGISTRY: dict[str, _Entry] = {
    "pixels": _Entry("pixels", "PixelFeatures", "raw intensities scaled to [0, 1], flattened at native size"),
    "color-hist": _Entry(
        "color", "ColorHistogram", "normalized per-channel histograms (HSV for RGB, intensity for gray)"
    ),
    "hog": _Entry("texture", "HOGFeatures", "histogram of oriented gradients, cell size relative to the image"),
    "lbp": _Entry("texture", "LBPFeatures", "multi-scale rotation-invariant uniform local binary pattern histograms"),
    "sift-bow": _Entry(
        "keypoints", "BagOfWordsFeatures", "bag of visual words: SIFT (or ORB) descriptors on a k-means codebook"
    ),
    "edges": _Entry("edges", "EdgeFeatures", "Canny edge density and mean Sobel magnitude per grid cell"),
    "corners": _Entry("edges", "CornerFeatures", "mean Harris corner response and corner count per grid cell"),
}

#: Fully qualified names of every extractor class: the allow-list for loading bundles with skops.
TRUSTED_TYPES: list[str] = sorted({f"{__name__}.{e.module}.{e.cls}" for e in _REGISTRY.values()})


def list_features() -> dict[str, str]:
    """Feature name → one-line description."""
    return {name: entry.description for name, entry in _REGISTRY.items()}


def _class_of(name: str) -> type:
    entry = _REGISTRY[name]
    return getattr(importlib.import_module(f"{__name__}.{entry.module}"), entry.cls)


def _param_names(cls: type) -> set[str]:
    return {p for p in inspect.signature(cls.__init__).parameters if p != "self"}


def _parse_spec(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [str(p).strip().lower().replace("_", "-") for p in parts if str(p).strip()]
    valid = ", ".join(_REGISTRY)
    if not names:
        raise ConfigError(f"no feature named in {spec!r}", f"name one or more of: {valid}")
    unknown = [n for n in names if n not in _REGISTRY]
    if unknown:
        raise ConfigError(f"unknown feature {', '.join(map(repr, unknown))}", f"use one or more of: {valid}")
    if len(set(names)) != len(names):
        raise ConfigError(f"feature named twice in {spec!r}", "name each feature once")
    return names


def _split_params(params: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Separate per-feature dicts (keyed by feature name) from parameters shared by all."""
    per_feature: dict[str, dict[str, Any]] = {}
    shared: dict[str, Any] = {}
    for key, value in params.items():
        name = key.replace("_", "-")
        if name in _REGISTRY:
            if not isinstance(value, Mapping):
                fix = f'use {key}={{"param": value}}'
                raise ConfigError(f"parameters for {name!r} must be a mapping, got {value!r}", fix)
            per_feature[name] = dict(value)
        else:
            shared[key] = value
    return per_feature, shared


def _check_accepted(label: str, given: Mapping[str, Any], accepted: set[str]) -> None:
    unknown = sorted(set(given) - accepted)
    if unknown:
        raise ConfigError(
            f"{label} has no parameter {', '.join(unknown)}", f"valid parameters: {', '.join(sorted(accepted))}"
        )


def create_features(spec: str | list[str] | tuple[str, ...], **params: Any) -> ImageFeatures | FeatureUnion:
    """Build the extractor(s) named by ``spec`` ("hog", "hog,lbp" or a list).

    ``params`` are either per-feature mappings keyed by feature name
    (``hog={"orientations": 12}``, ``**{"sift-bow": {...}}``) or parameters given to
    every selected extractor that accepts them (``n_jobs=2``). Several names give a
    FeatureUnion whose parts are named after the features.
    """
    names = _parse_spec(spec)
    per_feature, shared = _split_params(params)
    classes = {name: _class_of(name) for name in names}
    accepted_by_any = set().union(*(_param_names(cls) for cls in classes.values()))
    _check_accepted(f"feature {' / '.join(names)}", shared, accepted_by_any)
    parts = []
    for name, cls in classes.items():
        accepted = _param_names(cls)
        own = per_feature.get(name, {})
        _check_accepted(f"feature {name}", own, accepted)
        parts.append((name, cls(**{**{k: v for k, v in shared.items() if k in accepted}, **own})))
    if len(parts) == 1:
        return parts[0][1]
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(parts)


def __getattr__(attr: str) -> Any:
    """Lazy access to the extractor classes, e.g. ``foveal.features.HOGFeatures``."""
    if attr == "ImageFeatures":
        return importlib.import_module(f"{__name__}.base").ImageFeatures
    for name, entry in _REGISTRY.items():
        if entry.cls == attr:
            return _class_of(name)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
