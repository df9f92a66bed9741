"""``foveal export``: a bundle → a new bundle run by onnxruntime, checked for parity on real images.

The graph holds normalisation, network and head (deep bundles) or the whole pipeline (classical
bundles that skl2onnx converts); it takes decoded uint8 images with a dynamic batch dimension.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from foveal.compress.parity import TOLERANCE, Parity, compare, require
from foveal.errors import ConfigError

FORMATS = ("onnx",)
DEFAULT_OPSET = 17


@dataclass
class ExportResult:
    bundle: Path
    parity: Parity
    opset: int
    size_bytes: int
    seconds: float


def graph_bytes(predictor, opset: int = DEFAULT_OPSET) -> bytes:
    """The bundle's model as serialized ONNX (uint8 NHWC images → ``proba``, ``embedding``)."""
    if predictor.runtime == "torch":
        from foveal.compress.graph import export_onnx

        model, prep = predictor.model, predictor.preprocessing
        return export_onnx(model.net, model.head, model.mean, model.std, prep.size, prep.channels, opset)
    if predictor.runtime == "sklearn":
        from foveal.compress.sklearn_onnx import pipeline_onnx

        return pipeline_onnx(predictor, opset)
    raise ConfigError(f"{predictor.path} already runs on {predictor.runtime}",
                      "export a torch or scikit-learn bundle (its lineage.parent names the one it came from)")


def opset_of(data: bytes) -> int:
    import onnx

    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto)
    return max(int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def onnx_predictor(predictor, data: bytes, manifest_changes: dict | None = None):
    """A Predictor over ``data`` (ONNX bytes) that shares ``predictor``'s task, preprocessing and calibration."""
    from foveal.bundle.onnx import OnnxModel
    from foveal.bundle.predictor import Predictor

    manifest = {**predictor.manifest, "runtime": "onnx", **(manifest_changes or {})}
    return Predictor(predictor.path, manifest, OnnxModel(data))


def check_parity(predictor, converted, sample, tolerance: float = TOLERANCE) -> Parity:
    """Compare calibrated probabilities and decisions of ``converted`` against ``predictor`` on ``sample``."""
    return compare(predictor.task, predictor.predict_proba(sample.images),
                   converted.predict_proba(sample.images), sample, tolerance)


def converted_in_memory(predictor, data=None, opset: int = DEFAULT_OPSET, n: int = 256):
    """(ONNX predictor, bytes, parity) for ``predictor``, refused with ParityError when parity fails."""
    from foveal.compress.samples import validation_sample

    sample = validation_sample(predictor, data, n)
    onnx_bytes = graph_bytes(predictor, opset)
    converted = onnx_predictor(predictor, onnx_bytes)
    parity = check_parity(predictor, converted, sample)
    fix = ("keep the sklearn bundle: ONNX computes trees and k-NN distances in float32, which moves decisions "
           "near a threshold" if predictor.runtime == "sklearn" else
           "keep the torch bundle, or report the architecture as a foveal bug")
    require(parity, f"the ONNX export of {predictor.path}", fix)
    return converted, onnx_bytes, parity


def export_manifest(predictor, onnx_bytes: bytes, parity: Parity) -> dict:
    """The manifest changes of an exported child bundle."""
    from foveal.bundle.onnx import EMBEDDING, INPUT, PROBA

    h, w = predictor.preprocessing.size
    return {"runtime": "onnx", "export": {
        "format": "onnx", "opset": opset_of(onnx_bytes), "from_runtime": predictor.runtime,
        "input": {"name": INPUT, "dtype": "uint8", "layout": "NHWC",
                  "shape": ["batch", h, w, predictor.preprocessing.channels]},
        "outputs": {PROBA: "class probabilities (n, n_classes), before calibration",
                    EMBEDDING: "pre-logit features (n, d)"},
        "inside_graph": ["normalisation", "network", "head"] if predictor.runtime == "torch" else ["pipeline"],
        "parity": parity.to_json(), "versions": _versions()}}


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("torch", "onnx", "onnxruntime", "skl2onnx"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def export_bundle(bundle, out: str | Path, data=None, fmt: str = "onnx", opset: int = DEFAULT_OPSET,
                  n: int = 256) -> ExportResult:
    """Write ``out``: ``bundle`` run by onnxruntime, after parity on up to ``n`` real validation images."""
    from foveal.bundle import load_bundle
    from foveal.bundle.derive import derive_bundle

    if fmt not in FORMATS:
        raise ConfigError(f"unknown --format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    if not 7 <= opset <= 21:
        raise ConfigError(f"--opset {opset} is outside what the exporter writes", "use 13 to 21 (default 17)")
    started = time.perf_counter()
    predictor = load_bundle(bundle) if isinstance(bundle, (str, Path)) else bundle
    _, onnx_bytes, parity = converted_in_memory(predictor, data, opset, n)
    drop = tuple(name for name in predictor.manifest.get("files", {}))
    path = derive_bundle(predictor, out, export_manifest(predictor, onnx_bytes, parity), "export",
                         files={"model.onnx": onnx_bytes}, drop=drop)
    return ExportResult(path, parity, opset_of(onnx_bytes), len(onnx_bytes), time.perf_counter() - started)
