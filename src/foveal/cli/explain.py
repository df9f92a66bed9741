"""`foveal explain`: attribution maps for images — an overlay PNG and the raw map per image."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console

METHOD_HELP = ("gradcam, gradcam++, integrated-gradients, saliency, occlusion (deep bundles); attention "
               "(vision transformers: attention rollout); occlusion is the one method for classical bundles.")


def explain_command(
    bundle: Path = typer.Argument(..., help="Model bundle (a model/ folder or its run folder)."),
    inputs: list[str] = typer.Argument(..., help="Image files, folders (searched recursively) or glob patterns."),
    out: Path = typer.Option(..., "--out", "-o", help="New or empty folder for the overlays, maps and "
                             "explanations.jsonl."),
    method: str = typer.Option("gradcam", "--method", "-m", help=METHOD_HELP),
    target: Optional[str] = typer.Option(None, "--target", help="Class (or tree node) to explain. [default: the "
                                         "prediction; every predicted label / every level of the predicted path]"),
    report: Optional[Path] = typer.Option(None, "--report", help="Also write an HTML page of the overlays here."),
) -> None:
    """Explain predictions: an overlay PNG, the raw map (.npy) and a line in explanations.jsonl per image."""
    from foveal.bundle import load_bundle
    from foveal.cli.predict import expand_inputs
    from foveal.explain.files import check_out_dir, explain_files
    from foveal.explain.explainer import check_method

    predictor = load_bundle(bundle)
    method = check_method(predictor, method)
    check_out_dir(out)
    if target is not None:
        from foveal.explain.targets import score_space

        score_space(predictor.task).index(target)
    done = explain_files(predictor, expand_inputs(inputs), out, method, target)
    maps = [r for r in done.rows if "error" not in r]
    failed = [r for r in done.rows if "error" in r]
    console.print(f"{len(maps)} {method} map(s) for {len({r['path'] for r in maps})} image(s) in {out} "
                  f"(index: {done.index.name})")
    for r in failed[:10]:
        err_console.print(f"  could not decode {r['path']}: {r['error']}", markup=False)
    if report:
        from foveal.explain.report import write_explain_report

        write_explain_report(done.rows, out, report, method, str(predictor.path))
        console.print(f"wrote {report}")


def prepare_extras(predictor, tta: bool, method: str | None, out: Path):
    """``predict --tta / --explain``: the (maybe TTA-wrapped) predictor and the checked method, before any work."""
    from foveal.explain.explainer import check_method
    from foveal.explain.files import check_out_dir

    if method is not None:
        method = check_method(predictor, method)
        check_out_dir(out)
    if tta:
        from foveal.audit.tta import with_tta

        predictor = with_tta(predictor)
    return predictor, method


def prediction_extras(predictor, files: list[Path], method: str | None, out: Path) -> list[dict]:
    """Per input: ``tta`` (the views averaged) and ``explanations`` (target, overlay and map paths)."""
    from foveal.audit.tta import tta_views
    from foveal.explain.files import explain_files

    extras: list[dict] = [{} for _ in files]
    views = tta_views(predictor)
    if views:
        for extra in extras:
            extra["tta"] = views
    if method is not None:
        names = [str(f) for f in files]
        rows = explain_files(predictor, files, out, method).rows
        for i, name in enumerate(names):
            extras[i]["explanations"] = [{"target": r["target"], "score": r["score"], "overlay": str(out / r["overlay"]),
                                          "map": str(out / r["map"])} for r in rows if r["path"] == name and "error" not in r]
        console.print(f"explanations ({method}) written to {out}")
    return extras
