"""`foveal index`: a FAISS index folder from an embeddings file, or from a source and data."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console
from foveal.cli.embed import backbone_option, open_source, size_option, source_and_data, weights_option
from foveal.errors import ConfigError


def index_command(
    args: list[str] = typer.Argument(..., metavar="EMBEDDINGS | [SOURCE] DATA", help="A .parquet file from foveal "
                                     "embed, or a bundle and the data to embed."),
    out: Path = typer.Option(..., "--out", "-o", help="Index folder to create."),
    approximate: Optional[str] = typer.Option(None, "--approximate", help="hnsw or ivf: an approximate index for "
                                              "large sets (an exact flat index otherwise)."),
    backbone: Optional[str] = backbone_option(),
    weights: Optional[Path] = weights_option(),
    image_size: str = size_option(),
) -> None:
    """Build a similarity-search index (FAISS, cosine similarity): exact by default, --approximate hnsw|ivf."""
    from foveal.learn import index as ix
    from foveal.learn.embeddings import is_embeddings_file, read_table

    kind = approximate or "flat"
    if kind not in ("flat", "hnsw", "ivf"):
        raise ConfigError(f"unknown --approximate {approximate!r}", "use hnsw or ivf")
    if len(args) == 1 and backbone is None and is_embeddings_file(args[0]):
        table = read_table(args[0])
    else:
        table = _embed(args, backbone, weights, image_size)
    if not len(table.ok):
        raise ConfigError("no image could be embedded", "check the data with `foveal data check`")
    index, params = ix.build(table.vectors, kind)
    meta = table.meta
    data = {"name": meta.get("data"), "root": meta.get("root"), "builtin": bool(meta.get("builtin"))}
    ix.save(out, index, params, kind, table.kept(table.paths), table.kept(table.labels), meta["source"], data)
    console.print(f"indexed {index.ntotal} vectors of {index.d} dimensions ({kind}) → {out}")


def _embed(args, backbone, weights, image_size):
    from foveal.data.load import load_dataset
    from foveal.learn.embeddings import embed_dataset

    source, data = source_and_data(args, backbone)
    ds = load_dataset(data, labels="optional")
    return embed_dataset(open_source(source, backbone, weights, ds, image_size), ds)
