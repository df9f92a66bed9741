"""Bad semi-supervised input: one-line errors before anything is decoded or written."""

from __future__ import annotations

import pytest

from helpers import run_cli


def _refused(capsys, tmp_path, *args) -> str:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", *args, "--out", out, "--no-report")
    assert code == 2, err
    line = err.strip().splitlines()
    assert len(line) == 1 and line[0].startswith("foveal: error: ") and " — " in line[0], err
    assert not out.exists()
    return line[0]


@pytest.mark.parametrize("extra, words", [
    (["-m", "cnn-small", "--semi", "fixmatch"], "needs unlabelled images"),
    (["-m", "cnn-small", "--unlabeled", "{unl}"], "without a method"),
    (["-m", "cnn-small", "--semi", "fixmatch", "--unlabeled", "{missing}"], "--unlabeled"),
    (["-m", "svm", "--semi", "fixmatch", "--unlabeled", "{unl}"], "needs a deep model"),
    (["-m", "svm", "--semi", "pseudo-label", "--unlabeled", "{unl}", "--mu", "3"], "applies to deep models, not svm (a classical model)"),
    (["-m", "cnn-small", "--semi", "pseudo-label", "--unlabeled", "{unl}", "--adapt", "coral",
      "--target-unlabeled", "{unl}"], "both given"),
    (["-m", "cnn-small", "--semi", "mean-teacher", "--unlabeled", "{unl}"], "--semi"),
    (["-m", "cnn-small", "--mu", "4"], "--mu only applies with --semi or --adapt"),
    (["-m", "cnn-small", "--pseudo-threshold", "0.8"], "--pseudo-threshold only applies with --semi"),
    (["-m", "cnn-small", "--adapt-weight", "0.5"], "--adapt-weight only applies with --adapt"),
])
def test_bad_semi_options_are_one_line_errors(tmp_path, capsys, few_digits, extra, words):
    labelled, unlabelled = few_digits
    args = [a.format(unl=unlabelled, missing=tmp_path / "nowhere") for a in extra]
    assert words in _refused(capsys, tmp_path, labelled, *args)


def test_semi_refuses_multilabel_tasks(tmp_path, capsys, multidigits_manifest, few_digits):
    _, unlabelled = few_digits
    line = _refused(capsys, tmp_path, multidigits_manifest, "-m", "cnn-small", "--semi", "fixmatch",
                    "--unlabeled", unlabelled)
    assert "single-label" in line


def test_an_empty_unlabelled_folder_is_refused(tmp_path, capsys, few_digits):
    labelled, _ = few_digits
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _refused(capsys, tmp_path, labelled, "-m", "cnn-small", "--image-size", "8", "--semi", "fixmatch",
                    "--unlabeled", empty)
    assert "--unlabeled" in line


def test_self_training_refuses_an_estimator_without_probabilities(monkeypatch):
    """Every registered estimator has predict_proba today; one without (e.g. LinearSVC) is refused."""
    from sklearn.svm import LinearSVC

    from foveal.classical import estimators
    from foveal.config import resolve
    from foveal.errors import ConfigError
    from foveal.fewer.classical import check_self_training

    monkeypatch.setattr(estimators, "create_estimator", lambda *a, **k: LinearSVC())
    with pytest.raises(ConfigError, match="needs class probabilities"):
        check_self_training(resolve(None, {"model": "svm", "semi": "pseudo-label", "unlabeled": "x"}))
