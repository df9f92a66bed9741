"""`foveal data preview`: a grid of augmented training images."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console


def preview_command(
    data: str = typer.Argument(..., help="Folder, manifest or built-in dataset."),
    augment: str = typer.Option("standard", "--augment", help="none, light, standard, strong."),
    out: Path = typer.Option(Path("preview.png"), "--out", "-o", help="PNG file to write."),
    n: int = typer.Option(8, "--n", min=1, max=256, help="Images to show."),
    copies: int = typer.Option(6, "--copies", min=1, max=32, help="Augmented versions per image (one row each)."),
    image_size: Optional[str] = typer.Option(None, "--image-size", help="Side in pixels, or auto. [default: auto]"),
    seed: int = typer.Option(0, "--seed", help="Random seed for picking and augmenting."),
) -> None:
    """Write a grid PNG of augmented samples, to check an --augment preset on your data."""
    import numpy as np

    from foveal.config import TrainConfig
    from foveal.data.images import load_images
    from foveal.data.load import load_dataset
    from foveal.deep.augment import make_augment, preview_grid
    from foveal.deep.run import deep_preprocessing
    from foveal.files import atomic_write_bytes

    make_augment(augment)  # a bad preset fails before any decoding
    size = int(image_size) if image_size and image_size.isdigit() else (image_size or "auto")
    ds = load_dataset(data)
    pool = ds.select("train") if "train" in ds.splits else ds
    picks = np.sort(np.random.default_rng(seed).permutation(len(pool))[:n])
    part = pool.subset(picks)
    loaded = load_images(part, deep_preprocessing(TrainConfig(image_size=size), part, None), 1.0, "Decoding")
    atomic_write_bytes(out, preview_grid(loaded.images, augment, seed, copies))
    console.print(f"wrote {out}: {len(loaded.kept)} images × {copies} augmented copies (--augment {augment})")
