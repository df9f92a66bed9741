"""foveal bench: one JSON table across bundles and runtimes."""

from __future__ import annotations

import json

from helpers import run_cli


def test_bench_json_rows(capsys, deep_bundle, onnx_bundle, digits_folder, tmp_path):
    code, out, err = run_cli(capsys, "bench", deep_bundle, onnx_bundle, "--data", digits_folder, "--batch", "1,16",
                             "--calls", "10", "--seconds", "0.2", "--threads", "1", "--json", tmp_path / "b.json")
    assert code == 0, err
    report = json.loads((tmp_path / "b.json").read_text())
    variants = [r["variant"] for r in report["rows"]]
    assert variants == ["torch eager", "torch channels-last", "onnx fp32"]
    for row in report["rows"]:
        lat = row["latency_ms"]
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"]
        assert row["batch"] == 16 and row["images_per_s"] > 0 and row["size_mib"] > 0
        assert row["peak_memory_mib"] >= 0 and row["accuracy"]["accuracy"] > 0.5
    accs = {r["accuracy"]["accuracy"] for r in report["rows"]}
    assert len(accs) == 1  # same decisions on every runtime
    assert "foveal bench" in out


def test_bench_refuses_bad_batches(capsys, onnx_bundle):
    code, _, err = run_cli(capsys, "bench", onnx_bundle, "--batch", "0,x")
    assert code == 2 and "--batch" in err
