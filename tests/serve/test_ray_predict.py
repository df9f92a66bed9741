"""`foveal predict --engine ray` on a local Ray (2 CPUs) started here: the same rows as the local path,
Parquet and JSON Lines shards, undecodable files reported per row."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import run_cli

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'foveal[ray]')")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own, about its settings


@pytest.fixture(scope="session")
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()


@pytest.fixture()
def inbox(tmp_path, digits_folder):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for path in sorted((digits_folder / "test").rglob("*.png"))[:40]:
        shutil.copy(path, folder / f"{path.parent.name}-{path.name}")
    (folder / "notes.png").write_text("not an image")
    (folder / "empty.png").write_bytes(b"")
    good = (folder / sorted(p.name for p in folder.glob("*-*.png"))[0]).read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    return folder


def test_ray_rows_equal_the_local_path(local_ray, inbox, digits_bundle, tmp_path, capsys):
    from foveal.batch.ray_predict import read_predictions

    code, out, _ = run_cli(capsys, "predict", digits_bundle, inbox, "--format", "json", "--top-k", "2")
    assert code == 0
    local = json.loads(out)
    for fmt in ("parquet", "jsonl"):
        dest = tmp_path / f"out-{fmt}"
        code, _, err = run_cli(capsys, "predict", digits_bundle, inbox, "--engine", "ray", "--output", dest,
                               "--format", fmt, "--top-k", "2")
        assert code == 0, err
        assert f"wrote {len(local)} rows" in err and "3 of 43 input(s) could not be decoded" in err
        shards = list(dest.iterdir())
        assert shards and {p.suffix for p in shards} == {f".{fmt}"}
        rows = read_predictions(dest)
        assert sorted(rows, key=lambda r: r["path"]) == sorted(local, key=lambda r: r["path"])  # bit for bit
        errors = {r["path"].rsplit("/", 1)[-1]: r["error"] for r in rows if r["error"]}
        assert set(errors) == {"notes.png", "empty.png", "truncated.png"}
        assert "empty file" in errors["empty.png"] and "not an image" in errors["notes.png"]
    assert not list(tmp_path.glob(".out-*partial*"))


def test_ray_engine_refusals(inbox, digits_bundle, tmp_path, capsys):
    code, _, err = run_cli(capsys, "predict", digits_bundle, inbox, "--engine", "ray")
    assert code == 2 and "--output DIR" in err
    code, _, err = run_cli(capsys, "predict", digits_bundle, inbox, "--engine", "ray", "--output", tmp_path / "o",
                           "--format", "csv")
    assert code == 2 and "parquet" in err
    code, _, err = run_cli(capsys, "predict", digits_bundle, inbox, "--address", "auto")
    assert code == 2 and "--engine ray" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = run_cli(capsys, "predict", digits_bundle, inbox, "--engine", "ray", "--output", tmp_path / "full")
    assert code == 2 and "not an empty folder" in err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
