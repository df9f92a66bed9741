"""``Predictor``: a loaded bundle — the one surface every consumer (evaluation, explanations,
embeddings, serving, compression) talks to.

=====================  ==========================================================================
``predict_proba``      (n, H, W, C) uint8 images → calibrated probabilities (n, n_classes)
``predict``            the same, decoded by the task (labels, top-k, thresholds)
``predict_files``      paths → one :class:`FileResult` each; undecodable files get an error
``predict_bytes``      one encoded image (a request body) → a :class:`FileResult`; thread-safe, silent
``predict_dataset``    a Dataset → probabilities of its decodable samples
``embed``              images → (n, d) float32 features: deep pre-logits, or the classical feature vector
``differentiable``     a torch view for attribution: score module + default target layer (deep only)
``explain``            images → attribution maps (``foveal.explain``: Grad-CAM, IG, occlusion, …)
=====================  ==========================================================================
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.images import LoadedImages, Preprocessing, load_images, read_file_bytes
from foveal.data.task import Prediction, Task, task_from_json
from foveal.bundle.format import is_backbone
from foveal.errors import BundleError, DecodeError
from foveal.progress import quiet, track


class Model(Protocol):
    """What a runtime's model offers (see ``bundle.runtimes``)."""

    runtime: str

    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...
    def embed(self, images: np.ndarray) -> np.ndarray: ...
    def differentiable(self, size: tuple[int, int], classes: list[str]): ...
    def files(self) -> dict[str, bytes]: ...


@dataclass
class FileResult:
    """The prediction for one input file, or why it could not be made."""

    path: str
    prediction: Prediction | None = None
    error: str | None = None

    def to_json(self) -> dict:
        if self.prediction is None:
            return {"path": self.path, "prediction": None, "scores": {}, "top_k": [], "error": self.error}
        p = self.prediction
        return {"path": self.path, "prediction": p.label, "scores": p.scores,
                "top_k": [{"label": label, "score": score} for label, score in p.top_k], "error": None}


class Predictor:
    """What every downstream command uses; built by :func:`foveal.load_bundle`."""

    def __init__(self, path: Path, manifest: dict, model: Model) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self.model = model
        self.task: Task | None = None if is_backbone(manifest) else task_from_json(manifest["task"])
        self.preprocessing = Preprocessing.from_json(manifest["preprocessing"])

    @property
    def purpose(self) -> str:
        """``classifier``, or ``backbone`` (``foveal pretrain``: ``embed`` only, no predictions)."""
        return "backbone" if self.task is None else "classifier"

    def _classifier(self) -> Task:
        if self.task is None:
            raise BundleError(f"{self.path} is a backbone bundle (self-supervised features, no classifier)",
                              "use it with embed, index, cluster or probe, or fine-tune it with "
                              f"`foveal train DATA --pretrained {self.path}`")
        return self.task

    @property
    def family(self) -> str:
        """``classical`` or ``deep``."""
        return self.manifest["family"]

    kind = family  # the name version 1 used

    @property
    def runtime(self) -> str:
        """``sklearn``, ``torch`` (later ``onnx``)."""
        return self.manifest["runtime"]

    @property
    def classes(self) -> list[str]:
        return [] if self.task is None else self.task.classes

    def __repr__(self) -> str:
        if self.task is None:
            return f"Predictor({self.path}, {self.family}/{self.runtime}, backbone)"
        return f"Predictor({self.path}, {self.family}/{self.runtime}, {self.task.type}, {self.task.n_classes} classes)"

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Scores (n, n_classes) for preprocessed (n, H, W, C) uint8 images, calibrated when the bundle is."""
        task = self._classifier()
        if len(images) == 0:
            return np.zeros((0, task.n_classes))
        return self._calibrated(self.model.predict_proba(images))

    def _calibrated(self, proba: np.ndarray) -> np.ndarray:
        """Apply the bundle's temperature (``foveal calibrate``), whatever the model kind."""
        calibration = self.manifest.get("calibration")
        if not calibration:
            return proba
        from foveal.probability import apply_temperature

        return apply_temperature(proba, float(calibration["temperature"]), self.task.type == "multilabel")

    def predict(self, images: np.ndarray, top_k: int = 1) -> list[Prediction]:
        return self._classifier().decode(self.predict_proba(images), top_k=top_k)

    def embed(self, images: np.ndarray) -> np.ndarray:
        """Features (n, d) float32 for preprocessed uint8 images: what the classifier's last layer sees."""
        if len(images) == 0:
            return np.zeros((0, 0), dtype=np.float32)
        return np.asarray(self.model.embed(images), dtype=np.float32)

    def differentiable(self):
        """A :class:`foveal.deep.views.DifferentiableView`: ``module`` maps float images in [0, 1]
        (n, C, H, W) at the bundle's input size to per-class scores; ``target_layer`` is the layer a
        class-activation map hooks. Classical bundles raise :class:`BundleError`."""
        self._classifier()
        return self.model.differentiable(self.preprocessing.size, self.classes)

    def explain(self, images: np.ndarray, method: str = "gradcam", target: str | None = None) -> list:
        """Attribution maps (:class:`foveal.explain.Explanation`) for preprocessed uint8 images:
        captum methods on deep bundles, occlusion on every bundle (see ``foveal.explain``)."""
        from foveal.explain import explain

        self._classifier()
        return explain(self, images, method, target)

    def predict_dataset(self, ds: Dataset, max_skip_ratio: float = 1.0) -> tuple[np.ndarray, LoadedImages]:
        """Probabilities for every decodable sample of ``ds`` (rows follow ``loaded.kept``)."""
        loaded = load_images(ds, self.preprocessing, max_skip_ratio=max_skip_ratio)
        return self.predict_proba(loaded.images), loaded

    def predict_bytes(self, data: bytes, top_k: int = 1, name: str = "") -> FileResult:
        """One encoded image (e.g. an upload) → its prediction, or the decoding error.

        No progress output; safe to call from several threads at once.
        """
        with quiet():
            decoded = self._try_decode(data)
            if isinstance(decoded, str):
                return FileResult(name, error=decoded)
            return FileResult(name, prediction=self.predict(decoded[None], top_k)[0])

    def predict_files(self, files: list[Path], top_k: int = 1, batch_size: int = 256,
                      names: list[str] | None = None) -> list[FileResult]:
        """Predict each file; undecodable ones get an error instead of stopping the run."""
        names = names or [str(f) for f in files]
        results: list[FileResult] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            pending = pool.map(self._try_decode_file, files[:batch_size])
            for start in track(range(0, len(files), batch_size), "Predicting",
                               total=len(files), unit_weight=lambda s: min(batch_size, len(files) - s)):
                chunk = list(range(start, min(start + batch_size, len(files))))
                decoded = list(pending)
                # the next chunk decodes in the pool while this one is predicted
                pending = pool.map(self._try_decode_file, files[start + batch_size:start + 2 * batch_size])
                ok = [j for j, d in enumerate(decoded) if isinstance(d, np.ndarray)]
                preds = self.predict(np.stack([decoded[j] for j in ok]), top_k) if ok else []
                by_slot = dict(zip(ok, preds))
                for j, i in enumerate(chunk):
                    if j in by_slot:
                        results.append(FileResult(names[i], prediction=by_slot[j]))
                    else:
                        results.append(FileResult(names[i], error=decoded[j]))
        return results

    def _try_decode_file(self, file: Path) -> np.ndarray | str:
        try:
            return self._try_decode(read_file_bytes(file))
        except DecodeError as err:
            return str(err)

    def _try_decode(self, data: bytes) -> np.ndarray | str:
        try:
            return self.preprocessing.decode(data)
        except DecodeError as err:
            return str(err)
