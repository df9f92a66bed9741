"""Deep bundles (runtime ``torch``): ``weights.safetensors`` plus the architecture and head in ``foveal.json``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from foveal.bundle.format import read_file
from foveal.errors import BundleError

WEIGHTS_FILE = "weights.safetensors"
RUNTIME = "torch"


class DeepModel:
    """A network + head over (n, H, W, C) uint8 images; normalisation happens inside.

    Inference goes through ``foveal.deep.inference`` — the same path the trainer validates with.
    """

    runtime = RUNTIME

    def __init__(self, net, head, mean, std, spec: dict, batch_size: int = 256, device: str = "cpu") -> None:
        import torch

        from foveal.deep.inference import InputSpec

        self.net = net.eval()
        self.head = head.cpu() if head is not None else None  # CPU logits → probabilities; None: a backbone
        self.mean = torch.as_tensor(mean, dtype=torch.float32)
        self.std = torch.as_tensor(std, dtype=torch.float32)
        self.spec = spec
        self.batch_size = batch_size
        # channels-last input: 1.2x (resnet18) to 2x (cnn-small) CPU inference; the weights keep their layout
        self.inputs = InputSpec(self.mean, self.std, device=torch.device(device), channels_last=device == "cpu")
        self.net.to(self.inputs.device)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes), batched, without gradients."""
        from foveal.deep.inference import predict_logits

        logits = predict_logits(self.net, images, self.inputs, self.batch_size)
        return self.head.proba(logits).double().numpy()

    def embed(self, images: np.ndarray) -> np.ndarray:
        """Pre-logit features (n, d), as timm's ``forward_head(pre_logits=True)``."""
        from foveal.deep.inference import embed

        return embed(self.net, images, self.inputs, self.batch_size).numpy()

    def differentiable(self, size: tuple[int, int], classes: list[str]):
        """A :class:`~foveal.deep.views.DifferentiableView` (score module + default target layer)."""
        from foveal.deep.views import DifferentiableView, ScoreModule, default_target_layer

        module = ScoreModule(self.net, self.head, self.mean, self.std).eval()
        return DifferentiableView(module=module, target_layer=default_target_layer(self.net), size=tuple(size),
                                  channels=int(self.spec["in_chans"]), classes=list(classes))

    def state_dict(self) -> dict:
        return {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}

    def files(self) -> dict[str, bytes]:
        from safetensors.torch import save

        return {WEIGHTS_FILE: save(self.state_dict())}

    @classmethod
    def load(cls, path: Path, manifest: dict, device: str = "cpu") -> "DeepModel":
        from foveal.bundle.format import is_backbone
        from foveal.data.task import task_from_json
        from foveal.deep.heads import make_head

        spec, prep = manifest["model"], manifest["preprocessing"]
        if is_backbone(manifest):  # foveal pretrain: a network without a classifier (num_outputs 0)
            net = build_net(spec, read_weights(path, manifest), Path(path) / WEIGHTS_FILE)
            return cls(net, None, prep["mean"], prep["std"], spec, device=device)
        head = make_head(task_from_json(manifest["task"]), hierarchical_softmax=False)
        if head.n_outputs != spec.get("num_outputs"):
            raise BundleError(f"{Path(path) / 'foveal.json'} lists {len(manifest['task']['classes'])} classes "
                              f"(the head needs {head.n_outputs} outputs) but the network has {spec.get('num_outputs')}",
                              "the bundle was edited or damaged; restore it or retrain")
        state = read_weights(path, manifest)
        net = build_net(spec, state, Path(path) / WEIGHTS_FILE)
        return cls(net, head, prep["mean"], prep["std"], spec, device=device)


def read_weights(path: Path, manifest: dict) -> dict:
    """The bundle's tensors; a file safetensors cannot parse is reported as damaged."""
    from safetensors.torch import load

    data = read_file(path, WEIGHTS_FILE, manifest)
    try:
        return load(data)
    except Exception as err:  # safetensors raises its own error types on corrupt headers
        raise BundleError(f"{Path(path) / WEIGHTS_FILE} is damaged (not a readable safetensors file: {err})"
                          .replace("\n", " "), "restore the bundle or retrain") from None


def build_net(spec: dict, state: dict, where: Path):
    """The architecture in ``spec`` with ``state`` loaded; a mismatch means a foreign or edited bundle."""
    from foveal.deep.models import build_model

    net = build_model(spec["architecture"], spec["in_chans"], spec["num_outputs"], spec.get("timm_args", {}))
    if spec.get("pruned"):  # narrower layers than the architecture's own (foveal prune --structured)
        from foveal.deep.shapes import fit_to_state

        fit_to_state(net, state)
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise BundleError(f"{where} does not fit {spec.get('architecture')!r} ({detail[:300]})",
                          "the bundle was edited or damaged, or written by another foveal; restore or retrain") from None
    return net


def read_bundle_weights(path: Path) -> dict:
    """An existing deep bundle's spec, weights, normalisation and task (for ``--init-from``)."""
    from foveal.bundle import resolve_bundle_path
    from foveal.bundle.format import read_manifest

    path = resolve_bundle_path(path)
    manifest = read_manifest(path)
    if manifest.get("runtime") != RUNTIME:
        raise BundleError(f"{path} holds a {manifest['family']} model run by {manifest['runtime']}",
                          "--init-from needs a deep bundle with PyTorch weights")
    state = read_weights(path, manifest)
    build_net(manifest["model"], state, path / WEIGHTS_FILE)  # fails now, not after decoding the data
    prep = manifest["preprocessing"]
    return {"spec": manifest["model"], "weights": state, "mean_std": (prep["mean"], prep["std"]),
            "manifest": manifest, "path": path}
