"""Deep bundles: ``weights.safetensors`` plus the architecture and head in ``foveal.json``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from foveal.bundle.format import read_file
from foveal.errors import BundleError

WEIGHTS_FILE = "weights.safetensors"


class DeepModel:
    """A network + head over (n, H, W, C) uint8 images; normalisation happens inside."""

    def __init__(self, net, head, mean, std, spec: dict, batch_size: int = 256) -> None:
        import torch

        self.net = net.eval()
        self.head = head
        self.mean = torch.as_tensor(mean, dtype=torch.float32)
        self.std = torch.as_tensor(std, dtype=torch.float32)
        self.spec = spec
        self.batch_size = batch_size

    @classmethod
    def from_parts(cls, parts) -> "DeepModel":
        """The validated weights (EMA when on) of a training run."""
        return cls(parts.eval_net, parts.head, parts.mean, parts.std, parts.spec)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes), batched, without gradients."""
        import torch

        from foveal.deep.batches import normalize

        device = next(self.net.parameters()).device
        self.net.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(images[start:start + self.batch_size]))
                x = normalize(chunk.permute(0, 3, 1, 2).float().div_(255.0), self.mean, self.std)
                out.append(self.head.proba(self.net(x.to(device))).cpu())
        return torch.cat(out).double().numpy()

    def state_dict(self) -> dict:
        return {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}

    def files(self) -> dict[str, bytes]:
        from safetensors.torch import save

        return {WEIGHTS_FILE: save(self.state_dict())}

    @classmethod
    def load(cls, path: Path, manifest: dict) -> "DeepModel":
        from safetensors.torch import load

        from foveal.data.task import task_from_json
        from foveal.deep.heads import make_head
        from foveal.deep.models import build_model

        spec = manifest["model"]
        prep = manifest["preprocessing"]
        data = read_file(path, WEIGHTS_FILE, manifest)
        try:
            net = build_model(spec["architecture"], spec["in_chans"], spec["num_outputs"], spec.get("timm_args", {}))
            net.load_state_dict(load(data))
        except Exception as err:  # shape or key mismatches: a damaged or foreign bundle
            raise BundleError(f"{Path(path) / WEIGHTS_FILE} does not fit {spec.get('architecture')!r} ({err})"
                              .replace("\n", " "), "retrain, or use the foveal version that wrote it") from None
        head = make_head(task_from_json(manifest["task"]), hierarchical_softmax=False)
        return cls(net, head, prep["mean"], prep["std"], spec)


def read_bundle_weights(path: Path) -> dict:
    """An existing deep bundle's spec, weights, normalisation and task (for ``--init-from``)."""
    from safetensors.torch import load

    from foveal.bundle import resolve_bundle_path
    from foveal.bundle.format import read_manifest

    path = resolve_bundle_path(path)
    manifest = read_manifest(path)
    if manifest.get("kind") != "deep":
        raise BundleError(f"{path} holds a {manifest.get('kind')} model", "--init-from needs a deep bundle")
    prep = manifest["preprocessing"]
    return {"spec": manifest["model"], "weights": load(read_file(path, WEIGHTS_FILE, manifest)),
            "mean_std": (prep["mean"], prep["std"]), "manifest": manifest, "path": path}
