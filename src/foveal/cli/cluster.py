"""`foveal cluster`: group images by their embeddings or classical features."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console
from foveal.cli.embed import backbone_option, open_source, size_option, weights_option
from foveal.errors import ConfigError


def cluster_command(
    data: str = typer.Argument(..., metavar="DATA_OR_EMBEDDINGS", help="A .parquet from foveal embed, or images "
                               "(folder, manifest or built-in dataset)."),
    method: str = typer.Option("kmeans", "--method", help="kmeans, agglomerative (Ward) or gmm (Gaussian mixture)."),
    k: str = typer.Option("auto", "--k", help="Number of clusters, or auto (silhouette; BIC for gmm; k from 2 to 12)."),
    bundle: Optional[str] = typer.Option(None, "--bundle", help="Embed DATA with this bundle (a classifier or a "
                                         "pretrained backbone)."),
    features: Optional[str] = typer.Option(None, "--features", "-f", help="Cluster classical features of DATA "
                                           "(e.g. hog, lbp, hog,lbp). [default: hog, when no bundle is given]"),
    backbone: Optional[str] = backbone_option(),
    weights: Optional[Path] = weights_option(),
    image_size: str = size_option(),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Assignments CSV (path, label, cluster)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write k, silhouette and, with labels, adjusted_rand, "
                                            "nmi and purity."),
    report: Optional[Path] = typer.Option(None, "--report", help="HTML page: a gallery per cluster and a 2-D map."),
    seed: int = typer.Option(0, "--seed", help="Random seed (k-means, mixtures, t-SNE)."),
) -> None:
    """Cluster images (k-means, agglomerative, Gaussian mixture) and score the clusters against known labels."""
    from foveal.learn.cluster import METHODS, cluster

    if method not in METHODS:
        raise ConfigError(f"unknown --method {method!r}", f"use one of {', '.join(METHODS)}")
    k_value = _k(k)
    table, what = _table(data, bundle, features, backbone, weights, image_size, seed)
    clustering = cluster(table.vectors, method, k_value, seed)
    result = _summary(table, clustering, what)
    _write(table, clustering, result, out, json_out, report, seed)
    shown = " · ".join(f"{key} {result[key]:.4f}" for key in ("silhouette", "adjusted_rand", "nmi", "purity")
                       if isinstance(result.get(key), float))
    console.print(f"{method}: k = {clustering.k} · {result['n']} images · {shown}")


def _k(text: str):
    if text == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--k {text!r} is not a number or auto", "write e.g. --k 10 or --k auto") from None


def _table(data, bundle, features, backbone, weights, image_size, seed):
    from foveal.data.load import load_dataset
    from foveal.learn.embeddings import classical_table, embed_dataset, is_embeddings_file, read_table

    chosen = [name for name, v in (("--bundle", bundle), ("--features", features), ("--backbone", backbone)) if v]
    if len(chosen) > 1:
        raise ConfigError(f"{' and '.join(chosen)} both given", "choose one source of vectors")
    if is_embeddings_file(data):
        if chosen:
            raise ConfigError(f"{data} already holds vectors; {chosen[0]} is not used", f"drop {chosen[0]}")
        table = read_table(data)
        return table, f"embeddings ({Path(data).name})"
    ds = load_dataset(data, labels="optional")
    if bundle or backbone:
        table = embed_dataset(open_source(bundle, backbone, weights, ds, image_size, seed), ds)
        return table, f"embeddings of {bundle or backbone}"
    return classical_table(ds, features or "hog"), f"classical {features or 'hog'}"


def _summary(table, clustering, what: str) -> dict:
    from foveal.learn.cluster import agreement

    labels = table.kept(table.labels)
    sizes = {str(c): int((clustering.assignments == c).sum()) for c in sorted(set(clustering.assignments.tolist()))}
    out = {"method": clustering.method, "k": clustering.k, "n": len(labels), "features": what,
           "silhouette": clustering.silhouette, **agreement(labels, clustering.assignments), "sizes": sizes}
    if clustering.scan:
        out["scan"] = clustering.scan
    return out


def _write(table, clustering, result: dict, out, json_out, report, seed: int) -> None:
    from foveal.csvio import csv_text
    from foveal.files import atomic_write_text, write_json

    if out is not None:
        rows = zip(table.kept(table.paths), table.kept(table.labels), clustering.assignments.tolist())
        atomic_write_text(out, csv_text(["path", "label", "cluster"], rows))
        console.print(f"wrote {out}")
    if json_out is not None:
        write_json(json_out, result)
        console.print(f"wrote {json_out}")
    if report is not None:
        atomic_write_text(report, _page(table, clustering, result, seed))
        console.print(f"wrote {report}")


def _page(table, clustering, result: dict, seed: int) -> str:
    from foveal.learn.cluster import map_2d, representatives
    from foveal.learn.cluster_report import GALLERY, cluster_page, map_png
    from foveal.learn.gallery import find_image

    labels, paths = table.kept(table.labels), table.kept(table.paths)
    rows, coords = map_2d(table.vectors, seed)
    known = None if all(v is None for v in labels) else [labels[i] for i in rows]
    figure = map_png(coords, clustering.assignments[rows], known)
    meta = table.meta
    builtin = meta.get("data") if meta.get("builtin") else None
    galleries = {c: [(find_image(paths[i], meta.get("root"), builtin), labels[i] or "", paths[i]) for i in members]
                 for c, members in representatives(table.vectors, clustering.assignments, GALLERY).items()}
    return cluster_page(result, clustering, galleries, figure)
