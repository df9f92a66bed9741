"""`foveal train`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console, metrics_table, parse_params, skipped_table


def train_command(
    data: Optional[str] = typer.Argument(None, help="Folder, manifest (.csv/.jsonl/.parquet) or built-in dataset."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Classifier: svm, knn, random-forest, decision-tree, logistic. [default: svm]"),
    features: Optional[str] = typer.Option(None, "--features", "-f", help="Comma-separated features, e.g. hog,lbp. [default: hog]"),
    scale: Optional[str] = typer.Option(None, "--scale", help="Feature scaling: auto (standardise all but pixels), standard, none. [default: auto]"),
    task: Optional[str] = typer.Option(None, "--task", help="auto, binary, multiclass, multilabel, hierarchical. [default: auto]"),
    image_size: Optional[str] = typer.Option(None, "--image-size", help="Side in pixels, or auto (most common size, at most 64). [default: auto]"),
    channels: Optional[str] = typer.Option(None, "--channels", help="1, 3 or auto. [default: auto]"),
    val_fraction: Optional[float] = typer.Option(None, "--val-fraction", help="Held out for validation when DATA has no val split. [default: 0.2]"),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed. [default: 0]"),
    param: Optional[list[str]] = typer.Option(None, "--param", "-p", help="Classifier parameter KEY=VALUE (repeatable), e.g. C=10."),
    max_skip_ratio: Optional[float] = typer.Option(None, "--max-skip-ratio", help="Abort when more than this share of images cannot be decoded. [default: 0.1]"),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Refuse images with more pixels (decompression bombs)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (new or empty). [default: runs/<name>-<n>]"),
    name: Optional[str] = typer.Option(None, "--name", help="Run name. [default: the model name]"),
    project: Optional[str] = typer.Option(None, "--project", help="Parent folder of run folders. [default: runs]"),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML file of options; flags override it."),
) -> None:
    """Train a classifier and write a run folder with its bundle in model/."""
    from foveal.config import TrainConfig, read_yaml, resolve
    from foveal.training import run_training

    file_params = read_yaml(config).get("params", {}) if config else {}
    overrides = dict(data=data, model=model, features=features, scale=scale, task=task,
                     image_size=_size(image_size), channels=_size(channels), val_fraction=val_fraction,
                     seed=seed, max_skip_ratio=max_skip_ratio, max_pixels=max_pixels,
                     out=str(out) if out else None, name=name, project=project,
                     params={**file_params, **parse_params(param)} if param else None)
    cfg = resolve(TrainConfig, config, overrides)
    if not cfg.data:
        raise typer.BadParameter("give DATA (a folder, a manifest or a built-in dataset), or data: in --config")
    result = run_training(cfg)
    _summary(cfg, result)


def _size(value: str | None):
    return int(value) if value is not None and value.isdigit() else value


def _summary(cfg, result) -> None:
    prep = result.preprocessing
    h, w = prep["size"]
    console.print(f"[bold]trained[/] {cfg.model} on {cfg.features} features · task {result.task} · "
                  f"{h}×{w}×{prep['channels']} · {result.n_train} train / {result.n_val} val images · "
                  f"{result.seconds:.1f} s")
    if result.metrics:
        console.print(metrics_table(result.metrics["metrics"], title="validation"))
    if result.skipped:
        err_console.print(skipped_table(result.skipped))
        err_console.print(f"the skipped files are listed in {result.run_dir / 'skipped.csv'}")
    console.print(f"run folder: {result.run_dir}")
    console.print(f"bundle:     {result.bundle}")
