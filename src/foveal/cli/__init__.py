"""The `foveal` command line."""

from __future__ import annotations

import sys

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


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """foveal: train, evaluate and use image classifiers (classical and deep)."""


def _register() -> None:
    from foveal.cli import calibrate, compare, cv, data, evaluate, models, predict, train

    app.command("train")(train.train_command)
    app.command("predict")(predict.predict_command)
    app.command("eval")(evaluate.eval_command)
    app.command("calibrate")(calibrate.calibrate_command)
    app.command("cv")(cv.build_cv_command())
    app.command("compare")(compare.compare_command)
    app.command("datasets")(data.datasets_command)
    app.command("models")(models.models_command)
    from foveal.cli import lr_find, preview

    app.command("lr-find")(lr_find.lr_find_command)
    data.data_app.command("preview")(preview.preview_command)
    app.add_typer(data.data_app, name="data")


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


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors print one line and exit 2; ``--debug`` shows the traceback."""
    from foveal.progress import quiet

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    command = typer.main.get_command(app)
    try:
        with quiet("--quiet" in args or "-q" in args):
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
    except typer.Abort:
        err_console.print("foveal: aborted")
        return 130
    except KeyboardInterrupt:
        err_console.print("foveal: interrupted")
        return 130


def run() -> None:
    sys.exit(main())
