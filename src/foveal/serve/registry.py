"""The models a server holds: loaded bundles by name, each with its micro-batcher."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foveal.serve.batcher import MicroBatcher
from foveal.serve.errors import ApiError


@dataclass
class ServedModel:
    """One bundle under a URL name."""

    name: str
    predictor: object  # foveal.bundle.Predictor
    load_seconds: float
    batcher: MicroBatcher | None = None
    warm: bool = False
    info: dict = field(default_factory=dict)

    @property
    def explainable(self) -> bool:
        return callable(getattr(self.predictor, "explain", None))

    def describe(self) -> dict:
        """What ``GET /v1/models`` shows of this model."""
        p = self.predictor
        manifest = p.manifest
        metrics = {split: {k: v for k, v in values.items() if isinstance(v, (int, float))}
                   for split, values in (manifest.get("metrics") or {}).items() if isinstance(values, dict)}
        return {"name": self.name, "family": p.family, "runtime": p.runtime, "task": p.task.to_json(),
                "classes": p.classes, "input": {"size": list(p.preprocessing.size),
                                                "channels": p.preprocessing.channels},
                "calibrated": bool(manifest.get("calibration")), "explain": self.explainable,
                "metrics": metrics, "lineage": manifest.get("lineage") or {}, "ready": self.warm}


def load_models(specs: list[tuple[str, Path]]) -> list[ServedModel]:
    """Load every bundle (a broken one raises :class:`BundleError` before the server binds)."""
    from foveal.bundle import load_bundle
    from foveal.errors import BundleError

    models = []
    for name, path in specs:
        start = time.perf_counter()
        predictor = load_bundle(path)
        if getattr(predictor, "task", None) is None:
            raise BundleError(f"{path} has no classifier (a feature backbone)", "serve a bundle that predicts classes")
        models.append(ServedModel(name, predictor, time.perf_counter() - start))
    return models


class ModelRegistry:
    """Start, warm, look up and stop the served models."""

    def __init__(self, models: list[ServedModel], settings, metrics) -> None:
        self.models = {m.name: m for m in models}
        self.settings, self.metrics = settings, metrics
        self._warming: asyncio.Task | None = None

    def get(self, name: str) -> ServedModel:
        model = self.models.get(name)
        if model is None:
            known = ", ".join(self.models) or "none"
            raise ApiError(404, "unknown_model", f"no model named {name!r}", f"use one of: {known} (GET /v1/models)")
        if not model.warm:
            raise ApiError(503, "not_ready", f"model {name!r} is still warming up", "retry in a moment",
                           headers={"Retry-After": "1"})
        return model

    @property
    def ready(self) -> bool:
        return all(m.warm for m in self.models.values())

    async def start(self) -> None:
        """Start the batchers, then warm the models in the background: ``/healthz`` answers at once,
        ``/readyz`` once every model is warm."""
        s = self.settings
        for model in self.models.values():
            model.batcher = MicroBatcher(model.predictor.predict_proba, name=model.name, max_batch=s.max_batch,
                                         max_wait_ms=s.max_wait_ms, max_queue=s.max_queue,
                                         on_batch=self.metrics.batch_observer(model.name),
                                         on_depth=self.metrics.depth_observer(model.name))
            await model.batcher.start()
        self._warming = asyncio.get_running_loop().create_task(self._warm_all())

    async def _warm_all(self) -> None:
        for model in self.models.values():
            await self._warm(model)

    async def _warm(self, model: ServedModel) -> None:
        """One forward pass at each batch size likely to be hit first, so no user pays for lazy setup."""
        prep = model.predictor.preprocessing
        start = time.perf_counter()
        for n in sorted({1, min(8, self.settings.max_batch)}):
            blank = np.zeros((n, *prep.size, prep.channels), dtype=np.uint8)
            await model.batcher.run_exclusive(lambda b=blank: model.predictor.predict_proba(b), timeout=600)
        model.warm = True
        self.metrics.load_seconds.labels(model.name).set(model.load_seconds + time.perf_counter() - start)

    async def stop(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._warming
        for model in self.models.values():
            if model.batcher is not None:
                await model.batcher.stop()
