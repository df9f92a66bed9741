"""An interrupted semi-supervised / adapted run resumes exactly: the unlabelled stream depends only on
(seed, epoch, step), the augmentation generator and the domain classifier ride in the checkpoint."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from foveal.deep.trainer import Callback, Interrupted


class StopAfter(Callback):
    """Asks the loop to stop (as SIGTERM does) after ``n`` batches: it checkpoints mid-epoch."""

    def __init__(self, n: int) -> None:
        self.n, self.seen = n, 0

    def on_batch_end(self, loop, images: int) -> None:
        self.seen += 1
        if self.seen == self.n:
            loop.stop.reason = "SIGTERM"


def _weights(run):
    from safetensors.torch import load_file

    return load_file(str(run / "model" / "weights.safetensors"))


@pytest.mark.parametrize("method", ["fixmatch", "dann"])
def test_interrupted_run_resumes_to_identical_weights(tmp_path, digits_folder, method):
    from foveal.config import resolve
    from foveal.fewer.engine import FewerEngine
    from foveal.progress import quiet
    from foveal.runs.deep import resume_config
    from foveal.runs.pipeline import run_training

    extra = {"semi": method, "unlabeled": "digits-shifted"} if method == "fixmatch" else \
        {"adapt": method, "target_unlabeled": "digits-shifted"}
    cfg = resolve(None, {"data": str(digits_folder), "model": "cnn-small", "image_size": 8, "batch_size": 32,
                         "epochs": 3, "workers": 1, "report": False, "deterministic": True, "mu": 1,
                         "out": str(tmp_path / "run"), **extra})
    with quiet():
        run_training(replace(cfg, out=str(tmp_path / "reference")))
        engine = FewerEngine()
        engine.callbacks.append(StopAfter(12))  # mid-way through the second epoch
        with pytest.raises(Interrupted):
            run_training(cfg, engine=engine)
        assert not (tmp_path / "run" / "model").exists()
        run_training(resume_config(tmp_path / "run"), resume=tmp_path / "run")
    resumed, reference = _weights(tmp_path / "run"), _weights(tmp_path / "reference")
    assert resumed.keys() == reference.keys()
    assert all(resumed[k].equal(reference[k]) for k in reference)
    records = [json.loads((tmp_path / r / "model" / "foveal.json").read_text())["training"]
               for r in ("run", "reference")]
    key = "semi_supervised" if method == "fixmatch" else "adaptation"
    assert records[0][key] == records[1][key]
