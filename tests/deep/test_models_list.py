"""`foveal models`: no empty tables, deep rows with family, parameters and input size."""

from __future__ import annotations

import re

from foveal.cli import main
from foveal.deep.models import describe_model, list_models


def listing(capsys, *args) -> str:
    assert main(["models", *args]) == 0
    out, _ = capsys.readouterr()
    return out


def row(out: str, name: str) -> list[str]:
    """The cells of the table row whose first cell is ``name``."""
    for line in out.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]
        if cells and cells[0] == name:
            return cells
    raise AssertionError(f"no row for {name} in\n{out}")


def test_resnet_pattern_shows_only_the_deep_table_with_details(capsys):
    out = listing(capsys, "resnet1")
    assert "classifiers" not in out and "features" not in out
    name, family, params, size = row(out, "resnet18")
    assert family == "resnet" and abs(float(params) - 11.7) < 0.05 and size == "224×224"
    assert "│ timm architecture" not in out  # the old placeholder description


def test_classical_pattern_shows_the_classifier_table_and_a_note(capsys):
    out = listing(capsys, "svm")
    assert "classifiers (--model)" in out and row(out, "svm")
    assert "features (--features)" not in out and "deep models" not in out
    assert "no deep architecture matches 'svm'" in out


def test_no_pattern_lists_cnn_small_and_a_hint(capsys):
    out = listing(capsys)
    assert "classifiers (--model)" in out and "features (--features)" in out
    cells = row(out, "cnn-small")
    assert cells[1] == "foveal" and cells[2] == "0.3" and cells[3] == "any (≥ 8 px)"
    assert "more timm architectures" in " ".join(out.split()) and "resnet18" not in out


def test_a_broad_pattern_skips_parameter_counts(capsys, monkeypatch):
    import timm

    built = []

    def create_model(name, **kwargs):
        built.append(name)
        raise RuntimeError("the listing must not build models for a broad pattern")

    monkeypatch.setattr(timm, "create_model", create_model)
    out = listing(capsys, "resnet")  # > 60 timm architectures
    assert built == []
    assert row(out, "resnet18")[1:] == ["resnet", "—", "224×224"]
    assert "narrow the pattern" in " ".join(out.split())


def test_describe_model():
    info = describe_model("vit_base_patch16_224", with_params=False)
    assert info == {"name": "vit_base_patch16_224", "family": "vision_transformer", "params_m": None,
                    "input_size": "224×224"}
    own = describe_model("cnn-small", with_params=True)
    assert own["family"] == "foveal" and 0.2 < own["params_m"] < 0.4 and own["input_size"] == "any (≥ 8 px)"
    models = list_models("resnet18")
    assert "resnet18" in models and "cnn-small" not in models and "resnet" in models["resnet18"]
    assert "cnn-small" in list_models("cnn*")
