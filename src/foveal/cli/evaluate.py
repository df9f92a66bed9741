"""`foveal eval`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import confusion_table, console, err_console, metrics_table, skipped_table


def eval_command(
    bundle: Path = typer.Argument(..., help="Model bundle (a model/ folder or its run folder)."),
    data: str = typer.Argument(..., help="Folder, manifest or built-in dataset to evaluate on."),
    split: Optional[str] = typer.Option(None, "--split", help="Split to use, or all. [default: test if DATA has one, else all]"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics as JSON here."),
    max_skip_ratio: float = typer.Option(0.1, "--max-skip-ratio", help="Abort when more than this share of images cannot be decoded."),
) -> None:
    """Evaluate a bundle on labelled data."""
    from foveal.evaluation.run import evaluate_bundle
    from foveal.files import write_json

    result = evaluate_bundle(bundle, data, split=split, max_skip_ratio=max_skip_ratio)
    console.print(f"[bold]{result['task']}[/] · {result['n']} images · split {result['split']} of {result['data']}")
    console.print(metrics_table(result["metrics"]))
    if "confusion_matrix" in result and len(result["classes"]) <= 20:
        console.print(confusion_table(result["classes"], result["confusion_matrix"]))
    if "per_label" in result:
        per = {f"{k} f1": v["f1"] for k, v in result["per_label"].items()}
        console.print(metrics_table(per, title="per label"))
    if result["skipped"]:
        err_console.print(skipped_table(result["skipped"]))
    if json_out:
        write_json(json_out, result)
        console.print(f"wrote {json_out}")
