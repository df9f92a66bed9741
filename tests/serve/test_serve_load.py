"""A small load test against the real server: 16 concurrent clients × 50 requests, zero errors."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import numpy as np

CLIENTS, REQUESTS = 16, 50


async def client_loop(url: str, images: list[bytes], latencies: list[float], failures: list) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        for i in range(REQUESTS):
            start = time.perf_counter()
            answer = await client.post(url, content=images[i % len(images)], headers={"Content-Type": "image/png"})
            latencies.append(time.perf_counter() - start)
            if answer.status_code != 200 or answer.json()["results"][0]["error"] is not None:
                failures.append((answer.status_code, answer.text[:200]))


def batch_counts(metrics: str) -> tuple[float, float]:
    """(forward passes, images) of model digits from the batch-size histogram."""
    count = float(re.search(r'foveal_batch_size_count\{model="digits"\} (\S+)', metrics).group(1))
    total = float(re.search(r'foveal_batch_size_sum\{model="digits"\} (\S+)', metrics).group(1))
    return count, total


def test_sixteen_clients_fifty_requests_each(served, digits_folder, capsys):
    images = [p.read_bytes() for p in sorted((digits_folder / "test").rglob("*.png"))[:20]]
    url = f"{served.url}/v1/models/digits/predict"
    before = batch_counts(httpx.get(f"{served.url}/metrics").text)
    latencies: list[float] = []
    failures: list = []

    async def run_all():
        await asyncio.gather(*(client_loop(url, images, latencies, failures) for _ in range(CLIENTS)))

    start = time.perf_counter()
    asyncio.run(run_all())
    elapsed = time.perf_counter() - start
    after = batch_counts(httpx.get(f"{served.url}/metrics").text)
    passes, predicted = after[0] - before[0], after[1] - before[1]
    p50, p95 = np.percentile(latencies, [50, 95]) * 1000
    with capsys.disabled():
        print(f"\nload: {CLIENTS} clients × {REQUESTS} requests in {elapsed:.1f} s ({len(latencies) / elapsed:.0f} req/s), "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, {predicted / passes:.1f} images per forward pass, "
              f"{len(failures)} errors")
    assert failures == []
    assert len(latencies) == CLIENTS * REQUESTS
    assert predicted == CLIENTS * REQUESTS
    assert passes < predicted  # concurrent requests were merged into shared forward passes
    assert served.alive()
