"""foveal embed: Parquet rows, unit-length vectors, undecodable rows, every kind of source."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from helpers import run_cli
from learn_helpers import pretrain

from foveal.learn.embeddings import read_table


def test_embed_writes_one_row_per_file_with_unit_vectors_and_errors(capsys, tmp_path, broken_digits):
    out = tmp_path / "e.parquet"
    code, stdout, stderr = run_cli(capsys, "--quiet", "embed", "--backbone", "cnn-small", broken_digits, "--out", out)
    assert code == 0, stderr
    arrow = pq.read_table(out)
    rows = arrow.to_pylist()
    assert len(rows) == 9 and arrow.column_names == ["path", "label", "split", "vector", "error"]
    bad = [r for r in rows if r["path"].endswith("not-an-image.png")]
    assert len(bad) == 1 and bad[0]["vector"] is None and bad[0]["error"] and bad[0]["label"] == "7"
    good = [r for r in rows if r["vector"] is not None]
    assert len(good) == 8 and all(r["error"] is None for r in good)
    vectors = np.array([r["vector"] for r in good])
    assert vectors.shape == (8, 128) and arrow.schema.field("vector").type.value_type == "float"
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert "1 image(s) could not be decoded" in stderr


def test_embed_classifier_and_backbone_bundles(capsys, tmp_path, tiny_digits):
    code, _, stderr = run_cli(capsys, "--quiet", "train", tiny_digits, "--model", "logistic", "--features", "pixels",
                              "--out", tmp_path / "svm", "--no-report")
    assert code == 0, stderr
    code, _, stderr = run_cli(capsys, "--quiet", "embed", tmp_path / "svm", tiny_digits, "--out", tmp_path / "c.parquet",
                              "--split", "test")
    assert code == 0, stderr
    classical = read_table(tmp_path / "c.parquet")
    assert classical.dimension == 64 and len(classical.ok) == 20  # 8×8 pixels; the 20 test images
    backbone = pretrain(capsys, tiny_digits, tmp_path / "pt", "rotation", "--epochs", "1") / "model"
    code, _, stderr = run_cli(capsys, "--quiet", "embed", backbone, tiny_digits, "--out", tmp_path / "b.parquet")
    assert code == 0, stderr
    table = read_table(tmp_path / "b.parquet")
    assert table.dimension == 128 and table.meta["source"]["purpose"] == "backbone"
    assert sorted(set(table.labels)) == [str(d) for d in range(10)]


def test_embed_refusals(capsys, tmp_path, tiny_digits):
    code, _, err = run_cli(capsys, "embed", tiny_digits, "--out", tmp_path / "e.parquet")
    assert code == 2 and "give SOURCE (a bundle) and DATA" in err
    code, _, err = run_cli(capsys, "embed", "--backbone", "cnn-small", tiny_digits, "--out", tmp_path / "e.csv")
    assert code == 2 and "is not a .parquet file" in err
    code, _, err = run_cli(capsys, "embed", "--backbone", "cnn-small", "--weights", tmp_path / "none.safetensors",
                           tiny_digits, "--out", tmp_path / "e.parquet")
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "e.parquet").exists()
