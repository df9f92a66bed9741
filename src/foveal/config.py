"""Typed configs per command: defaults < YAML file < command-line flags."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from foveal.data.decode import DEFAULT_MAX_PIXELS
from foveal.errors import ConfigError


@dataclass
class TrainConfig:
    """Everything `foveal train` needs; the resolved copy is saved in the run folder."""

    data: str = ""
    model: str = "svm"
    features: str = "hog"
    task: str = "auto"
    image_size: int | str = "auto"
    channels: int | str = "auto"
    val_fraction: float = 0.2
    seed: int = 0
    params: dict = field(default_factory=dict)
    feature_params: dict = field(default_factory=dict)
    scale: str = "auto"
    max_skip_ratio: float = 0.1
    max_pixels: int = DEFAULT_MAX_PIXELS
    out: str | None = None
    name: str | None = None
    project: str = "runs"
    report: bool = True  # write report.html (validation split) into the run folder
    # deep models (cnn-small and timm architectures); ignored by classical ones
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adamw"
    schedule: str = "cosine"
    warmup_epochs: float = 1.0
    weight_decay: float = 0.05
    l1: float = 0.0
    dropout: float = 0.1
    label_smoothing: float = 0.0
    early_stopping: int = 0
    ema: bool = False
    ema_decay: float = 0.998
    amp: bool = False
    grad_clip: float = 0.0
    accumulate: int = 1
    deterministic: bool = False
    compile: bool = False
    channels_last: bool = False
    workers: int = 0
    cache: str = "auto"
    augment: str = "light"
    mixup: float = 0.0
    cutmix: float = 0.0
    class_weights: str = "none"
    sampler: str = "shuffle"
    loss: str = "ce"
    hierarchical_softmax: bool = False
    pretrained: str | None = None
    freeze_backbone: bool = False
    unfreeze_after: int = 0
    backbone_lr_scale: float = 0.1
    init_from: str | None = None
    device: str = "auto"

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist", "check the --config path") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML ({err})".replace("\n", " "), "fix the syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of option: value", "write e.g. `model: svm`")
    return data


def _coerce(name: str, value, default):
    """Check a YAML value against the field's default type (numbers from strings are not guessed)."""
    if value is None or default is None or isinstance(default, str) and name in ("image_size", "channels"):
        return value
    kind = type(default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"config option {name!r} should be {kind.__name__}, got {value!r}",
                          f"write e.g. {name}: {default!r}")
    return value


def resolve(cls, file: str | Path | None, overrides: dict):
    """Build ``cls`` from defaults, then the YAML ``file``, then non-None ``overrides``."""
    known = {f.name: f for f in fields(cls)}
    defaults = cls()
    values = {}
    for key, value in (read_yaml(file) if file else {}).items():
        name = str(key).replace("-", "_")
        if name not in known:
            raise ConfigError(f"unknown option {key!r} in {file}", f"known options: {', '.join(known)}")
        values[name] = _coerce(name, value, getattr(defaults, name))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**values)
