"""The model registry: foveal's own ``cnn-small`` plus every timm architecture, by name."""

from __future__ import annotations

import fnmatch

import torch
from torch import nn

from foveal.errors import ConfigError

OWN_MODELS = {"cnn-small": "textbook CNN: 3 × (conv-BN-ReLU ×2, max-pool), dropout, FC, softmax"}


class CnnSmall(nn.Module):
    """Conv → batch-norm → ReLU → max-pool blocks, global pooling, dropout, one fully connected layer.

    Follows timm's interface (``forward_features`` / ``forward_head`` / ``get_classifier`` /
    ``reset_classifier``) so the trainer, transfer learning and explainers treat it like a timm model.
    """

    def __init__(self, in_chans: int = 3, num_classes: int = 10, drop_rate: float = 0.2,
                 widths: tuple[int, ...] = (32, 64, 128)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_chans
        for width in widths:
            for _ in range(2):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                           nn.ReLU(inplace=True)]
                channels = width
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        self.num_features = channels
        self.num_classes = num_classes
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(drop_rate)
        self.fc = nn.Linear(channels, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.drop(self.pool(x).flatten(1))
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.fc = nn.Linear(self.num_features, num_classes)


def is_deep_model(name: str) -> bool:
    """True for ``cnn-small`` and any architecture timm can build."""
    if name in OWN_MODELS:
        return True
    import timm

    return timm.is_model(name)


def check_model(name: str) -> None:
    if not is_deep_model(name):
        raise ConfigError(f"unknown model {name!r}",
                          "run `foveal models PATTERN` to list classical models and timm architectures")


def timm_args(name: str, image_size: tuple[int, int], drop_rate: float) -> dict:
    """Keyword arguments for ``timm.create_model`` beyond channels and classes (stored in the bundle)."""
    args: dict = {"drop_rate": drop_rate}
    if name in OWN_MODELS:
        return args
    import timm

    cfg = timm.get_pretrained_cfg(name)
    if cfg is not None and cfg.fixed_input_size:  # ViT-style models are built for one input size
        args["img_size"] = list(image_size)
    return args


def build_model(name: str, in_chans: int, num_classes: int, args: dict) -> nn.Module:
    """A freshly initialised network (never downloads weights)."""
    check_model(name)
    if name in OWN_MODELS:
        return CnnSmall(in_chans=in_chans, num_classes=num_classes, **args)
    import timm

    kwargs = dict(args)
    if "img_size" in kwargs:
        kwargs["img_size"] = tuple(kwargs["img_size"])
    try:
        return timm.create_model(name, pretrained=False, in_chans=in_chans, num_classes=num_classes, **kwargs)
    except (TypeError, ValueError, AssertionError, RuntimeError) as err:
        raise ConfigError(f"timm cannot build {name!r} with {kwargs} ({err})".replace("\n", " "),
                          "try a larger --image-size or another architecture") from None


def default_image_side(name: str) -> int:
    """The model's own input side (timm's pretrained config), for ``--image-size model``."""
    if name in OWN_MODELS:
        return 32
    import timm

    cfg = timm.get_pretrained_cfg(name)
    return int(cfg.input_size[-1]) if cfg is not None else 224


def list_models(pattern: str | None = None) -> dict[str, str]:
    """Deep model names → description; ``pattern`` is a substring or a glob (``resnet*``)."""
    import timm

    glob = pattern if pattern and any(c in pattern for c in "*?[") else f"*{pattern or ''}*"
    out = {n: d for n, d in OWN_MODELS.items() if fnmatch.fnmatch(n, glob)}
    out.update({n: "timm architecture" for n in timm.list_models(glob)})
    return out
