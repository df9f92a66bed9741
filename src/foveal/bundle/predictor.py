"""``Predictor``: a loaded bundle that turns images, files or datasets into predictions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.images import LoadedImages, Preprocessing, load_images, read_file_bytes
from foveal.data.task import Prediction, Task, task_from_json
from foveal.errors import DecodeError
from foveal.progress import track


class Model(Protocol):
    def predict_proba(self, images: np.ndarray) -> np.ndarray: ...


@dataclass
class FileResult:
    """The prediction for one input file, or why it could not be made."""

    path: str
    prediction: Prediction | None = None
    error: str | None = None

    def to_json(self) -> dict:
        if self.prediction is None:
            return {"path": self.path, "prediction": None, "scores": {}, "error": self.error}
        p = self.prediction
        return {"path": self.path, "prediction": p.label, "scores": p.scores,
                "top_k": [{"label": label, "score": score} for label, score in p.top_k], "error": None}


class Predictor:
    """What every downstream command uses; built by :func:`foveal.load_bundle`."""

    def __init__(self, path: Path, manifest: dict, model: Model) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self.model = model
        self.task: Task = task_from_json(manifest["task"])
        self.preprocessing = Preprocessing.from_json(manifest["preprocessing"])

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def classes(self) -> list[str]:
        return self.task.classes

    def __repr__(self) -> str:
        return f"Predictor({self.path}, {self.kind}, {self.task.type}, {self.task.n_classes} classes)"

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Scores (n, n_classes) for preprocessed (n, H, W, C) uint8 images."""
        if len(images) == 0:
            return np.zeros((0, self.task.n_classes))
        return self._calibrated(self.model.predict_proba(images))

    def _calibrated(self, proba: np.ndarray) -> np.ndarray:
        """Apply the bundle's temperature (``foveal calibrate``), whatever the model kind."""
        calibration = self.manifest.get("calibration")
        if not calibration:
            return proba
        from foveal.evaluation.calibration import apply_temperature

        return apply_temperature(proba, float(calibration["temperature"]), self.task.type == "multilabel")

    def predict(self, images: np.ndarray, top_k: int = 1) -> list[Prediction]:
        return self.task.decode(self.predict_proba(images), top_k=top_k)

    def predict_dataset(self, ds: Dataset, max_skip_ratio: float = 1.0) -> tuple[np.ndarray, LoadedImages]:
        """Probabilities for every decodable sample of ``ds`` (rows follow ``loaded.kept``)."""
        loaded = load_images(ds, self.preprocessing, max_skip_ratio=max_skip_ratio)
        return self.predict_proba(loaded.images), loaded

    def predict_files(self, files: list[Path], top_k: int = 1, batch_size: int = 256,
                      names: list[str] | None = None) -> list[FileResult]:
        """Predict each file; undecodable ones get an error instead of stopping the run."""
        names = names or [str(f) for f in files]
        results: list[FileResult] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            for start in track(range(0, len(files), batch_size), "Predicting",
                               total=len(files), unit_weight=lambda s: min(batch_size, len(files) - s)):
                chunk = list(range(start, min(start + batch_size, len(files))))
                decoded = list(pool.map(self._try_decode, (files[i] for i in chunk)))
                ok = [j for j, d in enumerate(decoded) if isinstance(d, np.ndarray)]
                preds = self.predict(np.stack([decoded[j] for j in ok]), top_k) if ok else []
                by_slot = dict(zip(ok, preds))
                for j, i in enumerate(chunk):
                    if j in by_slot:
                        results.append(FileResult(names[i], prediction=by_slot[j]))
                    else:
                        results.append(FileResult(names[i], error=decoded[j]))
        return results

    def _try_decode(self, file: Path) -> np.ndarray | str:
        try:
            return self.preprocessing.decode(read_file_bytes(file))
        except DecodeError as err:
            return str(err)
