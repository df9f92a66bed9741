"""The quality summary of one set of samples: ``quality.json`` and a small ``quality.html``."""

from __future__ import annotations

import numpy as np

from foveal.synth.data import RealImages


def quality_summary(saved, samples: dict[str, np.ndarray], real: RealImages, data: str | None, seed: int) -> dict:
    """Judge accuracy and HOG Fréchet distance per class (see ``synth.quality``), with the provenance."""
    from foveal.progress import status
    from foveal.synth.data import load_real
    from foveal.synth.quality import Judge, class_quality

    with status("Scoring the samples"):
        judge = Judge(real.images, real.labels, seed)
        held = load_real(data, saved.spec.size, saved.spec.channels, split="val") if data else None
        classes = {}
        for name, images in samples.items():
            index = real.classes.index(name)
            classes[name] = class_quality(judge, real.of_class(index), images, index,
                                          None if held is None else held.of_class(index))
    return {"generator": saved.sha256, "data": data, "seed": seed, "image_size": saved.spec.size,
            "epochs": saved.info.get("epochs"), "classes": classes,
            "method": {"judge": "logistic regression on HOG features of the real training images (all classes)",
                       "frechet": "Fréchet distance of HOG features (9 orientations, 4×4 cells) against the real "
                                  "training images of the class; frechet_hog_noise is uniform noise's distance"}}


def summary_files(summary: dict, grid: bytes) -> dict[str, bytes]:
    """``quality.json`` and ``quality.html`` as bytes."""
    from foveal.evaluation.report_html import figure, page, section, table
    from foveal.files import to_json

    keys = ("n_real", "n_synthetic", "judge_accuracy", "judge_accuracy_real_held_out", "frechet_hog",
            "frechet_hog_noise")
    rows = [[name, *(values.get(k) for k in keys)] for name, values in summary["classes"].items()]
    body = table(["class", *keys], rows)
    notes = "".join(f"<p>{k}: {v}</p>" for k, v in summary.get("method", {}).items())
    html = page("Synthetic samples", f"generator {summary['generator'][:12]} · seed {summary.get('seed')}",
                [section("Quality", body + notes),
                 section("Samples", figure(grid, "sample grid", "per class: real images (when known), then samples"))])
    return {"quality.json": to_json(summary).encode("utf-8"), "quality.html": html.encode("utf-8")}
