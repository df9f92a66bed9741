"""`foveal al` through the real CLI on real digits PNGs: init, suggest, train, simulate, and bad input."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from foveal.al.pool import open_pool
from foveal.al.strategies import STRATEGIES
from helpers import run_cli, tree_hashes


def rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_init_copies_hides_labels_and_seeds(pool, tiny_digits, capsys):
    before = tree_hashes(tiny_digits)
    store = open_pool(pool)
    assert store.classes == ["0", "1", "2", "3"]
    assert store.counts() == {"unlabelled": 56, "labelled": 8, "skipped": 0}
    labelled = store.items("WHERE status = 'labelled'")
    assert sorted(i["label"] for i in labelled) == sorted("00112233")
    assert {i["user"] for i in labelled} == {"data"} and {i["round"] for i in labelled} == {0}
    for item in labelled:  # the seeded label is the image's true class (its source folder)
        assert item["source"].split("/")[0] == item["label"]
    manifest = rows(pool / "manifest.csv")
    assert len(manifest) == 64 and all(r["path"].startswith("images/") for r in manifest)
    for r in manifest[:5]:  # copies, byte for byte, named by content
        assert (pool / r["path"]).read_bytes() == (tiny_digits / r["source"]).read_bytes()
        assert r["sha256"] in r["path"]
    assert tree_hashes(tiny_digits) == before  # the user's data is untouched
    code, out, err = run_cli(capsys, "al", "init", tiny_digits, "--out", pool)
    assert code == 2 and err.startswith("foveal: error: ") and "not an empty folder" in err


def test_init_without_labels_needs_classes(tmp_path, tiny_digits, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    for png in sorted((tiny_digits / "1").glob("*.png"))[:5]:
        (flat / png.name).write_bytes(png.read_bytes())
    code, _, err = run_cli(capsys, "al", "init", flat, "--out", tmp_path / "p1")
    assert code == 2 and "--classes" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "--quiet", "al", "init", flat, "--out", tmp_path / "p2", "--classes", "one,seven")
    assert code == 0, err
    assert open_pool(tmp_path / "p2").counts()["unlabelled"] == 5
    assert not (tmp_path / "p1").exists()  # nothing half-written


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_suggest_queues_distinct_unlabelled_images(fresh_trained, strategy, capsys, tmp_path):
    pool, bundle = fresh_trained
    before = {i["id"] for i in open_pool(pool).items("WHERE status = 'unlabelled'")}
    out = tmp_path / "next.json"
    code, text, err = run_cli(capsys, "al", "suggest", pool, "--bundle", bundle, "--n", "7", "--strategy", strategy,
                              "--out", out)
    assert code == 0, err
    assert "round 1: 7 images queued" in text
    suggested = json.loads(out.read_text())["suggestions"]
    assert [s["rank"] for s in suggested] == list(range(1, 8))
    store = open_pool(pool)
    queue = store.queue()
    assert [q["path"] for q in queue] == [s["path"] for s in suggested]
    assert len({q["id"] for q in queue}) == 7 and {q["id"] for q in queue} <= before
    assert store.current_round() == 1 and store.rounds()[-1]["strategy"] == strategy


def test_train_label_retrain_rounds_survive(fresh_trained, capsys):
    pool, bundle = fresh_trained
    code, _, err = run_cli(capsys, "al", "suggest", pool, "--bundle", bundle, "--n", "4")
    assert code == 0, err
    default_out = rows(pool / "suggestions" / "round-1.csv")
    store = open_pool(pool)
    queue = store.queue()
    assert [q["path"] for q in queue] == [r["path"] for r in default_out]
    truth = {q["id"]: q["source"].split("/")[0] for q in queue}
    for q in queue[:3]:
        store.set_label(q["id"], truth[q["id"]], "carol")
    store.set_label(queue[3]["id"], None, "carol", action="skip")
    assert store.undo("carol")["id"] == queue[3]["id"]  # the skip is undone
    store.set_label(queue[3]["id"], truth[queue[3]["id"]], "carol")

    reopened = open_pool(pool)  # a new process would see the same state
    assert reopened.counts() == {"unlabelled": 48, "labelled": 16, "skipped": 0}
    mine = reopened.items("WHERE user = 'carol'")
    assert len(mine) == 4 and {m["round"] for m in mine} == {1} and all(m["labelled_at"] for m in mine)
    code, text, err = run_cli(capsys, "--quiet", "al", "train", pool, "--model", "logistic", "--features", "pixels",
                              "--no-report")
    assert code == 0, err
    assert "recorded as the model of round 1" in text
    rounds = open_pool(pool).rounds()
    assert rounds[0]["n_labels"] == 12 and rounds[1]["n_labels"] == 16
    assert rounds[1]["bundle"].endswith("round-1/model") and "accuracy" in rounds[1]["metrics"]
    assert len(rows(pool / "labelled-round-1.csv")) == 16
    code, text, _ = run_cli(capsys, "al", "status", pool)
    assert "round 1: hybrid queued 4; trained on 16 labels" in text


def test_simulate_writes_curves_and_plot(tiny_digits, tmp_path, capsys):
    out, plot = tmp_path / "curves.json", tmp_path / "curves.png"
    code, text, err = run_cli(capsys, "--quiet", "al", "simulate", tiny_digits, "--strategy", "entropy", "--strategy",
                              "coreset", "--rounds", "2", "--n", "6", "--seeds", "2", "--features", "pixels",
                              "--json", out, "--plot", plot)
    assert code == 0, err
    result = json.loads(out.read_text())
    assert set(result["curves"]) == {"entropy", "coreset", "random"}
    for curve in result["curves"].values():
        assert [p["labels"] for p in curve] == [6, 12, 18]
        assert all(0.0 <= p["accuracy"] <= 1.0 and len(p["runs"]) == 2 for p in curve)
    assert result["curves"]["entropy"][0] == result["curves"]["random"][0]  # the same initial sets
    assert set(result["savings"]) == {"entropy", "coreset"}
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "random" in text


def test_bad_input_gives_one_line_errors(fresh_trained, tmp_path, tiny_digits, capsys):
    pool, bundle = fresh_trained
    other = tmp_path / "other"
    for cls in ("0", "1"):
        (other / cls).mkdir(parents=True)
        for png in sorted((tiny_digits / cls).glob("*.png"))[:6]:
            (other / cls / png.name).write_bytes(png.read_bytes())
    code, _, err = run_cli(capsys, "--quiet", "train", other, "--model", "logistic", "--out", tmp_path / "run2",
                           "--no-report")
    assert code == 0, err
    db_before = sqlite3.connect(pool / "state.sqlite3").execute("SELECT * FROM items").fetchall()
    cases = [
        (["al", "suggest", pool, "--bundle", bundle, "--strategy", "bald"], "unknown strategy 'bald'"),
        (["al", "suggest", tmp_path / "nope", "--bundle", bundle], "does not exist"),
        (["al", "suggest", tiny_digits, "--bundle", bundle], "is not an active-learning pool"),
        (["al", "suggest", pool, "--bundle", tmp_path / "run2"], "the bundle's classes (0, 1) differ"),
        (["al", "suggest", pool, "--bundle", bundle, "--n", "500"], "more than the 52 unlabelled images"),
        (["al", "suggest", pool, "--bundle", bundle, "--n", "0"], "must be at least 1"),
        (["al", "train", pool, "--init-from", "last"], "--init-from needs a deep bundle"),
        (["al", "simulate", tiny_digits, "--strategy", "bald"], "unknown strategy 'bald'"),
        (["al", "simulate", tiny_digits, "--rounds", "50", "--n", "20"], "is more than the pool's"),
        (["al", "label", pool, "--user", "x", "--host", "0.0.0.0"], "only listens on 127.0.0.1"),
    ]
    for args, message in cases:
        code, _, err = run_cli(capsys, *args)
        assert code == 2, (args, err)
        assert err.startswith("foveal: error: ") and message in err and err.count("\n") == 1, (args, err)
    assert sqlite3.connect(pool / "state.sqlite3").execute("SELECT * FROM items").fetchall() == db_before
    assert open_pool(pool).current_round() == 0  # no refused command started a round


def test_first_round_with_two_classes_labelled_scores_every_class(pool, capsys):
    store = open_pool(pool)
    with store.connect() as db:  # as if only classes 0 and 1 had been labelled so far
        db.execute("UPDATE items SET status = 'unlabelled', label = NULL, user = NULL, round = NULL "
                   "WHERE label IN ('2', '3')")
    code, _, err = run_cli(capsys, "--quiet", "al", "train", pool, "--model", "logistic", "--features", "pixels",
                           "--no-report")
    assert code == 0, err
    import foveal

    bundle = pool / "runs" / "round-0" / "model"
    assert foveal.load_bundle(bundle).classes == ["0", "1", "2", "3"]  # the pool's classes, not only those seen
    code, _, err = run_cli(capsys, "al", "suggest", pool, "--bundle", bundle, "--n", "3", "--strategy", "badge")
    assert code == 0, err
