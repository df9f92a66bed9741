"""Transfer learning: loading ``--pretrained`` weights, re-initialising heads, freezing the backbone.

Weights are matched to the model by name and shape only (after stripping wrapper prefixes);
the one adaptation is timm's RGB ↔ gray first convolution. There is no positional matching:
pairing tensors of another architecture by order loads nonsense that trains to NaN.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch
from torch import nn

from foveal.errors import ConfigError

PREFIXES = ("module.", "_orig_mod.", "model.")
MIN_FRACTION = 0.5  # of the model's non-classifier tensors a --pretrained file must fill


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
            raise ConfigError(f"{path} is not a valid safetensors file ({err})".replace("\n", " "),
                              "re-export the weights") from None
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


def _counted(key: str) -> bool:
    """Whether a tensor counts in reports (batch-norm step counters do not)."""
    return not key.endswith("num_batches_tracked")


def _first(key: str) -> str:
    return key.split(".", 1)[0]


def _rename(names: dict[str, str], rename) -> dict[str, str]:
    """``names`` (current name → source key) with ``rename`` applied; a rename that would
    collide with a name already taken keeps its current name."""
    out: dict[str, str] = {}
    pending = []
    for name, original in names.items():
        new = rename(name)
        if new == name:
            out[name] = original
        else:
            pending.append((name, new, original))
    for name, new, original in pending:
        out[new if new not in out else name] = original
    return out


def _strip_wrappers(names: dict[str, str], taken: set[str]) -> dict[str, str]:
    """Drop ``module.`` / ``_orig_mod.`` / ``model.`` (DDP, torch.compile, Lightning wrappers)
    unless the model's own keys start with that component."""
    prefixes = [p for p in PREFIXES if p[:-1] not in taken]

    def strip(name: str) -> str:
        changed = True
        while changed:
            changed = False
            for prefix in prefixes:
                if name.startswith(prefix):
                    name, changed = name[len(prefix):], True
        return name

    return _rename(names, strip)


def _strip_shared(names: dict[str, str], target: dict) -> dict[str, str]:
    """Drop one leading component (``backbone.``, ``encoder.``) that most source keys share,
    the model's keys lack, and whose removal lets more names match."""
    counts = Counter(_first(n) for n in names if "." in n)
    if not counts:
        return names
    component, count = counts.most_common(1)[0]
    if count <= len(names) / 2 or component in {_first(k) for k in target}:
        return names
    prefix = f"{component}."
    renamed = _rename(names, lambda n: n[len(prefix):] if n.startswith(prefix) else n)
    return renamed if sum(n in target for n in renamed) > sum(n in target for n in names) else names


def source_names(source: dict, target: dict) -> dict[str, str]:
    """Model-side name → source key, after stripping wrapper prefixes and a shared extra component."""
    taken = {_first(k) for k in target}
    names = {k: k for k in source}
    for _ in range(4):  # e.g. module.backbone.model.<key>
        before = names
        names = _strip_shared(_strip_wrappers(names, taken), target)
        if names == before:
            break
    return names


def _first_conv(model: nn.Module, target: dict) -> str | None:
    """The model's input convolution: timm's ``first_conv``, else the first 4-d weight."""
    named = (getattr(model, "pretrained_cfg", None) or {}).get("first_conv")
    if isinstance(named, str) and f"{named}.weight" in target:
        return f"{named}.weight"
    return next((k for k, v in target.items() if v.ndim == 4), None)


def _adapt(value: torch.Tensor, target: torch.Tensor, first_conv: bool) -> torch.Tensor | None:
    """The value reshaped for ``target`` where that is meaningful (RGB ↔ gray first convolution)."""
    if value.shape == target.shape:
        return value
    if (first_conv and value.ndim == 4 and value.shape[0] == target.shape[0]
            and value.shape[2:] == target.shape[2:]):
        from timm.models import adapt_input_conv

        return adapt_input_conv(target.shape[1], value)
    return None


def head_keys(model: nn.Module) -> set[str]:
    """State-dict keys (parameters and buffers) of the model's classifier layer."""
    from foveal.deep.optim import classifier_names

    modules = {n.rsplit(".", 1)[0] for n in classifier_names(model)}
    return {k for k in model.state_dict() if k.rsplit(".", 1)[0] in modules}


def match_state(model: nn.Module, source: dict[str, torch.Tensor]) -> tuple[dict, dict]:
    """Map ``source`` onto the model's keys by name and shape (timm and torchvision share names
    for e.g. ResNets). Returns (matched state, report); the report's keys are ``loaded``,
    ``total``, ``skipped`` (alias ``unexpected``), ``missing``, ``reinitialised`` and
    ``body_loaded`` / ``body_total`` (non-classifier tensors). Classifier tensors that are not
    loaded count as re-initialised; batch-norm step counters are loaded but never counted."""
    target = model.state_dict()
    head = head_keys(model)
    names = source_names(source, target)
    conv = _first_conv(model, target)
    matched: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    for name, original in names.items():
        if name not in target:
            continue
        adapted = _adapt(source[original], target[name], name == conv)
        if adapted is not None:
            matched[name] = adapted
            used.add(original)
        elif name in head:
            used.add(original)  # a head of another size: consumed by re-initialising it
    counted = [k for k in target if _counted(k)]
    body = [k for k in counted if k not in head]
    skipped = sorted(k for k in source if k not in used and _counted(k))
    report = {"loaded": sum(k in matched for k in counted), "total": len(counted),
              "skipped": skipped, "unexpected": list(skipped),
              "missing": sorted(k for k in body if k not in matched),
              "reinitialised": sorted(k for k in counted if k in head and k not in matched),
              "body_loaded": sum(k in matched for k in body), "body_total": len(body)}
    return matched, report


def check_coverage(report: dict, path: str | Path, model: nn.Module | None = None) -> None:
    """Refuse weights that fill fewer than half of the model's non-classifier tensors."""
    loaded, total = report["body_loaded"], report["body_total"]
    if total and loaded >= MIN_FRACTION * total:
        return
    arch = getattr(model, "pretrained_cfg", {}).get("architecture") if model is not None else None
    same = f" ({arch})" if arch else ""
    raise ConfigError(f"--pretrained {path} fits only {loaded} of the model's {total} non-classifier tensors "
                      "by name and shape (another architecture?)",
                      f"use weights of the same architecture{same}, or train without --pretrained")


def load_pretrained(model: nn.Module, path: str | Path) -> dict:
    """Load ``path`` into ``model`` (classifier re-initialised if its shape differs); return the report
    (see :func:`match_state`). Weights that mostly do not fit the model are refused."""
    matched, report = match_state(model, read_state_dict(path))
    check_coverage(report, path, model)
    model.load_state_dict(matched, strict=False)
    return report


def _names(keys: list[str], limit: int = 4) -> str:
    shown = ", ".join(keys[:limit])
    return f"{shown}, … +{len(keys) - limit}" if len(keys) > limit else shown


def transfer_summary(report: dict, what: str = "pretrained weights") -> str:
    """One line for the console, e.g. ``pretrained weights: 120 of 122 tensors loaded,
    2 re-initialised (fc.bias, fc.weight), 0 skipped``."""
    parts = [f"{report['loaded']} of {report['total']} tensors loaded"]
    reinit = report.get("reinitialised", [])
    parts.append(f"{len(reinit)} re-initialised" + (f" ({_names(reinit)})" if reinit else ""))
    missing = report.get("missing", [])
    if missing:
        parts.append(f"{len(missing)} missing ({_names(missing)})")
    skipped = report.get("skipped", report.get("unexpected", []))
    parts.append(f"{len(skipped)} skipped" + (f" ({_names(skipped)})" if skipped else ""))
    return f"{what}: " + ", ".join(parts)


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
