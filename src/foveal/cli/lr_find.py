"""`foveal lr-find`: the learning-rate range test with a loss-vs-lr plot."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console


def lr_find_command(
    data: str = typer.Argument(..., help="Folder, manifest or built-in dataset."),
    model: str = typer.Option("cnn-small", "--model", "-m", help="Deep model: cnn-small or a timm name."),
    out: Path = typer.Option(Path("lr_find.png"), "--out", "-o", help="Plot to write (a .json with the numbers goes next to it)."),
    min_lr: float = typer.Option(1e-6, "--min-lr", help="Start of the range."),
    max_lr: float = typer.Option(1.0, "--max-lr", help="End of the range."),
    steps: int = typer.Option(100, "--steps", help="Batches to run (fewer when the loss diverges)."),
    image_size: Optional[str] = typer.Option(None, "--image-size", help="Side in pixels, auto or model. [default: auto]"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Images per batch. [default: 64]"),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="adamw, adam, sgd, rmsprop. [default: adamw]"),
    weight_decay: Optional[float] = typer.Option(None, "--weight-decay", help="[default: 0.05]"),
    augment: Optional[str] = typer.Option(None, "--augment", help="none, light, standard, strong. [default: light]"),
    task: Optional[str] = typer.Option(None, "--task", help="auto, binary, multiclass, multilabel, hierarchical."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed. [default: 0]"),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="A train YAML file; flags override it."),
) -> None:
    """Find a learning rate: train briefly at growing rates, plot the loss, suggest a value."""
    from foveal.config import TrainConfig, resolve
    from foveal.deep.lr_find import lr_range_test, plot
    from foveal.deep.models import check_model
    from foveal.deep.run import _load_data, _targets
    from foveal.files import atomic_write_bytes, write_json

    size = int(image_size) if image_size and image_size.isdigit() else image_size
    cfg = resolve(TrainConfig, config, dict(data=data, model=model, image_size=size, batch_size=batch_size,
                                            optimizer=optimizer, weight_decay=weight_decay, augment=augment,
                                            task=task, seed=seed))
    check_model(cfg.model)
    ds, train_ds, _, _, train_img, _ = _load_data(cfg, None)
    result = lr_range_test(cfg, ds.task, train_img.images, _targets(ds, train_ds, train_img), min_lr, max_lr, steps)
    atomic_write_bytes(out, plot(result, f"{cfg.model} on {ds.name}"))
    write_json(out.with_suffix(".json"), {"model": cfg.model, "data": ds.name, **result})
    console.print(f"suggested learning rate: {result['suggested']:.3g} (use --lr {result['suggested']:.2g})")
    console.print(f"wrote {out} and {out.with_suffix('.json')}")
