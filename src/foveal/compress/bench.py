"""``foveal bench``: one table across bundles and runtimes — latency percentiles at batch 1,
throughput at the larger batch, peak memory, file size, and accuracy when data are given.

Every variant predicts through the Predictor (calibration included) on the same decoded images, after a warm-up.
Variants: torch bundles run eager and channels-last; ONNX bundles as they are (fp32 or int8);
scikit-learn bundles as they are. Peak memory is the largest resident-set growth of this process
while the variant loads and runs (sampled every 5 ms), so it is an upper bound when variants share
libraries already loaded.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foveal.errors import ConfigError


@dataclass
class BenchOptions:
    batches: tuple[int, ...] = (1, 64)
    threads: int | None = None
    data: str | None = None
    split: str | None = None
    calls: int = 100
    seconds: float = 2.0


@dataclass
class Row:
    bundle: str
    variant: str
    runtime: str
    latency_ms: dict
    batch: int
    images_per_s: float
    peak_memory_mib: float
    size_mib: float
    accuracy: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def parse_batches(text: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        values = ()
    if not values or values[0] < 1:
        raise ConfigError(f"--batch {text!r} is not a list of batch sizes", "write e.g. --batch 1,64")
    return values


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class PeakMemory:
    """Samples this process's resident memory in a thread; ``peak`` is the growth over the start."""

    def __init__(self) -> None:
        self.start = rss_bytes()
        self.top = self.start
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            self.top = max(self.top, rss_bytes())
            time.sleep(0.005)

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        self.top = max(self.top, rss_bytes())
        return (self.top - self.start) / 2**20


def bundle_size(path: Path, manifest: dict) -> float:
    return sum((Path(path) / name).stat().st_size for name in manifest.get("files", {})) / 2**20


def variants(path: Path, threads: int | None) -> list[tuple[str, object]]:
    """(name, loader) pairs for one bundle; loading happens inside the memory measurement."""
    from foveal.bundle import load_bundle
    from foveal.bundle.format import read_manifest

    manifest = read_manifest(path)
    runtime = manifest["runtime"]
    pruned = " (pruned)" if manifest.get("model", {}).get("pruned") else ""
    if runtime == "torch":
        return [(f"torch eager{pruned}", lambda: load_bundle(path)),
                (f"torch channels-last{pruned}", lambda: channels_last(load_bundle(path)))]
    if runtime == "onnx":
        kind = "int8" if manifest.get("quantization") else "fp32"
        return [(f"onnx {kind}{pruned}", lambda: onnx_with_threads(path, threads))]
    return [(runtime, lambda: load_bundle(path))]


def channels_last(predictor):
    import dataclasses

    import torch

    model = predictor.model
    model.net.to(memory_format=torch.channels_last)
    model.inputs = dataclasses.replace(model.inputs, channels_last=True)
    return predictor


def onnx_with_threads(path: Path, threads: int | None):
    from foveal.bundle import load_bundle
    from foveal.bundle.onnx import OnnxModel

    predictor = load_bundle(path)
    if threads:
        predictor.model = OnnxModel(predictor.model.data, threads=threads)
    return predictor


def images_for(path: Path, options: BenchOptions):
    """(images, labels or None): DATA's test split decoded for this bundle, else random images of its size."""
    from foveal.bundle import load_bundle
    from foveal.bundle.format import read_manifest
    from foveal.data.images import Preprocessing

    if options.data:
        from foveal.compress.samples import test_sample

        sample = test_sample(load_bundle(path), options.data, options.split)
        return sample.images, sample.labels
    prep = Preprocessing.from_json(read_manifest(path)["preprocessing"])
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(max(options.batches), *prep.size, prep.channels), dtype=np.uint8), None


def bench_variant(path: Path, name: str, loader, images, labels, options: BenchOptions) -> Row:
    from foveal.compress.measure import timing
    from foveal.evaluation.metrics import evaluate_predictions, headline

    memory = PeakMemory()
    predictor = loader()
    t = timing(predictor.predict_proba, images, batch=max(options.batches), calls=options.calls,
               min_seconds=options.seconds)
    accuracy = {}
    if labels is not None:
        accuracy = headline(evaluate_predictions(predictor.task, labels, predictor.predict_proba(images)))
    peak = memory.stop()
    return Row(bundle=str(path), variant=name, runtime=predictor.runtime,
               latency_ms={"p50": t.p50_ms, "p95": t.p95_ms, "p99": t.p99_ms}, batch=t.batch,
               images_per_s=t.images_per_s, peak_memory_mib=peak, size_mib=bundle_size(path, predictor.manifest),
               accuracy={k: float(v) for k, v in list(accuracy.items())[:2]})


def run_bench(bundles: list[Path], options: BenchOptions) -> list[Row]:
    """Benchmark every variant of every bundle, in order."""
    from foveal.bundle import resolve_bundle_path
    from foveal.progress import quiet

    if options.threads:
        os.environ["OMP_NUM_THREADS"] = str(options.threads)
    rows = []
    for bundle in bundles:
        path = resolve_bundle_path(bundle)
        with quiet():
            images, labels = images_for(path, options)
        for name, loader in variants(path, options.threads):
            if options.threads and name.startswith("torch"):
                import torch

                torch.set_num_threads(options.threads)
            rows.append(bench_variant(path, name, loader, images, labels, options))
    return rows
