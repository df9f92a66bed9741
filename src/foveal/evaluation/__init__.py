"""Metrics, calibration, reports and comparison.

- ``metrics``: ``evaluate_predictions(task, labels, proba)``, the one entry point to the JSON dict;
  per task in ``classification``, ``multilabel``, ``hierarchy``; ``calibration`` (ECE, Brier,
  reliability bins, temperature scaling) and ``thresholds`` (binary decision thresholds).
- ``run``: ``run_evaluation`` / ``evaluate_bundle`` — a bundle on a dataset, with per-sample results.
- ``report`` (+ ``report_html``, ``plots``): the self-contained HTML report.
- ``compare`` (+ ``compare_report``): several bundles side by side.

Model transforms (calibrate, save-threshold) live in ``foveal.transforms``; cross-validation in
``foveal.runs.cv``.

Everything works through ``load_bundle`` → ``Predictor``, so every model kind is covered.
"""
