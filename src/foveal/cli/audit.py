"""`foveal audit`: metrics per subgroup (manifest columns such as site or skin_tone) and the gaps."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from foveal.cli.common import console, err_console, skipped_table

SHOWN = ("accuracy", "recall", "false_positive_rate", "false_negative_rate", "ece")


def audit_command(
    bundle: Path = typer.Argument(..., help="Model bundle (a model/ folder or its run folder)."),
    data: str = typer.Argument(..., help="Folder, manifest or built-in dataset (labelled, with the columns)."),
    by: str = typer.Option(..., "--by", help="Subgroup column(s): COLUMN or COLUMN,COLUMN (their intersections)."),
    split: Optional[str] = typer.Option(None, "--split", help="Split to use, or all. [default: test if DATA has one, else all]"),
    min_size: int = typer.Option(20, "--min-size", min=1, help="Subgroups with fewer images are flagged, not ranked."),
    bootstrap: int = typer.Option(200, "--bootstrap", min=0, help="Bootstrap resamples for confidence intervals (0: none)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the bootstrap."),
    tta: bool = typer.Option(False, "--tta", help="Test-time augmentation for the predictions."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the audit as JSON here."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a self-contained HTML page here."),
    max_skip_ratio: float = typer.Option(0.1, "--max-skip-ratio", help="Abort when more than this share of images cannot be decoded."),
) -> None:
    """Fairness and subgroup audit: metrics per subgroup (fairlearn), the gaps between them, bootstrap intervals."""
    from foveal.audit.fairness import run_audit
    from foveal.files import write_json

    columns = [c.strip() for c in by.split(",") if c.strip()]
    result = run_audit(bundle, data, columns, split, min_size, bootstrap, seed, tta, max_skip_ratio)
    console.print(_groups_table(result))
    for name, gap in result["gaps"].items():
        if isinstance(gap, dict):
            ci = f" (95% CI {gap['difference_ci'][0]:.4f}–{gap['difference_ci'][1]:.4f})" if "difference_ci" in gap else ""
            console.print(f"{name}: largest gap {gap['difference']:.4f}{ci}, worst {gap['worst_group']}, "
                          f"smallest ratio {gap['ratio']:.4f}", markup=False)
        else:
            console.print(f"{name}: {gap:.4f}", markup=False)
    if result["flagged"]:
        err_console.print(f"[yellow]too small to judge (< {min_size} images): {', '.join(result['flagged'])}[/]")
    if result["skipped"]:
        err_console.print(skipped_table(result["skipped"]))
    if json_out:
        write_json(json_out, result)
        console.print(f"wrote {json_out}")
    if report:
        from foveal.audit.audit_report import write_audit_report

        write_audit_report(result, report)
        console.print(f"wrote {report}")


def _groups_table(result: dict) -> Table:
    table = Table(title=f"by {result['by']} · {result['n']} images · split {result['split']} of {result['data']}",
                  header_style="bold")
    table.add_column(result["by"])
    table.add_column("n", justify="right")
    for name in SHOWN:
        table.add_column(name.replace("false_positive_rate", "FPR").replace("false_negative_rate", "FNR"), justify="right")
    for group, row in result["groups"].items():
        cells = ["—" if row.get(m) is None else f"{row[m]:.4f}" for m in SHOWN]
        table.add_row(group + (" (too small)" if row["too_small"] else ""), str(row["n"]), *cells)
    return table
