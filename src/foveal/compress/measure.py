"""Measuring models: latency percentiles, throughput, size, parameters and MACs.

Timings call the model's ``predict_proba`` (the Predictor's path) on decoded uint8 images, after a
warm-up; comparisons alternate between models so a busy machine slows them alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Timing:
    """Latency percentiles at batch 1 (ms) and throughput at a larger batch (images/s)."""

    p50_ms: float
    p95_ms: float
    p99_ms: float
    batch: int
    images_per_s: float

    def to_json(self) -> dict:
        return {"latency_ms": {"p50": self.p50_ms, "p95": self.p95_ms, "p99": self.p99_ms},
                "batch": self.batch, "images_per_s": self.images_per_s}


def batch_of(images: np.ndarray, n: int) -> np.ndarray:
    """``n`` images, repeating ``images`` when there are fewer."""
    reps = -(-n // max(len(images), 1))
    return np.ascontiguousarray(np.concatenate([images] * reps)[:n])


def call_times(fn: Callable, x: np.ndarray, calls: int, warmup: int = 3) -> np.ndarray:
    """Seconds per call of ``fn(x)``, ``calls`` times after ``warmup`` calls."""
    for _ in range(warmup):
        fn(x)
    out = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        fn(x)
        out[i] = time.perf_counter() - start
    return out


def throughput(fn: Callable, x: np.ndarray, min_seconds: float = 1.0, warmup: int = 1) -> float:
    """Images per second of ``fn`` on the batch ``x`` (repeated for at least ``min_seconds``)."""
    for _ in range(warmup):
        fn(x)
    n, start = 0, time.perf_counter()
    while True:
        fn(x)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and n >= 2:
            return n * len(x) / elapsed


def timing(fn: Callable, images: np.ndarray, batch: int = 64, calls: int = 100, min_seconds: float = 1.0) -> Timing:
    """Latency percentiles at batch 1 over ``calls`` calls and throughput at ``batch``."""
    lat = call_times(fn, batch_of(images, 1), calls) * 1000
    p50, p95, p99 = (float(v) for v in np.percentile(lat, [50, 95, 99]))
    return Timing(p50, p95, p99, batch, throughput(fn, batch_of(images, batch), min_seconds))


def alternating_ratio(fast: Callable, slow: Callable, x: np.ndarray, rounds: int = 3,
                      min_seconds: float = 0.5) -> tuple[float, float, float]:
    """(images/s of ``fast``, of ``slow``, median ratio of pairs) measured in alternating rounds after a warm-up."""
    fast(x), slow(x)
    pairs = []
    for _ in range(rounds):
        a = throughput(fast, x, min_seconds, warmup=0)
        b = throughput(slow, x, min_seconds, warmup=0)
        pairs.append((a, b))
    a, b = (float(np.median([p[i] for p in pairs])) for i in (0, 1))
    return a, b, float(np.median([p[0] / p[1] for p in pairs]))


def torch_counts(net, size: tuple[int, int], channels: int) -> dict:
    """Parameters and multiply-accumulates of one image through ``net`` (torch-pruning's counter)."""
    import torch
    import torch_pruning as tp

    example = torch.zeros((1, channels, *size))
    was_training = net.training
    net.eval()
    macs, params = tp.utils.count_ops_and_params(net, example)
    net.train(was_training)
    nonzero = sum(int((p != 0).sum()) for p in net.parameters())
    return {"params": int(params), "nonzero_params": nonzero, "macs": int(macs)}
