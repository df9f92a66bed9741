"""The HTML report: written by train and eval, self-contained, and actually rendered by headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

import foveal
from browser import chromium
from helpers import run_cli


def render(html: Path, tmp: Path) -> tuple[str, Image.Image]:
    """(DOM after the page's load event, full-page screenshot) from headless Chromium, offline."""
    exe = chromium()
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={tmp / 'chrome-profile'}", "--virtual-time-budget=10000"]
    shot = tmp / f"{html.stem}.png"
    done = subprocess.run([*flags, "--window-size=1280,2400", f"--screenshot={shot}", "--dump-dom",
                           html.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.is_file(), done.stderr[-2000:]
    return done.stdout, Image.open(shot).convert("RGB")


def assert_rendered(html: Path, tmp: Path, min_images: int) -> str:
    text = html.read_text()
    assert "Content-Security-Policy" in text and not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    dom, shot = render(html, tmp)
    body = re.search(r"<body[^>]*>", dom).group(0)
    n = int(re.search(r'data-images="(\d+)"', body).group(1))
    assert 'data-render-check="ok"' in body, body  # every <img> decoded, naturalWidth > 0
    assert n >= min_images and n == text.count("<img ")
    pixels = np.asarray(shot)
    assert pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200  # not a blank page
    return text


def test_train_writes_report_that_renders(capsys, tmp_path, faces_folder):
    code, out, err = run_cli(capsys, "-q", "train", faces_folder, "--features", "hog", "--out", tmp_path / "run")
    assert code == 0, err
    report = tmp_path / "run" / "report.html"
    assert "report:" in out and report.is_file()
    text = assert_rendered(report, tmp_path, min_images=5)
    for heading in ("Summary", "Dataset", "Confusion matrix", "ROC and precision-recall curves",
                    "Decision threshold", "Calibration", "Gallery", "Model card"):
        assert f"<h2>{heading}</h2>" in text
    assert "split val of faces" in text
    code, _, _ = run_cli(capsys, "-q", "train", faces_folder, "--out", tmp_path / "quiet", "--no-report")
    assert code == 0 and not (tmp_path / "quiet" / "report.html").exists()


def test_eval_report_multiclass_with_learning_curves(capsys, tmp_path, digits_run, digits_folder):
    run = tmp_path / "run"
    shutil.copytree(digits_run, run)
    (run / "metrics.csv").write_text("epoch,train_loss,val_loss,val_accuracy,lr\n"
                                     "1,1.2,1.0,0.70,0.001\n2,0.6,0.5,0.86,0.0008\n3,0.3,0.35,0.93,0.0003\n")
    code, _, _ = run_cli(capsys, "eval", run, digits_folder, "--report", tmp_path / "r.html")
    assert code == 0
    text = assert_rendered(tmp_path / "r.html", tmp_path, min_images=6)
    assert "<h2>Learning curves</h2>" in text and "Most confused pairs" in text


def test_eval_report_multilabel(capsys, tmp_path, multi_run, multidigits_manifest):
    code, _, _ = run_cli(capsys, "eval", multi_run, multidigits_manifest, "--report", tmp_path / "m.html")
    assert code == 0
    text = assert_rendered(tmp_path / "m.html", tmp_path, min_images=4)
    assert "<h3>Per label</h3>" in text and "Confusion matrix" not in text


def test_eval_report_hierarchical(capsys, tmp_path, taxonomy_folder):
    run = foveal.train(str(taxonomy_folder), features="pixels", out=str(tmp_path / "tax"), report=False).run_dir
    code, _, _ = run_cli(capsys, "eval", run, taxonomy_folder, "--report", tmp_path / "h.html",
                         "--json", tmp_path / "h.json")
    assert code == 0
    text = (tmp_path / "h.html").read_text()
    assert "<h2>Hierarchy</h2>" in text and "hierarchical_f1" in text
    assert text.count("<img ") >= 6 and "data:image/png;base64," in text
