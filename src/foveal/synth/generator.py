"""The saved generator: ``generator.safetensors`` (weights) with its JSON metadata (spec, classes,
training data and options) inside the same file — no pickles — and drawing samples from it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from foveal.errors import BundleError
from foveal.synth.models import Generator, GanSpec

FILE = "generator.safetensors"
FORMAT = "foveal-generator"
META_KEY = "foveal"


@dataclass
class SavedGenerator:
    """A generator ready to sample, with its metadata and the sha256 of its file (its identity)."""

    module: Generator
    spec: GanSpec
    info: dict
    sha256: str
    path: Path


def save_generator(run_dir: Path, generator: Generator, info: dict) -> Path:
    """Write the generator's weights and ``info`` (plus its spec) atomically into ``run_dir``."""
    from safetensors.torch import save

    from foveal.files import atomic_write_bytes

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in generator.state_dict().items()}
    meta = {"format": FORMAT, "version": 1, "spec": generator.spec.to_json(), **info}
    return atomic_write_bytes(Path(run_dir) / FILE, save(tensors, metadata={META_KEY: json.dumps(meta)}))


def generator_file(path: Path) -> Path:
    """``path`` itself, or the generator file inside a run folder."""
    path = Path(path)
    found = path / FILE if path.is_dir() else path
    if not found.is_file():
        raise BundleError(f"no generator at {path}", f"give a `foveal synthesize` run folder holding {FILE}")
    return found


def load_generator(path: Path) -> SavedGenerator:
    """Load a saved generator (safetensors only; nothing is unpickled)."""
    from safetensors import safe_open
    from safetensors.torch import load

    found = generator_file(path)
    data = found.read_bytes()
    try:
        with safe_open(str(found), framework="pt") as f:
            info = json.loads((f.metadata() or {})[META_KEY])
        if info.get("format") != FORMAT:
            raise ValueError(f"format {info.get('format')!r}")
        spec = GanSpec.from_json(info["spec"])
        module = Generator(spec)
        module.load_state_dict(load(data))
    except (OSError, KeyError, ValueError, RuntimeError, json.JSONDecodeError) as err:
        raise BundleError(f"{found} is not a foveal generator ({err})",
                          "give a file written by `foveal synthesize`") from None
    module.eval()
    return SavedGenerator(module, spec, info, hashlib.sha256(data).hexdigest(), found)


@torch.no_grad()
def sample(generator: Generator, class_index: int, n: int, seed: int, batch: int = 256) -> np.ndarray:
    """``n`` uint8 images (n, H, W, C) of one class; the same (weights, class, n, seed) give the same images."""
    generator.eval()
    gen = torch.Generator().manual_seed(seed * 1_000_003 + class_index)
    z = torch.randn(n, generator.spec.z_dim, generator=gen)
    parts = []
    for start in range(0, n, batch):
        chunk = z[start:start + batch]
        out = generator(chunk, torch.full((len(chunk),), class_index, dtype=torch.long))
        parts.append(out.add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1))
    return torch.cat(parts).numpy() if parts else np.zeros((0, generator.spec.size, generator.spec.size,
                                                             generator.spec.channels), np.uint8)
