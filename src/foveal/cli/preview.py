"""`foveal data preview`: each sampled training image next to augmented copies of it, with the
augmentation options of `foveal train` (same names, defaults and checks)."""

from __future__ import annotations

import inspect
from pathlib import Path

import typer

from foveal.cli.common import console
from foveal.cli.options import option_parameters, with_options


def _own(name: str, annotation, option) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)


DATA = inspect.Parameter("data", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
                         default=typer.Argument(..., help="Folder, manifest or built-in dataset."))
PREVIEW_OPTIONS = [
    _own("out", Path, typer.Option(Path("preview.png"), "--out", "-o", help="PNG file to write.")),
    _own("n", int, typer.Option(8, "--n", min=1, max=256, help="Images to show (one row each).")),
    _own("copies", int, typer.Option(6, "--copies", min=1, max=32, help="Augmented versions per image, after the "
                                     "original.")),
    _own("seed", int, typer.Option(0, "--seed", help="Random seed for picking and augmenting.")),
]


def preview_body(data: str, out: Path = Path("preview.png"), n: int = 8, copies: int = 6, seed: int = 0,
                 **values) -> None:
    """Write a grid PNG of originals and augmented copies, to check an --augment preset on your data."""
    import numpy as np

    from foveal.config import augment_overrides, resolve
    from foveal.data.images import load_images
    from foveal.data.load import load_dataset
    from foveal.deep.augment import make_augment, preview_grid
    from foveal.files import atomic_write_bytes
    from foveal.runs.deep import deep_preprocessing

    cfg = resolve(None, {k: v for k, v in values.items() if v is not None})
    overrides = augment_overrides(cfg)
    make_augment(cfg.augment, overrides)  # a bad combination fails before any decoding
    ds = load_dataset(data)
    sensitive = bool(getattr(ds, "orientation_sensitive", False))
    recipe = make_augment(cfg.augment, overrides, orientation_sensitive=sensitive)
    console.print(f"--augment {cfg.augment}: {recipe.describe()}", markup=False, soft_wrap=True)
    if recipe != make_augment(cfg.augment, overrides):
        console.print(f"({ds.name} is orientation-sensitive: the preset's flips are off and rotation is at most "
                      "15°; set --hflip / --vflip / --rotate to override)", markup=False, soft_wrap=True)
    pool = ds.select("train") if "train" in ds.splits else ds
    part = pool.subset(np.sort(np.random.default_rng(seed).permutation(len(pool))[:n]))
    loaded = load_images(part, deep_preprocessing(cfg, part, None), 1.0, "Decoding")
    labels = [part.labels[i] for i in loaded.kept]
    atomic_write_bytes(out, preview_grid(loaded.images, labels, recipe, seed, copies))
    console.print(f"wrote {out}: {len(loaded.kept)} rows of the original + {copies} augmented copies",
                  markup=False, soft_wrap=True)


def build_preview_command():
    options = option_parameters(panels={"augment"}, names={"augment", "image_size", "channels"})
    return with_options(preview_body, [DATA, *PREVIEW_OPTIONS], options,
                        "Write a grid PNG of originals and augmented copies, to check an --augment preset on your "
                        "data (the options and defaults are `foveal train`'s).")
