"""Search spaces: the documented defaults per engine and model, and YAML overrides.

A space maps an option name (``lr``, ``augment``, ``features``…) or ``param.NAME`` (a classifier
parameter, e.g. ``param.C``) to a distribution::

    lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
    batch_size: {type: categorical, choices: [32, 64]}
    param.n_neighbors: {type: int, low: 1, high: 30}
    dropout: 0.2            # a plain value: fixed, not searched
    label_smoothing: null   # null: drop the default entry

Defaults — deep: lr 1e-4…1e-2 (log), weight_decay 1e-5…0.1 (log), dropout 0…0.5, augment
none/light/standard/strong, label_smoothing 0…0.2, batch_size 16/32/64/128. Classical: the feature set
(pixels, hog, hog+lbp, hog+color-hist) and per classifier svm C 0.1…1000 and gamma 1e-4…1 (log),
knn n_neighbors 1…30, random-forest n_estimators 50…500, logistic C 1e-3…100 (log), decision-tree
max_depth 2…30.
"""

from __future__ import annotations

from pathlib import Path

from foveal.errors import ConfigError

PARAM = "param."
TYPES = ("float", "int", "categorical")

DEEP_SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "weight_decay": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "augment": {"type": "categorical", "choices": ["none", "light", "standard", "strong"]},
    "label_smoothing": {"type": "float", "low": 0.0, "high": 0.2},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128]},
}
FEATURES = {"features": {"type": "categorical", "choices": ["pixels", "hog", "hog,lbp", "hog,color-hist"]}}
CLASSICAL_SPACES = {
    "svm": {"param.C": {"type": "float", "low": 0.1, "high": 1000.0, "log": True},
            "param.gamma": {"type": "float", "low": 1e-4, "high": 1.0, "log": True}},
    "knn": {"param.n_neighbors": {"type": "int", "low": 1, "high": 30}},
    "random-forest": {"param.n_estimators": {"type": "int", "low": 50, "high": 500}},
    "logistic": {"param.C": {"type": "float", "low": 1e-3, "high": 100.0, "log": True}},
    "decision-tree": {"param.max_depth": {"type": "int", "low": 2, "high": 30}},
}


def default_space(engine: str, model: str) -> dict:
    """The documented default space for ``engine`` (``classical`` or ``deep``) and ``model``."""
    if engine == "classical":
        return {**FEATURES, **CLASSICAL_SPACES.get(model, {})}
    return dict(DEEP_SPACE)


def read_space(file: str | Path | None, base: dict) -> dict:
    """``base`` overridden by the YAML ``file`` (entries replaced, ``null`` removes one); checked."""
    from foveal.config import read_yaml

    space = dict(base)
    for key, value in (read_yaml(file) if file else {}).items():
        if value is None:
            space.pop(str(key), None)
        else:
            space[str(key).replace("-", "_") if not str(key).startswith(PARAM) else str(key)] = value
    for key, value in space.items():
        check_entry(key, value, file)
    return space


def check_entry(key: str, value, where) -> None:
    from foveal.config import option_fields

    known = {f.name for f in option_fields()}
    if not key.startswith(PARAM) and key not in known:
        raise ConfigError(f"unknown option {key!r} in the search space {where or ''}".strip(),
                          "use training option names (lr, augment, …) or param.NAME for classifier parameters")
    if not isinstance(value, dict):
        return  # a fixed value
    kind = value.get("type")
    if kind not in TYPES:
        raise ConfigError(f"search space entry {key}: type {kind!r} is not one of {', '.join(TYPES)}",
                          f"write e.g. {key}: {{type: float, low: 0.1, high: 1}}")
    if kind == "categorical":
        if not isinstance(value.get("choices"), list) or not value["choices"]:
            raise ConfigError(f"search space entry {key}: categorical needs a non-empty choices list",
                              f"write e.g. {key}: {{type: categorical, choices: [a, b]}}")
        return
    low, high = value.get("low"), value.get("high")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)) or low > high:
        raise ConfigError(f"search space entry {key}: needs numbers low <= high, got {low!r}, {high!r}",
                          f"write e.g. {key}: {{type: {kind}, low: 1, high: 10}}")
    if value.get("log") and low <= 0:
        raise ConfigError(f"search space entry {key}: a log scale needs low > 0", "raise low or drop log")


def suggest(trial, space: dict) -> dict:
    """One trial's values: ``{option: value}`` with classifier parameters gathered under ``params``."""
    values: dict = {}
    for key, entry in space.items():
        if not isinstance(entry, dict):
            value = entry
        elif entry["type"] == "categorical":
            value = trial.suggest_categorical(key, entry["choices"])
        elif entry["type"] == "int":
            value = trial.suggest_int(key, int(entry["low"]), int(entry["high"]), log=bool(entry.get("log")))
        else:
            value = trial.suggest_float(key, float(entry["low"]), float(entry["high"]), log=bool(entry.get("log")))
        put(values, key, value)
    return values


def put(values: dict, key: str, value) -> None:
    if key.startswith(PARAM):
        values.setdefault("params", {})[key[len(PARAM):]] = value
    else:
        values[key] = value


def as_overrides(params: dict) -> dict:
    """A trial's ``params`` (Optuna's flat names) as config overrides."""
    out: dict = {}
    for key, value in params.items():
        put(out, key, value)
    return out
