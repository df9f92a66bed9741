"""`foveal embed`: one L2-normalised vector per image, written as Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console
from foveal.errors import ConfigError

SOURCE_PANEL = "Source (a bundle, or a timm architecture)"


def source_and_data(args: list[str], backbone: str | None) -> tuple[str | None, str | None]:
    """``SOURCE DATA``, or ``DATA`` alone with ``--backbone``."""
    if backbone is not None:
        if len(args) != 1:
            raise ConfigError("with --backbone give only DATA", "e.g. `--backbone resnet18 --weights w.safetensors DATA`")
        return None, args[0]
    if len(args) != 2:
        raise ConfigError("give SOURCE (a bundle) and DATA", "e.g. `runs/cnn-small-1/model images/`, or --backbone ARCH DATA")
    return args[0], args[1]


def backbone_option():
    return typer.Option(None, "--backbone", help="A timm architecture (or cnn-small) instead of a bundle; random init "
                        "without --weights.", rich_help_panel=SOURCE_PANEL)


def weights_option():
    return typer.Option(None, "--weights", help="Local weights for --backbone (.safetensors or weights-only .pth).",
                        rich_help_panel=SOURCE_PANEL)


def size_option():
    return typer.Option("auto", "--image-size", help="--backbone input side (auto: the data's, at least 32 px).",
                        rich_help_panel=SOURCE_PANEL)


def open_source(source, backbone, weights, ds, image_size: str = "auto", seed: int = 0):
    from foveal.config import coerce
    from foveal.learn.embeddings import open_embedder

    return open_embedder(source, backbone, weights, ds, coerce("image_size", image_size), "auto", seed)


def embed_command(
    args: list[str] = typer.Argument(..., metavar="[SOURCE] DATA", help="A bundle (classifier or pretrained backbone) "
                                     "and the data to embed (folder, manifest or built-in dataset)."),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet file to write."),
    backbone: Optional[str] = backbone_option(),
    weights: Optional[Path] = weights_option(),
    image_size: str = size_option(),
    split: str = typer.Option("all", "--split", help="Embed one split only (train, val, test) or all."),
) -> None:
    """Embed images: a Parquet table with path, label, split, an L2-normalised float32 vector and an error column."""
    from foveal.data.load import load_dataset
    from foveal.learn.embeddings import embed_dataset, write_table

    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"--out {out} is not a .parquet file", "write e.g. --out embeddings.parquet")
    source, data = source_and_data(args, backbone)
    ds = load_dataset(data, labels="optional").select(split)
    embedder = open_source(source, backbone, weights, ds, image_size)
    table = embed_dataset(embedder, ds)
    write_table(table, out)
    console.print(f"embedded {len(table.ok)} of {len(table.paths)} images · {table.dimension} dimensions → {out}")
    if table.errors:
        err_console.print(f"[yellow]{len(table.errors)} image(s) could not be decoded (see the error column)[/]")
