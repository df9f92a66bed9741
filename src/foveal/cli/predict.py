"""`foveal predict`."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from foveal.cli.common import console, emit, err_console
from foveal.errors import ConfigError, DataError
from foveal.files import to_json

FORMATS = ("table", "json", "csv")


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files as given, folders searched recursively for images, globs expanded; order kept, no repeats."""
    from foveal.data.decode import IMAGE_EXTENSIONS

    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.exists():
            found.append(path)
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True) if Path(m).is_file())
            if not matches:
                raise DataError(f"no files match {item!r}", "check the pattern (quote it so the shell does not expand it)")
            found += matches
        else:
            raise DataError(f"{item} does not exist", "give image files, folders or glob patterns")
    unique = list(dict.fromkeys(found))
    if not unique:
        raise DataError("no images found in the inputs", "give image files, or folders that hold images")
    return unique


def predict_command(
    bundle: Path = typer.Argument(..., help="Model bundle (a model/ folder or its run folder)."),
    inputs: list[str] = typer.Argument(..., help="Image files, folders (searched recursively) or glob patterns."),
    top_k: int = typer.Option(1, "--top-k", "-k", min=1, help="Classes to show per image."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv (--engine ray: parquet or jsonl)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of stdout "
                                          "(--engine ray: a folder of shards)."),
    engine: str = typer.Option("local", "--engine", help="local, or ray (Ray Data actors; needs --output DIR)."),
    address: Optional[str] = typer.Option(None, "--address", help="--engine ray: the Ray cluster to join "
                                          "(e.g. ray://head:10001 or auto); default: a local Ray."),
    runtime: Optional[str] = typer.Option(None, "--runtime", help="Run the bundle on torch, onnx or sklearn "
                                          "explicitly (a torch bundle asked for onnx is exported in memory). "
                                          "\\[default: the bundle's own]"),
    tta: bool = typer.Option(False, "--tta", help="Test-time augmentation: average over shifted and zoomed views "
                             "(and flipped ones for models trained with flips); JSON rows list the views."),
    explain: Optional[str] = typer.Option(None, "--explain", help="Also write heat maps by this method (gradcam, "
                                          "gradcam++, integrated-gradients, saliency, occlusion, attention) into "
                                          "--explain-out; JSON rows name them."),
    explain_out: Path = typer.Option(Path("explanations"), "--explain-out", help="New or empty folder for --explain."),
) -> None:
    """Predict classes for images; undecodable inputs are reported, not fatal."""
    from foveal.bundle import load_bundle
    from foveal.compress.runtime import load_for_runtime

    if (engine != "local" or address is not None) and (tta or explain):
        raise ConfigError("--tta and --explain run with --engine local", "drop them, or use --engine local")
    if engine != "local" or address is not None:
        from foveal.cli.predict_ray import predict_on_ray

        return predict_on_ray(bundle, inputs, top_k, fmt, output, engine, address)

    if fmt not in FORMATS:
        raise ConfigError(f"unknown --format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    predictor = load_bundle(bundle) if runtime is None else load_for_runtime(bundle, runtime)
    if tta or explain:
        from foveal.cli.explain import prepare_extras

        predictor, explain = prepare_extras(predictor, tta, explain, explain_out)
    files = expand_inputs(inputs)
    results = predictor.predict_files(files, top_k=top_k)
    extras = [{} for _ in results]
    if tta or explain:
        from foveal.cli.explain import prediction_extras

        extras = prediction_extras(predictor, files, explain, explain_out)
    if fmt == "json":
        emit(to_json([{**r.to_json(), **extra} for r, extra in zip(results, extras)]), output)
    elif fmt == "csv":
        emit(_csv(results, top_k), output)
    elif output is not None:
        emit(_csv(results, top_k), output)
    else:
        console.print(_table(results, predictor.task.type))
    failed = sum(r.error is not None for r in results)
    if failed:
        err_console.print(f"[yellow]{failed} of {len(results)} input(s) could not be decoded[/]")


def _label_text(label) -> str:
    return "|".join(label) if isinstance(label, list) else str(label)


def _table(results, task_type: str) -> Table:
    table = Table(header_style="bold")
    table.add_column("path")
    table.add_column("prediction")
    table.add_column("scores" if task_type != "hierarchical" else "per-level probability")
    for r in results:
        if r.error is not None:
            table.add_row(r.path, "[red]error[/]", r.error)
            continue
        p = r.prediction
        shown = p.scores.items() if task_type in ("hierarchical", "multilabel") else p.top_k
        if task_type == "multilabel":
            shown = [(k, v) for k, v in shown if k in p.label] or list(shown)[:1]
        table.add_row(r.path, _label_text(p.label) or "(none)", "  ".join(f"{k} {v:.3f}" for k, v in shown))
    return table


def _csv(results, top_k: int) -> str:
    """One row per input; cells that a spreadsheet would run as formulas are neutralised."""
    from foveal.csvio import csv_text

    header = ["path", "prediction", "error"]
    for i in range(1, top_k + 1):
        header += [f"label_{i}", f"score_{i}"]
    rows = []
    for r in results:
        if r.error is not None:
            rows.append([r.path, "", r.error] + [""] * (2 * top_k))
            continue
        cells = [r.path, _label_text(r.prediction.label), ""]
        for label, score in (r.prediction.top_k + [("", None)] * top_k)[:top_k]:
            cells += [label, "" if score is None else round(score, 6)]
        rows.append(cells)
    return csv_text(header, rows)
