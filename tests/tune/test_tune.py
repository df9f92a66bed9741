"""foveal tune: Optuna studies that resume after a kill, best.yaml usable by foveal train, tune.html."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import yaml

from helpers import run_cli

DEEP = ["--model", "cnn-small", "--image-size", "16", "--epochs", "1", "--batch-size", "32", "--workers", "1",
        "--no-report"]


def test_classical_study_writes_best_yaml_page_and_final_model(capsys, digits_folder, tmp_path):
    out = tmp_path / "study"
    code, stdout, err = run_cli(capsys, "--quiet", "tune", digits_folder, "--model", "knn", "--features", "pixels",
                                "--trials", "4", "--out", out, "--no-report")
    assert code == 0, err
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["model"] == "knn" and 1 <= best["params"]["n_neighbors"] <= 30 and best["features"] == "pixels"
    page = (out / "tune.html").read_text()
    assert "Optimisation history" in page and page.count("data:image/png;base64") >= 1
    assert (out / "final" / "model" / "foveal.json").is_file()
    code, _, err = run_cli(capsys, "--quiet", "train", "--config", out / "best.yaml", "--out", tmp_path / "again")
    assert code == 0, err
    code, stdout, _ = run_cli(capsys, "--quiet", "tune", digits_folder, "--model", "knn", "--features", "pixels",
                              "--trials", "4", "--out", out, "--no-final")
    assert code == 0 and "4 complete" in stdout  # already done: nothing more to run


def test_search_space_yaml_overrides_and_is_checked(capsys, digits_folder, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("features: null\nparam.n_neighbors: {type: int, low: 3, high: 4}\n")
    code, _, err = run_cli(capsys, "--quiet", "tune", digits_folder, "--model", "knn", "--features", "pixels",
                           "--trials", "2", "--space", space, "--out", tmp_path / "s", "--no-final")
    assert code == 0, err
    assert yaml.safe_load((tmp_path / "s" / "best.yaml").read_text())["params"]["n_neighbors"] in (3, 4)
    space.write_text("lr: {type: float, low: 0, high: 1, log: true}\n")
    code, _, err = run_cli(capsys, "tune", digits_folder, *DEEP, "--space", space, "--out", tmp_path / "t")
    assert code == 2 and "log scale needs low > 0" in err
    space.write_text("dropout: {type: float, low: 0.5, high: 2}\n")
    code, _, err = run_cli(capsys, "tune", digits_folder, *DEEP, "--space", space, "--out", tmp_path / "t")
    assert code == 2 and "--dropout must be below 1" in err


def _finished(db) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(db) as con:
            return con.execute("select count(*) from trials where state in ('COMPLETE', 'PRUNED')").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_deep_study_resumes_after_a_kill(digits_folder, tmp_path):
    out = tmp_path / "deep"
    space = tmp_path / "space.yaml"
    space.write_text("batch_size: 32\naugment: {type: categorical, choices: [none, light]}\n"
                     "weight_decay: null\nlabel_smoothing: null\n")
    command = [sys.executable, "-m", "foveal", "--quiet", "tune", str(digits_folder), *DEEP, "--trials", "3",
               "--out", str(out), "--space", str(space), "--no-final"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 120
    while _finished(out / "tune.db") < 1 and time.time() < deadline and first.poll() is None:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # a crash: no chance to clean up
    first.wait()
    done_before = _finished(out / "tune.db")
    assert 1 <= done_before < 3
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 0, second.stderr
    assert _finished(out / "tune.db") == 3
    with sqlite3.connect(out / "tune.db") as con:
        numbers = [n for (n,) in con.execute("select number from trials order by number")]
        states = [s for (s,) in con.execute("select state from trials order by number")]
    assert numbers == list(range(len(numbers))) and len(numbers) >= 3
    assert "FAIL" in states or len(numbers) == 3  # the trial cut off mid-way is marked failed and run again
    assert (out / "best.yaml").is_file() and (out / "tune.html").is_file()


def test_pruner_stops_weak_deep_trials(digits_folder, tmp_path):
    import optuna

    from foveal.progress import quiet
    from foveal.tune.study import TuneSetup, run_tune

    space = {"lr": {"type": "categorical", "choices": [3e-3, 1e-7]}, "batch_size": 32}
    values = {"data": str(digits_folder), "model": "cnn-small", "image_size": 16, "epochs": 3, "workers": 1,
              "report": False}
    setup = TuneSetup(values=values, config=None, space=space, trials=4, out=tmp_path / "p",
                      storage=f"sqlite:///{tmp_path / 'p.db'}", study="p", final=False)
    with quiet():
        result = run_tune(setup)
    trials = result.study.get_trials()
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and all(t.params["lr"] == 1e-7 and max(t.intermediate_values) < 3 for t in pruned)
    assert all(len(t.intermediate_values) >= 1 for t in trials)  # every epoch reported its validation accuracy
    assert result.best["lr"] == 3e-3 and result.counts["PRUNED"] == len(pruned)
