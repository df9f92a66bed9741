"""Model transforms: bundle → new bundle, the input never modified, lineage naming parent and operation.

- ``calibrate``: temperature scaling fitted on validation data (``foveal calibrate``).
- ``threshold``: a binary model's decision threshold (``foveal eval --save-threshold``).

Export, quantization, pruning and distillation join here; all write through
:func:`foveal.bundle.derive.derive_bundle`.
"""
