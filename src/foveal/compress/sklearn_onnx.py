"""Classical bundles as ONNX: the pixels features as graph nodes, the scaler and classifier by skl2onnx.

Only pipelines whose every step can be expressed are exported: ``pixels`` features (flatten, /255),
standard scaling or none, and a classifier skl2onnx converts (logistic, SVM, k-NN, trees, forests)
on a single-label or hierarchical task whose every class was seen in training. Anything else is
refused with the reason.
"""

from __future__ import annotations

import warnings

import numpy as np

from foveal.errors import ConfigError


def check_exportable(predictor) -> None:
    pipeline = predictor.model.pipeline
    spec = predictor.manifest.get("model", {})
    fix = "train the classical model on --features pixels (single-label task), or keep the sklearn bundle"
    if spec.get("features") != "pixels":
        raise ConfigError(f"{predictor.path} uses {spec.get('features')!r} features, which ONNX cannot express", fix)
    if predictor.task.type == "multilabel":
        raise ConfigError(f"{predictor.path} is multi-label (one-vs-rest), which foveal does not export to ONNX", fix)
    classes = np.asarray(getattr(pipeline.steps[-1][1], "classes_", []))
    if len(classes) != predictor.task.n_classes or not np.array_equal(classes, np.arange(len(classes))):
        raise ConfigError(f"{predictor.path}'s classifier saw {len(classes)} of {predictor.task.n_classes} classes",
                          "retrain with every class present, or keep the sklearn bundle")


def _classifier(pipeline):
    """The estimator skl2onnx should convert (foveal's SVM wrapper holds a calibrated SVC)."""
    clf = pipeline.steps[-1][1]
    return getattr(clf, "model_", clf)


def front_nodes(size: tuple[int, int], channels: int, scaler) -> tuple[list, list]:
    """(nodes, initializers): uint8 images → flattened [0, 1] pixels → scaled ``embedding``."""
    from onnx import TensorProto, helper, numpy_helper

    from foveal.bundle.onnx import EMBEDDING, INPUT

    d = size[0] * size[1] * channels
    inits = [numpy_helper.from_array(np.array([-1, d], dtype=np.int64), "flat_shape"),
             numpy_helper.from_array(np.array([1 / 255.0], dtype=np.float32), "inv255")]
    nodes = [helper.make_node("Reshape", [INPUT, "flat_shape"], ["flat_u8"]),
             helper.make_node("Cast", ["flat_u8"], ["flat"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["flat", "inv255"], ["pixels" if scaler is not None else EMBEDDING])]
    if scaler is not None:
        inits += [numpy_helper.from_array(np.asarray(scaler.mean_, dtype=np.float32), "scale_mean"),
                  numpy_helper.from_array(np.asarray(scaler.scale_, dtype=np.float32), "scale_std")]
        nodes += [helper.make_node("Sub", ["pixels", "scale_mean"], ["centred"]),
                  helper.make_node("Div", ["centred", "scale_std"], [EMBEDDING])]
    return nodes, inits


def pipeline_onnx(predictor, opset: int) -> bytes:
    """Serialized ONNX of a classical bundle: uint8 NHWC images → ``proba``, ``embedding``."""
    from onnx import TensorProto, helper
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    from foveal.bundle.onnx import EMBEDDING, INPUT, PROBA

    check_exportable(predictor)
    pipeline, prep = predictor.model.pipeline, predictor.preprocessing
    scaler = pipeline.named_steps.get("scale")
    scaler = None if scaler in (None, "passthrough") else scaler
    d = prep.size[0] * prep.size[1] * prep.channels
    clf = _classifier(pipeline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's deprecation notes about attributes skl2onnx reads
        try:
            model = convert_sklearn(clf, initial_types=[(EMBEDDING, FloatTensorType([None, d]))],
                                    target_opset={"": opset, "ai.onnx.ml": 3},
                                    options={id(clf): {"zipmap": False}})
        except Exception as err:  # skl2onnx raises many kinds for what it cannot convert
            raise ConfigError(f"skl2onnx cannot convert {type(clf).__name__} ({str(err).splitlines()[0][:160]})",
                              "use a logistic or SVM classifier, or keep the sklearn bundle") from None
    graph = model.graph
    proba_name = [o.name for o in graph.output if o.name != "label"][0]
    nodes, inits = front_nodes(prep.size, prep.channels, scaler)
    for i, node in enumerate(nodes):
        graph.node.insert(i, node)
    graph.initializer.extend(inits)
    graph.node.append(helper.make_node("Identity", [proba_name], [PROBA]))
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info(INPUT, TensorProto.UINT8, ["batch", *prep.size, prep.channels]))
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info(PROBA, TensorProto.FLOAT, ["batch", predictor.task.n_classes]),
                         helper.make_tensor_value_info(EMBEDDING, TensorProto.FLOAT, ["batch", d])])
    return model.SerializeToString()
