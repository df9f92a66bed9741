"""`foveal data issues`: likely label errors (confident learning with cleanlab) on out-of-fold
probabilities — a `foveal cv` run's oof.csv, or a cross-validation run made here with the same options."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console
from foveal.cli.options import CONFIG_OPTION, DATA_ARGUMENT, config_from_values, option_parameters, with_options
from foveal.errors import ConfigError

PANEL = "Label issues"
NOT_HERE = {"report", "out"}  # --report and --out mean this command's files here


def _own(name: str, annotation, option) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)


ISSUE_OPTIONS = [
    _own("issues_out", Path, typer.Option(..., "--out", "-o", help="The ranked CSV of likely label errors.",
                                          rich_help_panel=PANEL)),
    _own("oof", Optional[Path], typer.Option(None, "--oof", help="Out-of-fold probabilities (a `foveal cv` run's "
                                             "oof.csv). [default: run cv here]", rich_help_panel=PANEL)),
    _own("folds", int, typer.Option(5, "--folds", "-k", min=2, help="Folds of the cross-validation run here.",
                                    rich_help_panel=PANEL)),
    _own("write_manifest", Optional[Path], typer.Option(None, "--write-manifest", help="Write a corrected manifest "
                                                        "here (inside the data's folder); nothing else is changed.",
                                                        rich_help_panel=PANEL)),
    _own("json_out", Optional[Path], typer.Option(None, "--json", help="Write the issues as JSON here.",
                                                  rich_help_panel=PANEL)),
    _own("html", Optional[Path], typer.Option(None, "--report", help="Write an HTML gallery here.",
                                              rich_help_panel=PANEL)),
]


def issues_body(data: str | None = None, config: Path | None = None, issues_out: Path = Path("issues.csv"),
                oof: Path | None = None, folds: int = 5, write_manifest: Path | None = None,
                json_out: Path | None = None, html: Path | None = None, **values) -> None:
    """Find likely label errors and write them ranked (most likely first)."""
    from foveal.audit.label_issues import (check_manifest_destination, corrected_manifest, find_issues, issues_csv,
                                           oof_from_cv, read_oof)
    from foveal.data.load import load_dataset
    from foveal.files import atomic_write_text, write_json

    from foveal.audit import require

    require("cleanlab")  # before a cross-validation run, not after
    cfg = config_from_values(data, config, values)
    if oof is not None and any(v is not None for v in values.values()):
        raise ConfigError("training options are for the cross-validation run, but --oof was given",
                          "drop them, or drop --oof to cross-validate here")
    ds = load_dataset(cfg.data, cfg.task)
    if write_manifest is not None:
        check_manifest_destination(ds, write_manifest)  # before any work
    found = find_issues(ds, read_oof(oof, ds) if oof is not None else oof_from_cv(cfg, folds))
    atomic_write_text(issues_out, issues_csv(found))
    console.print(f"{len(found.issues)} likely label error(s) among {found.n_checked} images → {issues_out}")
    for issue in found.issues[:10]:
        console.print(f"  {issue['path']}: {issue['given']} → {issue['suggested']} "
                      f"(self-confidence {issue['self_confidence']:.3f})", markup=False)
    if write_manifest is not None:
        atomic_write_text(write_manifest, corrected_manifest(found, write_manifest))
        console.print(f"corrected manifest: {write_manifest}")
    if json_out:
        write_json(json_out, found.to_json())
        console.print(f"wrote {json_out}")
    if html:
        _write_gallery(found, html)
        console.print(f"wrote {html}")


def _write_gallery(found, html: Path) -> None:
    from foveal.audit.audit_report import GALLERY, write_issues_report
    from foveal.data.images import infer_preprocessing, load_images

    flagged = found.rows[:GALLERY]
    images = None
    if flagged:
        part = found.ds.subset(flagged)
        loaded = load_images(part, infer_preprocessing(part, "auto"), 1.0, "Decoding")
        images = loaded.images if len(loaded.kept) == len(flagged) else None
    write_issues_report(found, images, html)


def build_issues_command():
    return with_options(issues_body, [DATA_ARGUMENT, CONFIG_OPTION, *ISSUE_OPTIONS],
                        option_parameters(exclude=NOT_HERE),
                        "Likely label errors (cleanlab's confident learning on out-of-fold probabilities): a ranked "
                        "CSV, an HTML gallery and, on request, a corrected manifest. Takes every `foveal train` "
                        "option for the cross-validation run.")
