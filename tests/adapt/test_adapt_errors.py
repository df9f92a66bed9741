"""Bad domain-adaptation input: one-line errors before anything is decoded or written."""

from __future__ import annotations

import pytest

from helpers import run_cli


@pytest.mark.parametrize("extra, words", [
    (["-m", "cnn-small", "--adapt", "adabn"], "needs images of the target domain"),
    (["-m", "cnn-small", "--target-unlabeled", "digits-shifted"], "without a method"),
    (["-m", "cnn-small", "--adapt", "dann", "--target-unlabeled", "{missing}"], "does not exist"),
    (["-m", "svm", "--adapt", "adabn", "--target-unlabeled", "digits-shifted"], "apply to deep models"),
    (["-m", "test_vit", "--adapt", "adabn", "--target-unlabeled", "digits-shifted"],
     "no batch-norm layer"),
    (["-m", "cnn-small", "--adapt", "mmd", "--target-unlabeled", "digits-shifted"], "--adapt"),
    (["-m", "cnn-small", "--adapt", "coral", "--target-unlabeled", "digits-shifted", "--adapt-weight", "-1"],
     "--adapt-weight"),
])
def test_bad_adapt_options_are_one_line_errors(tmp_path, capsys, digits_folder, extra, words):
    out = tmp_path / "run"
    args = [a.format(missing=tmp_path / "nowhere") for a in extra]
    code, _, err = run_cli(capsys, "train", digits_folder, *args, "--out", out, "--no-report")
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("foveal: error: ") and " — " in lines[0], err
    assert words in lines[0]
    assert not out.exists()
