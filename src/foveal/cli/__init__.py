"""The `foveal` command line."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

import typer

from foveal.cli.common import err_console
from foveal.errors import FovealError

app = typer.Typer(
    name="foveal",
    help="From a folder of images to a trained, evaluated classifier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


GLOBAL_FLAGS = ("--debug", "--quiet", "-q")  # accepted anywhere on the line, before or after the command


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors (also after the command)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or info lines (also after the command)."),
) -> None:
    """foveal: train, evaluate and use image classifiers (classical and deep)."""


def _register() -> None:
    from foveal.cli import calibrate, compare, cv, data, evaluate, models, predict, train

    app.command("train")(train.build_train_command())
    app.command("predict")(predict.predict_command)
    app.command("eval")(evaluate.eval_command)
    app.command("calibrate")(calibrate.calibrate_command)
    app.command("cv")(cv.build_cv_command())
    app.command("compare")(compare.compare_command)
    app.command("datasets")(data.datasets_command)
    app.command("models")(models.models_command)
    from foveal.cli import lr_find, preview

    app.command("lr-find")(lr_find.build_lr_find_command())
    from foveal.cli import cluster, embed, index, pretrain, probe, search

    app.command("embed")(embed.embed_command)
    app.command("index")(index.index_command)
    app.command("search")(search.search_command)
    app.command("cluster")(cluster.cluster_command)
    app.command("pretrain")(pretrain.build_pretrain_command())
    app.command("probe")(probe.probe_command)
    data.data_app.command("preview")(preview.build_preview_command())
    from foveal.cli import feedback, serve

    app.command("serve")(serve.serve_command)
    app.add_typer(feedback.feedback_app, name="feedback")
    app.add_typer(data.data_app, name="data")
    from foveal.cli import al

    al.al_app.command("train")(al.build_al_train_command())
    app.add_typer(al.al_app, name="al")
    from foveal.cli import bench, distill, export, prune, quantize, tune

    app.command("export")(export.export_command)
    app.command("quantize")(quantize.quantize_command)
    app.command("prune")(prune.prune_command)
    app.command("distill")(distill.build_distill_command())
    app.command("tune")(tune.build_tune_command())
    app.command("bench")(bench.bench_command)
    from foveal.cli import audit, explain, issues, robustness

    app.command("explain")(explain.explain_command)
    app.command("robustness")(robustness.robustness_command)
    app.command("audit")(audit.audit_command)
    data.data_app.command("issues")(issues.build_issues_command())
    from foveal.cli import synthesize

    app.command("synthesize")(synthesize.synthesize_command)


_register()


def _usage_errors() -> tuple[type[Exception], ...]:
    """The usage-error class of whichever click typer runs on (recent typer vendors its own)."""
    found: list[type[Exception]] = []
    try:
        from typer._click.exceptions import ClickException as Vendored

        found.append(Vendored)
    except ImportError:
        pass
    try:
        from click import ClickException

        found.append(ClickException)
    except ImportError:
        pass
    return tuple(found)


def _split_global(args: list[str]) -> tuple[list[str], set[str]]:
    """Pull --debug / --quiet out of the arguments wherever they are (not after ``--``)."""
    end = args.index("--") if "--" in args else len(args)
    found = {a for a in args[:end] if a in GLOBAL_FLAGS}
    rest = [a for i, a in enumerate(args) if i >= end or a not in GLOBAL_FLAGS]
    return rest, found


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    err_console.print(f"foveal: warning: {message}", markup=False, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _warnings_as_lines():
    """foveal's own warnings print as one ``foveal: warning: …`` line each; others as Python prints them."""
    from foveal.errors import FovealWarning

    original = warnings.showwarning

    def show(message, category, *rest, **kw):
        if issubclass(category, FovealWarning):
            _show_warning(message, category, *rest, **kw)
        else:
            original(message, category, *rest, **kw)

    with warnings.catch_warnings():
        warnings.simplefilter("always", FovealWarning)
        warnings.showwarning = show
        try:
            yield
        finally:
            warnings.showwarning = original


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors print one line and exit 2; ``--debug`` shows the traceback."""
    from foveal.progress import quiet

    args, flags = _split_global(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in flags
    command = typer.main.get_command(app)
    try:
        with quiet(bool(flags & {"--quiet", "-q"})), _warnings_as_lines():
            code = command.main(args=args, prog_name="foveal", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except FovealError as err:
        if debug:
            raise
        err_console.print(f"foveal: error: {err}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as done:
        return done.exit_code
    except _usage_errors() as err:
        err.show()
        return err.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("foveal: interrupted")
        return 130


def run() -> None:
    leave(main())


def leave(code: int) -> None:
    """Exit with ``code``. Once torch is loaded, skip the interpreter's module-by-module teardown
    (about 1.5 s with torch, timm and scikit-learn loaded on this CPU): the command has written and
    closed its files, so join the remaining threads and run the exit handlers as Python would, flush,
    and leave at once."""
    import threading

    if "torch" not in sys.modules:
        sys.exit(code)
    try:
        threading._shutdown()  # what finalisation does first: executors' exit hooks, non-daemon threads joined
        import atexit

        atexit._run_exitfuncs()  # temporary folders, Ray, logging, ... (registered exit handlers)
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - an odd interpreter state: the ordinary exit is always correct
        sys.exit(code)
    os._exit(code)
