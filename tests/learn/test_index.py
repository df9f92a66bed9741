"""foveal index / search: exact neighbours, approximate recall, no pickles, tampering refused."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

from helpers import run_cli

from foveal.errors import BundleError
from foveal.learn import index as ix
from foveal.learn.embeddings import l2_normalise, read_table


def clustered_vectors(n: int, d: int, centres: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres, like the embeddings of images of several kinds."""
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centres, d))
    return l2_normalise(middle[rng.integers(0, centres, n)] + 0.6 * rng.normal(size=(n, d)))


@pytest.fixture()
def embedded(capsys, tmp_path, tiny_digits):
    out = tmp_path / "e.parquet"
    code, _, err = run_cli(capsys, "--quiet", "embed", "--backbone", "cnn-small", tiny_digits, "--out", out)
    assert code == 0, err
    return out


def test_index_and_search_round_trip_gives_exact_neighbours(capsys, tmp_path, tiny_digits, embedded):
    code, _, err = run_cli(capsys, "--quiet", "index", embedded, "--out", tmp_path / "idx")
    assert code == 0, err
    queries = sorted((tiny_digits / "test" / "4").glob("*.png"))
    code, _, err = run_cli(capsys, "--quiet", "search", tmp_path / "idx", *queries, "--k", "5",
                           "--json", tmp_path / "s.json", "--report", tmp_path / "s.html")
    assert code == 0, err
    results = json.loads((tmp_path / "s.json").read_text())
    table = read_table(embedded)
    vectors, paths = table.vectors, table.kept(table.paths)
    for query, result in zip(queries, results):
        assert result["query"] == str(query) and len(result["neighbours"]) == 5
        me = paths.index(str(query.relative_to(tiny_digits)))
        expected = np.argsort(-(vectors @ vectors[me]), kind="stable")[:5]
        assert result["neighbours"][0] == {"path": paths[me], "score": pytest.approx(1.0, abs=1e-4), "label": "4"}
        assert [n["path"] for n in result["neighbours"]][1:] == [paths[i] for i in expected][1:]
        scores = [n["score"] for n in result["neighbours"]]
        assert scores == sorted(scores, reverse=True)
        np.testing.assert_allclose(scores, (vectors[expected] @ vectors[me]), atol=1e-4)
    page = (tmp_path / "s.html").read_text()
    assert page.count("<img") == 2 * 6  # each query and its five neighbours


def test_index_folder_holds_no_pickles_and_loads_without_unpickling(capsys, tmp_path, embedded, monkeypatch):
    code, _, err = run_cli(capsys, "--quiet", "index", embedded, "--out", tmp_path / "idx", "--approximate", "hnsw")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "idx").iterdir())
    assert names == ["ids.parquet", "index.faiss", "index.json"]
    for file in (tmp_path / "idx").iterdir():
        assert not file.read_bytes().startswith(b"\x80")  # the pickle protocol marker
    manifest = json.loads((tmp_path / "idx" / "index.json").read_text())
    assert manifest["kind"] == "hnsw" and manifest["dimension"] == 128 and manifest["count"] == 120
    assert manifest["source"]["kind"] == "backbone" and manifest["metric"] == "inner_product"

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    assert ix.load(tmp_path / "idx").faiss_index.ntotal == 120


def test_tampered_index_and_existing_out_are_refused(capsys, tmp_path, embedded):
    code, _, err = run_cli(capsys, "--quiet", "index", embedded, "--out", tmp_path / "idx")
    assert code == 0, err
    code, _, err = run_cli(capsys, "index", embedded, "--out", tmp_path / "idx")
    assert code == 2 and "exists" in err
    ids = tmp_path / "idx" / "ids.parquet"
    ids.write_bytes(ids.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BundleError, match="does not match its hash"):
        ix.load(tmp_path / "idx")


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_recall_at_10_against_exact_on_10k_vectors(kind):
    data = clustered_vectors(10_000, 64, centres=50)
    queries = clustered_vectors(500, 64, centres=50, seed=1)
    exact, _ = ix.build(data, "flat")
    approx, params = ix.build(data, kind)
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    assert ix.recall_at_k(truth, found) >= 0.95, params


def test_precision_at_k_counts_same_label_neighbours():
    rows = np.array([[0, 1, 2], [2, 3, -1]])
    labels = ["a", "a", "b", "b"]
    assert ix.precision_at_k(rows, labels, ["a", "b"]) == pytest.approx((2 + 2) / 5)


def test_gallery_shows_only_files_under_the_indexed_root(tmp_path, tiny_digits):
    from foveal.learn.gallery import find_image

    inside = next((tiny_digits / "train" / "3").glob("*.png")).relative_to(tiny_digits)
    assert find_image(str(inside), str(tiny_digits)).shape[2] == 3
    outside = tmp_path / "secret.png"
    outside.write_bytes((tiny_digits / inside).read_bytes())
    escape = os.path.relpath(outside, tiny_digits / "train")  # ../../…/secret.png: a real file, outside the root
    assert (tiny_digits / "train" / escape).is_file() and find_image(escape, str(tiny_digits / "train")) is None
    assert find_image("digits#5", None, "digits").shape == (8, 8, 1) and find_image("digits#x", None, "digits") is None
