"""foveal quantize: static int8 within the allowed drop on the test split, dynamic mode, refusal."""

from __future__ import annotations

import numpy as np

from compress_helpers import cli_without_torch, manifest
from helpers import run_cli


def test_static_int8_keeps_accuracy_and_records_the_report(capsys, onnx_bundle, digits_folder, tmp_path):
    code, out, err = run_cli(capsys, "quantize", onnx_bundle, "--data", digits_folder, "--out", tmp_path / "int8",
                             "--calibration-images", "64")
    assert code == 0, err
    q = manifest(tmp_path / "int8")["quantization"]
    assert q["mode"] == "static" and q["format"] == "QDQ" and q["per_channel"]
    assert q["calibration"] == {"n": 64, "data": "digits", "split": "train+val", "method": "minmax"}
    acc = q["accuracy"]
    assert acc["split"] == "test" and acc["n"] > 20 and acc["drop_points"] <= 1.0
    assert acc["after"] >= acc["before"] - 0.01 and acc["before"] > 0.5
    assert q["size"]["ratio"] < 0.5
    assert q["speed"]["batch_64"]["ratio"] > 0 and "images/s" in out
    assert manifest(tmp_path / "int8")["lineage"]["parent"]["operation"] == "quantize"
    import foveal
    from foveal.data.load import load_dataset

    int8 = foveal.load_bundle(tmp_path / "int8")
    proba, _ = int8.predict_dataset(load_dataset(digits_folder, int8.task).select("test"))
    assert np.unique(proba).size > 256  # the softmax stays float: probabilities are not 1/256 steps
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    done = cli_without_torch("predict", tmp_path / "int8", digits_folder / "test" / "1", "--format", "csv")
    assert done.returncode == 0 and "TORCH-MODULES []" in done.stderr


def test_quantize_a_torch_bundle_exports_it_first(deep_bundle, digits_folder, tmp_path):
    from foveal.compress.quantize import quantize_bundle

    result = quantize_bundle(deep_bundle, digits_folder, tmp_path / "dyn", n=16, mode="dynamic", measure_speed=False)
    m = manifest(result.bundle)
    assert m["runtime"] == "onnx" and m["quantization"]["calibration"] is None
    assert m["export"]["parity"]["passed"] and set(m["files"]) == {"model.onnx"}


def test_refuses_a_drop_beyond_max_drop(capsys, monkeypatch, onnx_bundle, digits_folder, tmp_path):
    import torch

    from foveal.compress import quantize
    from foveal.compress.graph import export_onnx
    from foveal.deep.heads import SoftmaxHead
    from foveal.deep.models import CnnSmall

    real = quantize.quantized_bytes

    def broken(fp32, mode, calibration, per_channel=True):  # quantize an untrained network: accuracy collapses
        torch.manual_seed(3)
        other = export_onnx(CnnSmall(1, 10), SoftmaxHead(10), [0.5], [0.25], (16, 16), 1)
        return real(other, mode, calibration, per_channel)

    monkeypatch.setattr(quantize, "quantized_bytes", broken)
    code, _, err = run_cli(capsys, "quantize", onnx_bundle, "--data", digits_folder, "--out", tmp_path / "q",
                           "-n", "16", "--max-drop", "1")
    assert code == 1 and "more than --max-drop 1" in err and "no bundle written" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "q").exists()


def test_calibration_never_reads_the_test_split(onnx_bundle, digits_folder):
    import foveal
    from foveal.compress.samples import calibration_sample, test_sample

    p = foveal.load_bundle(onnx_bundle)
    calib = calibration_sample(p, digits_folder, n=10_000)
    test = test_sample(p, digits_folder)
    calib_rows = {row.tobytes() for row in calib.images}
    assert calib.split == "train+val" and not any(row.tobytes() in calib_rows for row in test.images)
