"""In-process parts of the server: the micro-batcher, `?explain=` plumbing, and the feedback export."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time

import httpx
import numpy as np
import pytest
from PIL import Image

from foveal.errors import ConfigError
from foveal.serve.batcher import MicroBatcher
from foveal.serve.errors import ApiError


def images(n: int) -> list[np.ndarray]:
    return [np.full((4, 4, 1), i, dtype=np.uint8) for i in range(n)]


class Recorder:
    """A model whose score row is the image's first pixel, remembering the size of every batch."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[int] = []
        self.delay = delay

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(len(batch))
        time.sleep(self.delay)
        return batch[:, 0, 0, :].astype(float)


async def started(model, **kw) -> MicroBatcher:
    batcher = MicroBatcher(model, name="m", **{"max_batch": 32, "max_wait_ms": 50, "max_queue": 256, **kw})
    await batcher.start()
    return batcher


def test_concurrent_requests_share_forward_passes_and_get_their_own_rows():
    async def run(max_batch):
        model = Recorder(delay=0.02)
        batcher = await started(model, max_batch=max_batch)
        rows = await asyncio.gather(*(batcher.predict([img], timeout=10) for img in images(20)))
        await batcher.stop()
        return model.batches, [float(r[0][0]) for r in rows]

    batches, values = asyncio.run(run(32))
    assert values == list(range(20))  # every request got its own image's row back
    assert sum(batches) == 20 and len(batches) <= 3  # merged: the first alone, the rest together
    off, values = asyncio.run(run(1))
    assert off == [1] * 20 and values == list(range(20))


def test_a_batch_waits_only_for_requests_still_being_decoded():
    async def run():
        model = Recorder()
        batcher = await started(model, max_wait_ms=500)
        start = time.perf_counter()
        await batcher.predict(images(1), timeout=10)  # nothing else announced: no waiting
        alone = time.perf_counter() - start
        with batcher.arriving(1):  # a second request is being decoded…
            first = asyncio.ensure_future(batcher.predict(images(1), timeout=10))
            await asyncio.sleep(0.05)
        second = await batcher.predict(images(2)[1:], timeout=10)  # …and arrives while the batch waits
        await first
        await batcher.stop()
        return alone, model.batches, second

    alone, batches, second = asyncio.run(run())
    assert alone < 0.4  # well under the 500 ms a wait would take
    assert batches == [1, 2] and float(second[0][0]) == 1.0


def test_timeout_answers_503_and_other_models_keep_serving():
    async def run():
        slow, fast = await started(Recorder(delay=0.6)), await started(Recorder())
        slow_call = asyncio.ensure_future(slow.predict(images(1), timeout=0.2))
        await asyncio.sleep(0.05)
        fast_rows = await fast.predict(images(3), timeout=5)
        with pytest.raises(ApiError) as refused:
            await slow_call
        await asyncio.sleep(0.7)  # the stuck pass finishes; its result is dropped quietly
        again = await slow.predict(images(2), timeout=5)
        await slow.stop()
        await fast.stop()
        return fast_rows, refused.value, again

    fast_rows, refused, again = asyncio.run(run())
    assert len(fast_rows) == 3 and refused.status == 503 and refused.code == "inference_timeout"
    assert len(again) == 2


def test_queue_limit_answers_503():
    async def run():
        batcher = await started(Recorder(delay=0.2), max_queue=4, max_batch=1)
        first = asyncio.ensure_future(batcher.predict(images(1), timeout=5))
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError) as full:
            await batcher.predict(images(5), timeout=5)
        await first
        await batcher.stop()
        return full.value

    assert asyncio.run(run()).code == "queue_full"


async def _call_app(app, method: str, url: str, **kw) -> httpx.Response:
    """One request to the in-process app once its models are warm."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            while (await client.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.02)
            return await client.request(method, url, **kw)


def test_explain_calls_the_predictors_explain_and_draws_an_overlay(digits_bundle, digits_folder):
    from foveal.serve.app import create_app
    from foveal.serve.registry import load_models
    from foveal.serve.settings import ServeSettings

    models = load_models([("digits", digits_bundle)])
    calls = []

    def explain(batch, method="gradcam"):  # stands in for the explanations package's Predictor.explain
        calls.append((batch.shape, method))
        if method == "nope":
            raise ConfigError("unknown method 'nope'", "use gradcam")
        return batch[..., 0].astype(float)  # one 2-D map per image

    models[0].predictor.explain = explain
    png = sorted((digits_folder / "test").rglob("*.png"))[0].read_bytes()
    app = create_app(models, ServeSettings())
    headers = {"Content-Type": "image/png"}
    answer = asyncio.run(_call_app(app, "POST", "/v1/models/digits/predict?explain=default", content=png, headers=headers))
    assert answer.status_code == 200, answer.text
    overlay = Image.open(io.BytesIO(base64.b64decode(answer.json()["results"][0]["heatmap"])))
    assert overlay.format == "PNG" and min(overlay.size) >= 128
    assert calls == [((1, 8, 8, 1), "occlusion")]  # `default` on a classical bundle: model-agnostic occlusion
    refused = asyncio.run(_call_app(app, "POST", "/v1/models/digits/predict?explain=nope", content=png, headers=headers))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "explain_refused"
    described = asyncio.run(_call_app(app, "GET", "/v1/models")).json()["models"][0]
    assert described["explain"] is True


def test_healthz_answers_at_once_and_readyz_once_warm(digits_bundle):
    from foveal.serve.app import create_app
    from foveal.serve.registry import load_models
    from foveal.serve.settings import ServeSettings

    models = load_models([("digits", digits_bundle)])
    predict_proba = models[0].predictor.predict_proba

    def slow_first_pass(batch):  # the warm-up passes (blank images) take a while, as a large model's would
        if not batch.any():
            time.sleep(0.4)
        return predict_proba(batch)

    models[0].predictor.predict_proba = slow_first_pass
    app = create_app(models, ServeSettings())

    async def probe():
        async with app.router.lifespan_context(app):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")
            early = [(await client.get("/healthz")).status_code, (await client.get("/readyz")).status_code,
                     (await client.post("/v1/models/digits/predict", content=b"x")).status_code]
            for _ in range(100):
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.05)
            late = (await client.get("/readyz")).status_code
            await client.aclose()
            return early, late

    early, late = asyncio.run(probe())
    assert early == [200, 503, 503] and late == 200


def _store_with_feedback(folder, png_a: bytes, png_b: bytes):
    from foveal.serve.feedback import FeedbackStore

    store = FeedbackStore(folder)
    common = {"extension": "png", "model": "digits", "bundle": "b", "task": "multiclass"}
    store.add(data=png_a, predicted="3", label="8", **common)
    store.add(data=png_a, predicted="3", label="3", **common)  # judged again: the newest label wins
    store.add(data=png_b, predicted="7", label="7", **common)
    return store


def test_feedback_export_layouts_and_refusals(tmp_path, digits_folder):
    from foveal.serve.feedback_export import export_feedback

    a, b = [p.read_bytes() for p in sorted((digits_folder / "test").rglob("*.png"))[:2]]
    store = _store_with_feedback(tmp_path / "fb", a, b)
    assert [r["label"] for r in store.rows()] == ["7", "3", "8"]
    with pytest.warns(UserWarning, match="newest label was kept"):
        summary = export_feedback(tmp_path / "fb", tmp_path / "manifest")
    assert summary["images"] == 2 and summary["classes"] == {"3": 1, "7": 1} and summary["conflicts"] == 1
    lines = (tmp_path / "manifest" / "manifest.csv").read_text().splitlines()
    assert lines[0] == "path,label,model,predicted,correct,created" and len(lines) == 3
    with pytest.warns(UserWarning):
        export_feedback(tmp_path / "fb", tmp_path / "folder", "folder")
    assert sorted(p.parent.name for p in (tmp_path / "folder").rglob("*.png")) == ["3", "7"]
    with pytest.raises(ConfigError, match="not an empty folder"):
        export_feedback(tmp_path / "fb", tmp_path / "folder")
    (tmp_path / "fb" / store.rows()[0]["image_file"]).write_bytes(b"tampered")
    with pytest.warns(UserWarning, match="does not match its SHA-256"):
        kept = export_feedback(tmp_path / "fb", tmp_path / "checked")
    assert kept["images"] == 1
    assert not list(tmp_path.glob(".*partial*"))  # nothing half-written left behind
    from foveal.errors import DataError

    with pytest.raises(DataError, match="feedback.sqlite3"):
        export_feedback(tmp_path / "nowhere", tmp_path / "x")
    assert json.loads(json.dumps(store.rows(limit=1)))[0]["correct"] is True
