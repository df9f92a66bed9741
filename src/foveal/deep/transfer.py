"""Transfer learning: loading ``--pretrained`` weights, re-initialising heads, freezing the backbone."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from foveal.errors import ConfigError

PREFIXES = ("module.", "_orig_mod.", "model.")


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A weights file: safetensors, or a weights-only torch state dict (never an arbitrary pickle)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--pretrained {path} does not exist", "give a .safetensors or .pth weights file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as err:  # safetensors raises its own error types on corrupt headers
            raise ConfigError(f"{path} is not a valid safetensors file ({err})", "re-export the weights") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # weights_only refuses pickled objects; report instead of running them
        raise ConfigError(f"{path} is not a weights-only state dict ({type(err).__name__})",
                          "save it with torch.save(model.state_dict()) or as .safetensors") from None
    return _unwrap(state, path)


def _unwrap(state, path: Path) -> dict[str, torch.Tensor]:
    for key in ("state_dict", "model", "module", "model_state"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"{path} does not hold a state dict of tensors", "save model.state_dict()")
    return state


def _strip(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in PREFIXES:
            if name.startswith(prefix):
                name, changed = name[len(prefix):], True
    return name


def _adapt(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
    """The value reshaped for ``target`` where that is meaningful (RGB ↔ gray first convolution)."""
    if value.shape == target.shape:
        return value
    if value.ndim == 4 and value.shape[0] == target.shape[0] and value.shape[2:] == target.shape[2:]:
        from timm.models import adapt_input_conv

        return adapt_input_conv(target.shape[1], value)
    return None


def match_state(model: nn.Module, source: dict[str, torch.Tensor]) -> tuple[dict, dict]:
    """Map ``source`` onto the model's keys: by name (timm and torchvision share names for
    e.g. ResNets), else — when names mostly differ — by position among tensors of equal shape.
    Returns (matched state, report)."""
    from foveal.deep.optim import classifier_names

    target = model.state_dict()
    modules = {n.rsplit(".", 1)[0] for n in classifier_names(model)}
    head = {k for k in target if k.rsplit(".", 1)[0] in modules}
    source = {_strip(k): v for k, v in source.items()}
    matched, reinit, used = {}, [], set()
    for key, value in source.items():
        if key in target:
            adapted = _adapt(value, target[key])
            if adapted is None:
                if key in head:
                    reinit.append(key)
                continue
            matched[key] = adapted
            used.add(key)
    body = [k for k in target if k not in head and not k.endswith("num_batches_tracked")]
    if body and sum(k in matched for k in body) < 0.5 * len(body):
        matched, used = _by_position(target, source, head)
        reinit = [k for k in head if k not in matched]
    report = {"loaded": len(matched), "missing": sorted(k for k in target if k not in matched and k not in reinit
                                                           and not k.endswith("num_batches_tracked")),
              "unexpected": sorted(k for k in source if k not in used and k not in reinit),
              "reinitialised": sorted(reinit)}
    return matched, report


def _by_position(target: dict, source: dict, head: set) -> tuple[dict, set]:
    """Pair tensors in order where shapes agree (different naming schemes, same architecture);
    a target tensor with no fitting source further on is left missing."""
    src = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    matched, used, j = {}, set(), 0
    for key, value in target.items():
        if key in head or key.endswith("num_batches_tracked"):
            continue
        for k in range(j, len(src)):
            adapted = _adapt(src[k][1], value)
            if adapted is not None:
                matched[key] = adapted
                used.add(src[k][0])
                j = k + 1
                break
    return matched, used


def load_pretrained(model: nn.Module, path: str | Path) -> dict:
    """Load ``path`` into ``model`` (classifier re-initialised if its shape differs); return the report."""
    matched, report = match_state(model, read_state_dict(path))
    if not matched:
        raise ConfigError(f"no tensor in {path} fits the model's layers", "use weights of the same architecture")
    model.load_state_dict(matched, strict=False)
    return report


def backbone_parameters(model: nn.Module) -> list[nn.Parameter]:
    head = {id(p) for p in model.get_classifier().parameters()}
    return [p for p in model.parameters() if id(p) not in head]


def set_backbone_frozen(model: nn.Module, frozen: bool) -> None:
    for p in backbone_parameters(model):
        p.requires_grad_(not frozen)


def train_mode(model: nn.Module, frozen: bool) -> None:
    """``model.train()``, but a frozen backbone keeps its batch-norm statistics (a true linear probe)."""
    model.train()
    if frozen:
        head = set(model.get_classifier().modules())
        for module in model.modules():
            if module not in head and isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
