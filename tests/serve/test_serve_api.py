"""The API of a real `foveal serve` process: predictions equal `foveal predict --format json`, models,
probes, metrics, docs, security headers, and `?explain=`."""

from __future__ import annotations

import json

import httpx

from helpers import run_cli

SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY"}


def digit_files(digits_folder, n=6):
    return sorted((digits_folder / "test").rglob("*.png"))[:n]


def test_predictions_equal_foveal_predict(capsys, served, digits_bundle, digits_folder):
    files = digit_files(digits_folder)
    code, out, _ = run_cli(capsys, "predict", digits_bundle, *files, "--format", "json", "--top-k", "3")
    assert code == 0
    expected = json.loads(out)
    multipart = [("files", (f.name, f.read_bytes(), "image/png")) for f in files]
    answer = httpx.post(f"{served.url}/v1/models/digits/predict?top_k=3", files=multipart, timeout=30)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["results"]
    assert answer.json()["model"] == "digits"
    assert [r["path"] for r in rows] == [f.name for f in files]  # the upload's name, in order
    for row, want in zip(rows, expected):
        assert {**row, "path": want["path"]} == want  # same labels, same scores, bit for bit
    raw = httpx.post(f"{served.url}/v1/models/digits/predict?name=one.png", content=files[0].read_bytes(),
                     headers={"Content-Type": "image/png"}, timeout=30)
    assert raw.status_code == 200
    assert raw.json()["results"][0]["prediction"] == expected[0]["prediction"]
    assert raw.json()["results"][0]["path"] == "one.png"


def test_a_broken_file_among_good_ones_is_reported_in_its_row(served, digits_folder):
    good = digit_files(digits_folder, 1)[0]
    multipart = [("files", ("a.png", good.read_bytes(), "image/png")), ("files", ("b.png", b"not an image", "image/png"))]
    rows = httpx.post(f"{served.url}/v1/models/digits/predict", files=multipart, timeout=30).json()["results"]
    assert rows[0]["error"] is None and rows[0]["prediction"] is not None
    assert rows[1]["prediction"] is None and "not an image" in rows[1]["error"]


def test_models_probes_metrics_and_docs(served):
    models = httpx.get(f"{served.url}/v1/models").json()
    (model,) = models["models"]
    assert model["name"] == "digits" and model["task"]["type"] == "multiclass"
    assert model["classes"] == [str(d) for d in range(10)]
    assert model["metrics"]["val"]["accuracy"] > 0.8 and model["lineage"]["data_fingerprint"]
    assert models["feedback"] is True
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{served.url}/readyz").json()["models"] == {"digits": True}
    metrics = httpx.get(f"{served.url}/metrics").text
    for name in ("foveal_http_requests_total", "foveal_http_request_duration_seconds_bucket",
                 "foveal_batch_size_bucket", "foveal_queue_depth", "foveal_model_load_seconds"):
        assert name in metrics
    assert 'route="/v1/models"' in metrics  # route templates, not raw paths
    spec = httpx.get(f"{served.url}/openapi.json").json()
    assert "/v1/models/{name}/predict" in spec["paths"]
    docs = httpx.get(f"{served.url}/docs")
    assert docs.status_code == 200 and "/v1/models/{name}/predict" in docs.text and "<script" not in docs.text


def test_every_page_carries_security_headers(served):
    for path in ("/", "/feedback", "/docs", "/static/app.js", "/healthz", "/v1/models", "/nowhere"):
        answer = httpx.get(f"{served.url}{path}")
        for key, value in SECURITY.items():
            assert answer.headers[key] == value, path
        assert "default-src 'none'" in answer.headers["content-security-policy"]
    missing = httpx.get(f"{served.url}/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{served.url}/static/..%2Fapi.py").status_code == 404
    unknown = httpx.post(f"{served.url}/v1/models/nope/predict", content=b"x", headers={"Content-Type": "image/png"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_model"


def test_explain_calls_predictor_explain_or_answers_501(served, digits_folder):
    from foveal.bundle.predictor import Predictor

    image = digit_files(digits_folder, 1)[0].read_bytes()
    answer = httpx.post(f"{served.url}/v1/models/digits/predict?explain=default", content=image,
                        headers={"Content-Type": "image/png"}, timeout=60)
    if hasattr(Predictor, "explain"):  # the explanations package has landed: a heat map per row
        assert answer.status_code == 200, answer.text
        assert answer.json()["results"][0]["heatmap"]
    else:
        assert answer.status_code == 501
        assert answer.json()["error"]["code"] == "explain_unavailable"
    assert served.alive()
