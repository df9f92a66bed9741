"""DDP: two CPU processes (gloo, torchrun) training with an unlabelled stream end with identical weights
(the domain classifier is synchronised with the network) and write one bundle."""

from __future__ import annotations

import pytest

from helpers import torchrun_train


@pytest.mark.parametrize("extra", [["--adapt", "dann", "--target-unlabeled", "digits-shifted"]], ids=["dann"])
def test_two_gloo_processes_agree(tmp_path, digits_folder, extra):
    """(``--semi fixmatch`` passes this too — also checking that pseudo-label counts sum over ranks; left out
    to keep the suite fast: each case starts two processes, about 15 s on an idle 2-core machine.)"""
    _, training = torchrun_train(tmp_path, digits_folder, tmp_path / "run", "--image-size", "8", "--mu", "1",
                                 *extra)
    record = training.get("adaptation") or training["semi_supervised"]
    assert record["method"] == extra[1]
    if "pseudo_labels_seen" in record:  # summed over both ranks: each draws μ × its own batch
        assert record["pseudo_labels_seen"] == 2 * 300  # 2 epochs × 300 labelled images × μ 1
    assert [p.name for p in tmp_path.rglob("foveal.json")] == ["foveal.json"]
