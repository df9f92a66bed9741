"""Micro-batching: the images of concurrent requests to one model go through one forward pass.

One inference thread per model runs the batches (the event loop never blocks on a model). A
batch is cut when it holds ``max_batch`` images, or when nothing else is on its way: the batcher
waits up to ``max_wait_ms`` only while other requests to the same model are still being decoded,
so a lone request is never delayed, and under load batches form from the queue by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from foveal.serve.errors import ApiError

BatchObserver = Callable[[int, float], None]  # (batch size, seconds)


class MicroBatcher:
    """Queue → batches → ``predict_proba`` on a dedicated thread → one result row per image."""

    def __init__(self, predict_proba: Callable[[np.ndarray], np.ndarray], *, name: str, max_batch: int,
                 max_wait_ms: float, max_queue: int, on_batch: BatchObserver | None = None,
                 on_depth: Callable[[int], None] | None = None) -> None:
        self.name = name
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait_ms / 1000.0, max_queue
        self._predict = predict_proba
        self._on_batch, self._on_depth = on_batch, on_depth
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"foveal-infer-{name}")
        self._queue: asyncio.Queue | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._arriving = 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"batcher-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=False, cancel_futures=True)

    @contextlib.contextmanager
    def arriving(self, count: int) -> Iterator[None]:
        """Announce ``count`` images that are being decoded, so a forming batch waits for them."""
        self._arriving += count
        try:
            yield
        finally:
            self._arriving -= count

    async def predict(self, images: list[np.ndarray], timeout: float) -> list[np.ndarray]:
        """Probability rows for ``images``; 503 when the queue is full or the inference takes too long."""
        if self._queue is None:
            raise ApiError(503, "not_ready", f"model {self.name} is not started", "retry in a moment")
        if self._queue.qsize() + len(images) > self.max_queue:
            raise ApiError(503, "queue_full", f"model {self.name} has {self._queue.qsize()} images waiting",
                           "retry later, or raise --max-queue", headers={"Retry-After": "1"})
        loop = asyncio.get_running_loop()
        futures = []
        for image in images:
            future = loop.create_future()
            self._queue.put_nowait((image, future))
            futures.append(future)
        self._wake.set()
        self._depth()
        try:
            return list(await asyncio.wait_for(asyncio.gather(*futures), timeout))
        except (asyncio.TimeoutError, TimeoutError):
            raise ApiError(503, "inference_timeout", f"model {self.name} did not answer within {timeout:g} s",
                           "retry later, or raise --timeout", headers={"Retry-After": "1"}) from None

    async def run_exclusive(self, fn: Callable[[], object], timeout: float):
        """Run ``fn`` on the inference thread, between batches (for warm-up and explanations)."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn)
        try:
            return await asyncio.wait_for(future, timeout)
        except (asyncio.TimeoutError, TimeoutError):
            raise ApiError(503, "inference_timeout", f"model {self.name} did not answer within {timeout:g} s",
                           "retry later, or raise --timeout", headers={"Retry-After": "1"}) from None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            live = [(image, future) for image, future in batch if not future.done()]  # timed-out ones dropped
            self._depth()
            if not live:
                continue
            start = time.perf_counter()
            try:
                proba = await loop.run_in_executor(self._executor, self._predict, np.stack([i for i, _ in live]))
            except Exception as err:  # the model failed: every waiting request hears it
                for _, future in live:
                    if not future.done():
                        future.set_exception(err)
                continue
            if self._on_batch is not None:
                self._on_batch(len(live), time.perf_counter() - start)
            for (_, future), row in zip(live, proba):
                if not future.done():
                    future.set_result(row)

    async def _collect(self) -> list:
        queue = self._queue
        batch = [await queue.get()]
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while len(batch) < self.max_batch:
            if not queue.empty():
                batch.append(queue.get_nowait())
                continue
            remaining = deadline - asyncio.get_running_loop().time()
            if self._arriving == 0 or remaining <= 0:
                break
            self._wake.clear()  # waiting on an event, not on queue.get(), so a timeout never loses an item
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)
        return batch

    def _depth(self) -> None:
        if self._on_depth is not None and self._queue is not None:
            self._on_depth(self._queue.qsize())
