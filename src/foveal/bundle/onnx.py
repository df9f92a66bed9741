"""ONNX bundles (runtime ``onnx``): ``model.onnx`` run by onnxruntime, without torch.

The graph (written by ``foveal export`` / ``foveal quantize``) takes decoded uint8 images
``(n, H, W, C)`` — normalisation, network and head are inside it — and has two outputs:
``proba`` (n, n_classes) in the task's class order and ``embedding`` (n, d), the pre-logit features.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from foveal.bundle.format import read_file
from foveal.errors import BundleError

ONNX_FILE = "model.onnx"
RUNTIME = "onnx"
INPUT, PROBA, EMBEDDING = "images", "proba", "embedding"
BATCH = 256


def session_options(threads: int | None = None):
    """onnxruntime session options: every graph optimisation, ``threads`` intra-op threads (None: ORT's default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    threads = threads if threads is not None else int(os.environ.get("FOVEAL_ORT_THREADS", "0") or 0)
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: ORT's warnings are not the user's to act on
    return options


def make_session(data: bytes, device: str = "cpu", threads: int | None = None, where: str = ONNX_FILE):
    """An ``InferenceSession`` over serialized ONNX bytes; a graph onnxruntime cannot load is reported as damaged."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise BundleError("this bundle needs onnxruntime", "pip install 'foveal[onnx]'") from None
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    try:
        return ort.InferenceSession(data, sess_options=session_options(threads), providers=providers)
    except Exception as err:  # onnxruntime raises its own exception types for bad graphs
        raise BundleError(f"{where} is not a model onnxruntime can run ({str(err).splitlines()[0][:200]})",
                          "the bundle is damaged or from a newer foveal; restore it or export again") from None


class OnnxModel:
    """A loaded ``model.onnx``: uint8 (n, H, W, C) images in, probabilities or embeddings out."""

    runtime = RUNTIME

    def __init__(self, data: bytes, device: str = "cpu", threads: int | None = None,
                 where: str = ONNX_FILE) -> None:
        self.data = data
        self.session = make_session(data, device, threads, where)
        self.outputs = [o.name for o in self.session.get_outputs()]
        if PROBA not in self.outputs:
            raise BundleError(f"{where} has no {PROBA!r} output", "export the bundle again with `foveal export`")

    def _run(self, name: str, images: np.ndarray) -> np.ndarray:
        images = np.ascontiguousarray(images, dtype=np.uint8)
        if images.ndim == 3:
            images = images[..., None]
        out = [self.session.run([name], {INPUT: images[i:i + BATCH]})[0] for i in range(0, len(images), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes) as float64, like the other runtimes."""
        return self._run(PROBA, images).astype(np.float64)

    def embed(self, images: np.ndarray) -> np.ndarray:
        """Pre-logit features (n, d) — the graph's ``embedding`` output."""
        if EMBEDDING not in self.outputs:
            raise BundleError("this ONNX model has no embedding output", "export it again with `foveal export`")
        return self._run(EMBEDDING, images).astype(np.float32)

    def differentiable(self, size: tuple[int, int], classes: list[str]):
        raise BundleError("an ONNX bundle has no differentiable view",
                          "explain its parent torch bundle (lineage.parent), or use occlusion through predict_proba")

    def files(self) -> dict[str, bytes]:
        return {ONNX_FILE: self.data}

    @classmethod
    def load(cls, path: Path, manifest: dict, device: str = "cpu") -> "OnnxModel":
        data = read_file(path, ONNX_FILE, manifest)
        return cls(data, device, where=str(Path(path) / ONNX_FILE))
