"""Training checkpoints: one safetensors file per checkpoint, no pickles.

Tensors (model, EMA, optimizer state, RNG states) are safetensors entries; everything
else (epoch, history, optimizer hyper-parameters, numpy / Python RNG states) is JSON in
the file's metadata. Files are written to a temporary sibling and renamed into place.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch

from foveal.errors import BundleError
from foveal.files import atomic_write_bytes

META_KEY = "foveal"


def owned(tensor: torch.Tensor) -> torch.Tensor:
    """A contiguous CPU copy (one copy, also of a channels-last tensor) that training cannot change."""
    return tensor.detach().to("cpu", memory_format=torch.contiguous_format, copy=True)


def _split_state(prefix: str, state: dict, tensors: dict, plain: dict) -> None:
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            tensors[f"{prefix}{key}"] = owned(value)
        else:
            plain[key] = value


def optimizer_to_flat(state: dict, tensors: dict) -> dict:
    """Move an optimizer ``state_dict``'s tensors into ``tensors``; return the JSON-able rest."""
    rest: dict = {"param_groups": state["param_groups"], "state": {}}
    for idx, entry in state["state"].items():
        plain: dict = {}
        _split_state(f"optim/{idx}/", entry, tensors, plain)
        rest["state"][str(idx)] = plain
    return rest


def optimizer_from_flat(rest: dict, tensors: dict) -> dict:
    state: dict = {}
    for idx, plain in rest["state"].items():
        prefix = f"optim/{idx}/"
        entry = dict(plain)
        entry.update({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        state[int(idx)] = entry
    return {"state": state, "param_groups": rest["param_groups"]}


def rng_snapshot(augment_gen: torch.Generator, tensors: dict) -> dict:
    """Save every random stream training draws from (torch, CUDA, augmentation, numpy, Python)."""
    tensors["rng/torch"] = torch.get_rng_state()
    tensors["rng/augment"] = augment_gen.get_state()
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = s
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, state, py_gauss = random.getstate()
    return {"numpy": [kind, keys.tolist(), pos, has_gauss, gauss], "python": [version, list(state), py_gauss]}


def rng_restore(plain: dict, tensors: dict, augment_gen: torch.Generator) -> None:
    torch.set_rng_state(tensors["rng/torch"])
    augment_gen.set_state(tensors["rng/augment"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng/cuda/"))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    kind, keys, pos, has_gauss, gauss = plain["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, state, py_gauss = plain["python"]
    random.setstate((version, tuple(state), py_gauss))


def checkpoint_bytes(tensors: dict[str, torch.Tensor], info: dict) -> bytes:
    """``tensors`` and the JSON ``info`` as the bytes of one safetensors file (a copy: training may go on)."""
    from safetensors.torch import save

    clean = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    return save(clean, metadata={META_KEY: json.dumps(info)})


def save_checkpoint(path: Path, tensors: dict[str, torch.Tensor], info: dict) -> Path:
    """Write ``tensors`` and the JSON ``info`` atomically as one safetensors file."""
    return atomic_write_bytes(Path(path), checkpoint_bytes(tensors, info))


def read_info(path: Path) -> dict:
    """The JSON part of a checkpoint, without loading its tensors."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return json.loads((f.metadata() or {})[META_KEY])
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as err:
        raise BundleError(f"{path} is not a foveal checkpoint ({err})", "resume from a run folder written by foveal") from None


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and info of a checkpoint (safetensors only: nothing is unpickled)."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise BundleError(f"{path} does not exist", "resume a run folder that holds checkpoints/last.safetensors")
    info = read_info(path)
    return load_file(str(path)), info


def prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def snapshot(loop) -> tuple[dict[str, torch.Tensor], dict]:
    """The full training state of a ``trainer.Loop``: weights, EMA, optimizer, scaler, RNGs, progress.
    Every tensor is a contiguous copy that training, going on, cannot change."""
    from dataclasses import asdict

    parts = loop.parts
    tensors = {f"model/{k}": owned(v) for k, v in parts.net.state_dict().items()}
    if parts.ema is not None:
        tensors.update({f"ema/{k}": owned(v) for k, v in parts.ema.module.state_dict().items()})
    tensors.update({f"head/{k}": owned(v) for k, v in parts.head.state_dict().items()})  # stateful objectives
    info = {"format": "foveal-checkpoint", "version": 1, "state": asdict(loop.state),
            "optimizer": optimizer_to_flat(parts.optimizer.state_dict(), tensors),
            "rng": rng_snapshot(parts.gen, tensors), "scaler": parts.scaler.state_dict(), "spec": parts.spec}
    return tensors, info


def restore(loop, tensors: dict[str, torch.Tensor], info: dict) -> None:
    """Put a ``snapshot`` back into a freshly built loop (same config, same data)."""
    from foveal.deep.trainer import LoopState

    parts = loop.parts
    if info.get("format") != "foveal-checkpoint" or info.get("spec", {}).get("architecture") != parts.spec["architecture"]:
        raise BundleError("the checkpoint does not match this run's model", "resume the run folder it came from")
    parts.net.load_state_dict(prefixed(tensors, "model/"))
    if parts.ema is not None:
        parts.ema.module.load_state_dict(prefixed(tensors, "ema/"))
    head = prefixed(tensors, "head/")
    if head:  # checkpoints written before heads were saved have none
        parts.head.load_state_dict(head)
    parts.optimizer.load_state_dict(optimizer_from_flat(info["optimizer"], tensors))
    if info.get("scaler"):
        parts.scaler.load_state_dict(info["scaler"])
    loop.state = LoopState(**info["state"])
    parts.schedule.step(loop.state.updates)
    rng_restore(info["rng"], tensors, parts.gen)
