"""``foveal quantize``: int8 with onnxruntime's quantization tools, refused when accuracy drops too much.

Static (default): QDQ, per-channel int8 weights and uint8 activations whose ranges are calibrated on
N images of DATA's training/validation splits (never its test split). Dynamic: int8 weights,
activation ranges computed at run time (no calibration; onnxruntime quantizes MatMul/Gemm only).
Accuracy is measured on DATA's test split before and after.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foveal.compress.parity import AccuracyDropError
from foveal.errors import ConfigError

MODES = ("static", "dynamic")
CALIBRATION_BATCH = 16


@dataclass
class QuantizeResult:
    bundle: Path | None
    report: dict


def _reader(images: np.ndarray):
    """An onnxruntime CalibrationDataReader over uint8 image batches."""
    from onnxruntime.quantization import CalibrationDataReader

    from foveal.bundle.onnx import INPUT

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{INPUT: images[i:i + CALIBRATION_BATCH]}
                                 for i in range(0, len(images), CALIBRATION_BATCH)])

        def get_next(self):
            return next(self.batches, None)

    return Batches()


def head_nodes(model) -> list[str]:
    """Names of the nodes between the classifier layer (the last Gemm/MatMul feeding ``proba``) and ``proba``:
    the probability function stays in float, so probabilities keep their resolution (not 1/256 steps)."""
    from foveal.bundle.onnx import PROBA

    producer = {out: node for node in model.graph.node for out in node.output}
    upstream, stack = [], [PROBA]
    seen: set[str] = set()
    while stack:  # the nodes proba depends on, nearest first
        node = producer.get(stack.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        upstream.append(node)
        stack.extend(node.input)
    classifier = next((n for n in upstream if n.op_type in ("Gemm", "MatMul")), None)
    if classifier is None:
        return []
    consumers: dict[str, list] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    head, stack = [], list(classifier.output)
    while stack:
        for node in consumers.get(stack.pop(), []):
            if node.name in seen and node.name not in head:
                head.append(node.name)
                stack.extend(node.output)
    return head


def input_nodes(model) -> list[str]:
    """Names of the nodes before the first weighted layer: the uint8 → normalised-float front (layout, cast,
    scale, shift). Kept in float they cost little; quantized they add a quantize/dequantize round trip
    (measured on resnet18 at 64 px, batch 64: int8 speed-up 2.43x with them quantized, 2.79x without)."""
    names = []
    for node in model.graph.node:  # ONNX graphs are topologically sorted
        if node.op_type in ("Conv", "MatMul", "Gemm"):
            return names
        names.append(node.name)
    return []


def quantized_bytes(fp32: bytes, mode: str, calibration: np.ndarray | None, per_channel: bool = True) -> bytes:
    """int8 ONNX bytes from fp32 ONNX bytes (onnxruntime.quantization in a temporary folder)."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="foveal-quantize-") as tmp:
        src, pre, dst = (Path(tmp) / name for name in ("fp32.onnx", "pre.onnx", "int8.onnx"))
        src.write_bytes(fp32)
        quant_pre_process(str(src), str(pre))  # shape inference + graph optimisation, as ORT recommends
        if mode == "dynamic":
            quantize_dynamic(str(pre), str(dst), weight_type=QuantType.QInt8, per_channel=per_channel)
        else:
            import onnx

            graph = onnx.load(str(pre))
            quantize_static(str(pre), str(dst), _reader(calibration), quant_format=QuantFormat.QDQ,
                            per_channel=per_channel, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=input_nodes(graph) + head_nodes(graph))
        return dst.read_bytes()


def _score(predictor, sample) -> tuple[str, float]:
    from foveal.evaluation.metrics import evaluate_predictions, headline

    result = evaluate_predictions(predictor.task, sample.labels, predictor.predict_proba(sample.images))
    name, value = next(iter(headline(result).items()))
    return name, float(value)


def _speed(fp32_model, int8_model, images: np.ndarray) -> dict:
    from foveal.compress.measure import alternating_ratio, batch_of

    out = {}
    for batch, seconds in ((64, 0.6), (1, 0.3)):
        x = batch_of(images, batch)
        fast, slow, ratio = alternating_ratio(int8_model.predict_proba, fp32_model.predict_proba, x, 2, seconds)
        out[f"batch_{batch}"] = {"int8_images_per_s": round(fast, 1), "fp32_images_per_s": round(slow, 1),
                                 "ratio": round(ratio, 3)}
    return out


def check_options(mode: str, n: int, max_drop: float) -> None:
    if mode not in MODES:
        raise ConfigError(f"unknown --mode {mode!r}", f"use one of {', '.join(MODES)}")
    if n < 1:
        raise ConfigError(f"--calibration-images must be at least 1, got {n}", "write e.g. --calibration-images 200")
    if not 0 <= max_drop <= 100:
        raise ConfigError(f"--max-drop must be between 0 and 100 points, got {max_drop}", "write e.g. --max-drop 1")


def fp32_source(predictor, data):
    """(fp32 ONNX predictor, its bytes, the export section) — exporting a torch/sklearn bundle first."""
    from foveal.compress.export import converted_in_memory, export_manifest

    if predictor.runtime == "onnx":
        if predictor.manifest.get("quantization"):
            raise ConfigError(f"{predictor.path} is already quantized", "quantize its fp32 parent")
        return predictor, predictor.model.files()["model.onnx"], predictor.manifest.get("export")
    converted, onnx_bytes, parity = converted_in_memory(predictor, data)
    return converted, onnx_bytes, export_manifest(predictor, onnx_bytes, parity)["export"]


def quantize_bundle(bundle, data, out: str | Path, n: int = 200, mode: str = "static", max_drop: float = 1.0,
                    split: str | None = None, per_channel: bool = True, measure_speed: bool = True) -> QuantizeResult:
    """Quantize ``bundle`` to int8 and write ``out``, or raise AccuracyDropError (nothing written)."""
    from foveal.bundle import load_bundle
    from foveal.bundle.derive import derive_bundle
    from foveal.compress.export import onnx_predictor
    from foveal.compress.samples import calibration_sample, test_sample

    check_options(mode, n, max_drop)
    if Path(out).exists() and any(Path(out).iterdir()):
        raise ConfigError(f"--out {out} already exists", "choose a new folder; bundles are never overwritten")
    predictor = load_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle
    test = test_sample(predictor, data, split)
    fp32, fp32_bytes, export = fp32_source(predictor, data)
    calib = calibration_sample(predictor, data, n) if mode == "static" else None
    int8_bytes = quantized_bytes(fp32_bytes, mode, calib.images if calib else None, per_channel)
    int8 = onnx_predictor(predictor, int8_bytes)
    metric, before = _score(fp32, test)
    _, after = _score(int8, test)
    drop = round((before - after) * 100, 4)
    report = {"mode": mode, "format": "QDQ" if mode == "static" else "dynamic", "per_channel": per_channel,
              "weights": "int8", "activations": "uint8" if mode == "static" else "dynamic uint8",
              "calibration": None if calib is None else {"n": len(calib.images), "data": calib.data,
                                                          "split": calib.split, "method": "minmax"},
              "accuracy": {"metric": metric, "split": test.split, "n": len(test.images), "before": before,
                           "after": after, "drop_points": drop, "max_drop_points": max_drop},
              "size": {"fp32_bytes": len(fp32_bytes), "int8_bytes": len(int8_bytes),
                       "ratio": round(len(int8_bytes) / len(fp32_bytes), 4)}}
    if measure_speed:
        report["speed"] = _speed(fp32.model, int8.model, test.images)
    if drop > max_drop:
        raise AccuracyDropError(f"int8 {metric} on {test.describe()} is {after:.4f}, {drop:.2f} points below fp32 "
                                f"({before:.4f}), more than --max-drop {max_drop:g}; no bundle written",
                                "calibrate on more images (--calibration-images), try --mode dynamic, "
                                "or allow a larger --max-drop")
    changes = {"runtime": "onnx", "export": export, "quantization": report}
    drop_files = tuple(predictor.manifest.get("files", {}))
    path = derive_bundle(predictor, out, changes, "quantize", files={"model.onnx": int8_bytes}, drop=drop_files)
    return QuantizeResult(path, report)
