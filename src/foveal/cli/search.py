"""`foveal search`: nearest neighbours of query images in an index."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console


def search_command(
    index_dir: Path = typer.Argument(..., metavar="INDEX", help="Folder written by foveal index."),
    images: list[str] = typer.Argument(..., help="Query image files, folders (searched recursively) or globs."),
    k: int = typer.Option(10, "--k", "-k", min=1, help="Neighbours per query."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write [{query, neighbours: [{path, score, label}]}]."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write an HTML page: each query and its neighbours."),
) -> None:
    """Find the most similar indexed images (cosine similarity of embeddings) for each query image."""
    from foveal.cli.predict import expand_inputs
    from foveal.files import atomic_write_text, write_json
    from foveal.learn.index import load
    from foveal.learn.search import search_files, search_page

    index = load(index_dir)
    files = expand_inputs(images)
    results = search_files(index, files, k)
    if json_out is not None:
        write_json(json_out, [r.to_json() for r in results])
        console.print(f"wrote {json_out}")
    if report is not None:
        atomic_write_text(report, search_page(index, results, files))
        console.print(f"wrote {report}")
    if json_out is None and report is None:
        for r in results:
            shown = "  ".join(f"{n['path']} {n['score']:.3f}" for n in r.neighbours[:5])
            console.print(f"{r.query}: {r.error or shown}", markup=False)
    failed = sum(r.error is not None for r in results)
    if failed:
        err_console.print(f"[yellow]{failed} of {len(results)} query image(s) could not be decoded[/]")
