"""`foveal train` returns once the bundle is saved; report.html and curves.png follow from a detached process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from foveal.runs.background import WAIT_ENV, may_detach, run_detached


def wait_for(path: Path, seconds: float = 90.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file():
            return True
        time.sleep(0.1)
    return False


def test_train_returns_before_the_report_and_the_report_follows(tmp_path, digits_folder):
    env = {k: v for k, v in os.environ.items() if k != WAIT_ENV}
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "foveal", "train", str(digits_folder), "--model", "cnn-small",
                           "--epochs", "2", "--image-size", "16", "--out", str(run)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "being drawn in the background" in done.stdout
    assert (run / "model" / "foveal.json").is_file() and (run / "metrics.csv").is_file()
    assert wait_for(run / "report.html"), sorted(p.name for p in run.iterdir())
    assert wait_for(run / "curves.png")
    html = (run / "report.html").read_text()
    assert "<h2>Gallery</h2>" in html and "<h2>Learning curves</h2>" in html
    assert not (run / "report.log").exists()  # nothing to say: no log left behind
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_report_wait_draws_before_returning(tmp_path, digits_folder):
    env = {k: v for k, v in os.environ.items() if k != WAIT_ENV}
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "foveal", "-q", "train", str(digits_folder), "--model", "logistic",
                           "--report-wait", "--out", str(run)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (run / "report.html").is_file() and "background" not in done.stdout


def test_a_failing_job_leaves_its_traceback_in_the_log(tmp_path, monkeypatch):
    monkeypatch.delenv(WAIT_ENV, raising=False)
    assert may_detach()
    log = tmp_path / "report.log"

    def job() -> None:
        (tmp_path / "started").write_text("yes")
        raise RuntimeError("the plot failed")

    assert run_detached(job, log)
    assert wait_for(log, 30)
    assert "RuntimeError: the plot failed" in log.read_text()
    assert (tmp_path / "started").read_text() == "yes"


def test_wait_env_keeps_the_work_in_the_caller(monkeypatch, tmp_path):
    monkeypatch.setenv(WAIT_ENV, "1")
    assert not may_detach() and not run_detached(lambda: None, tmp_path / "log")
    monkeypatch.setenv(WAIT_ENV, "0")
    monkeypatch.setenv("WORLD_SIZE", "2")  # one rank of a DDP job
    assert not may_detach()
