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
        self.fc = _classifier(channels, num_classes)

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
        self.fc = _classifier(self.num_features, num_classes)


def _classifier(features: int, num_classes: int) -> nn.Module:
    """The last layer; none for ``num_classes=0`` (a backbone), as timm does."""
    return nn.Linear(features, num_classes) if num_classes > 0 else nn.Identity()


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


PARAMS_LIMIT = 60  # parameter counts are computed only when at most this many architectures match


def pattern_glob(pattern: str | None) -> str:
    """A listing pattern as a lower-case glob: a substring, or a glob as given (``resnet*``)."""
    pattern = (pattern or "").lower()
    return pattern if any(c in pattern for c in "*?[") else f"*{pattern}*"


def matches(name: str, pattern: str | None) -> bool:
    """Whether ``name`` is listed for ``pattern`` (case-insensitive; see :func:`pattern_glob`)."""
    return fnmatch.fnmatchcase(name.lower(), pattern_glob(pattern))


def model_names(pattern: str | None = None) -> list[str]:
    """cnn-small and the timm architectures matching ``pattern``, own models first."""
    import timm

    own = [n for n in OWN_MODELS if matches(n, pattern)]
    return own + [n for n in timm.list_models(pattern_glob(pattern)) if n not in OWN_MODELS]


def _count_params(build) -> float | None:
    """Millions of parameters of the module ``build()`` makes on the meta device (no memory
    allocated); None when it cannot be built there."""
    import warnings

    try:
        with warnings.catch_warnings(), torch.device("meta"):
            warnings.simplefilter("ignore")
            net = build()
    except Exception:  # third-party constructors fail in many ways; the column then shows "—"
        return None
    return sum(p.numel() for p in net.parameters()) / 1e6


def describe_model(name: str, with_params: bool) -> dict:
    """``{"name", "family", "params_m", "input_size"}`` for one deep model: family is timm's
    module (resnet, vision_transformer, …) or "foveal"; params_m is millions of parameters
    (3 input channels, the default classes) or None when not computed; input_size is e.g. "224×224"."""
    if name in OWN_MODELS:
        params = _count_params(lambda: CnnSmall(in_chans=3, num_classes=10)) if with_params else None
        return {"name": name, "family": "foveal", "params_m": params, "input_size": "any (≥ 8 px)"}
    import timm
    from timm.models import model_entrypoint

    check_model(name)
    family = model_entrypoint(name.split(".", 1)[0]).__module__.rsplit(".", 1)[-1]  # drop a weight tag
    cfg = timm.get_pretrained_cfg(name)
    size = "×".join(str(int(s)) for s in cfg.input_size[1:]) if cfg is not None and cfg.input_size else "—"
    params = _count_params(lambda: timm.create_model(name, pretrained=False)) if with_params else None
    return {"name": name, "family": family, "params_m": params, "input_size": size}


def list_models(pattern: str | None = None) -> dict[str, str]:
    """Deep model names → one-line description; ``pattern`` is a substring or a glob (``resnet*``)."""
    out = {}
    for name in model_names(pattern):
        info = describe_model(name, with_params=False)
        out[name] = OWN_MODELS.get(name) or f"timm {info['family']} architecture, input {info['input_size']}"
    return out
