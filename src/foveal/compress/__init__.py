"""Compression: bundle → new bundle transforms (export, quantize, prune, distill) and their measurement.

Every transform reads its input bundle only and writes a new one whose lineage names the parent and
the operation (``foveal.bundle.derive``). ``export`` puts normalisation, network and head into one
ONNX graph that takes decoded uint8 images; the ``onnx`` runtime (``foveal.bundle.onnx``) runs it
with onnxruntime and never imports torch.
"""
