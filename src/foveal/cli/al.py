"""`foveal al`: active learning — init a pool, suggest, label in the browser, train, simulate."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console, err_console
from foveal.cli.options import CONFIG_OPTION, option_parameters, parse_params, with_options
from foveal.errors import ConfigError

al_app = typer.Typer(help="Active learning: label the images that teach the model most.", no_args_is_help=True)
STRATEGY_HELP = "hybrid (margin-uncertainty pre-filter, then k-center diversity), entropy, margin, least-confidence, " \
                "coreset, badge or random."


def _print(text: str) -> None:
    console.print(text, markup=False, highlight=False)


@al_app.command("init")
def init_command(
    data: str = typer.Argument(..., help="Folder, manifest or built-in dataset (builtin:digits)."),
    out: Path = typer.Option(..., "--out", "-o", help="New (or empty) pool folder."),
    keep_labels: int = typer.Option(0, "--keep-labels", help="Seed the pool with this many of DATA's labelled "
                                    "images per class (the rest of DATA's labels stay hidden)."),
    classes: Optional[str] = typer.Option(None, "--classes", help="Comma-separated class names, for DATA "
                                          "without labels."),
    seed: int = typer.Option(0, "--seed", help="Which images --keep-labels picks."),
) -> None:
    """Make a pool: the images copied (by content hash), a manifest and a SQLite labelling state."""
    from foveal.al.create import create_pool

    names = [c.strip() for c in classes.split(",")] if classes else None
    pool = create_pool(data, out, keep_labels, names, seed)
    counts = pool.counts()
    _print(f"pool {pool.folder}: {sum(counts.values())} images ({counts['labelled']} labelled), "
           f"classes: {', '.join(pool.classes)}")


@al_app.command("suggest")
def suggest_command(
    pool: Path = typer.Argument(..., help="The pool folder (`foveal al init`)."),
    bundle: str = typer.Option(..., "--bundle", "-b", help="Bundle (or its run folder) trained on the pool."),
    n: int = typer.Option(50, "--n", help="Images to suggest."),
    strategy: str = typer.Option("hybrid", "--strategy", "-s", help=STRATEGY_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write them here (.csv or .json) "
                                       "[default: POOL/suggestions/round-<r>.csv]."),
    prefilter: int = typer.Option(5, "--prefilter", help="hybrid: keep this many × n most uncertain images "
                                  "before the diversity step."),
    seed: int = typer.Option(0, "--seed", help="Seed of coreset's / badge's / random's draws."),
) -> None:
    """Score the unlabelled images with a bundle and queue the most useful ones as a new round."""
    from foveal.al.suggest import suggest

    found = suggest(pool, bundle, n, strategy, seed, out, prefilter)
    _print(f"round {found.round}: {len(found.rows)} images queued by {found.strategy} → {found.out}")
    for row in found.rows[:5]:
        _print(f"  {row['rank']:>3}  {row['source']}  score {row['score']:.4f}  predicted {row['predicted']} "
               f"({row['confidence']:.2f})")
    _print("label them with `foveal al label POOL --user NAME`")


@al_app.command("label")
def label_command(
    pool: Path = typer.Argument(..., help="The pool folder."),
    user: str = typer.Option(..., "--user", "-u", help="Your name, stored with every label."),
    host: str = typer.Option("127.0.0.1", "--host", help="Only 127.0.0.1 (the page has no login)."),
    port: int = typer.Option(8001, "--port", help="TCP port."),
) -> None:
    """Serve the labelling page: the queued images one at a time; class keys, s skips, u / Backspace undoes."""
    from foveal.al.pool import open_pool
    from foveal.cli.serve import _require_serve_extra  # noqa: PLC2701 (same package)

    _require_serve_extra()
    if host != "127.0.0.1":
        raise ConfigError(f"--host {host}: the labelling page has no login, so it only listens on 127.0.0.1",
                          "label on this machine, or reach it through an SSH tunnel")
    if not user.strip() or len(user) > 100:
        raise ConfigError("--user must be a name of 1 to 100 characters", "e.g. --user alice")
    if not 0 < port < 65536:
        raise ConfigError(f"--port {port} is not a TCP port", "use 1-65535")
    import uvicorn

    from foveal.al.label_app import create_label_app

    store = open_pool(pool)
    err_console.print(f"labelling {store.folder} as {user} on http://{host}:{port}/ ({len(store.queue())} queued)",
                      markup=False, highlight=False)
    uvicorn.run(create_label_app(store, user.strip()), host=host, port=port, log_level="warning",
                access_log=False, server_header=False, timeout_graceful_shutdown=5)


@al_app.command("status")
def status_command(pool: Path = typer.Argument(..., help="The pool folder.")) -> None:
    """Counts, the current queue and every round's model."""
    from foveal.al.pool import open_pool

    store = open_pool(pool)
    counts = store.counts()
    _print(f"{store.folder}: {counts['labelled']} labelled, {counts['unlabelled']} unlabelled, "
           f"{counts['skipped']} skipped; {len(store.queue())} queued in round {store.current_round()}")
    for r in store.rounds():
        acc = (r["metrics"] or {}).get("accuracy")
        trained = f"trained on {r['n_labels']} labels" + (f", val accuracy {acc:.3f}" if acc is not None else "") \
            if r["bundle"] else "not trained"
        _print(f"  round {r['round']}: {r['strategy'] or ''} queued {r['n_queued']}; {trained}")


def al_train_body(pool: Path, config: Path | None = None, **values) -> None:
    """Train on the pool's labelled images (the ordinary `foveal train` run) and record the round."""
    from foveal.al.train import train_pool
    from foveal.cli.train import print_summary

    overrides = {k: v for k, v in values.items() if v is not None}
    if "params" in overrides:
        overrides["params"] = parse_params(overrides["params"])
    result, round_ = train_pool(pool, config, overrides)
    if result is not None:
        print_summary(result)
        _print(f"recorded as the model of round {round_} of {pool}")


POOL_ARGUMENT = inspect.Parameter("pool", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Path,
                                  default=typer.Argument(..., help="The pool folder."))


def build_al_train_command():
    return with_options(al_train_body, [POOL_ARGUMENT, CONFIG_OPTION], option_parameters(),
                        "Retrain on the pool's labelled images (any `foveal train` option; --init-from BUNDLE "
                        "or --init-from last warm-starts a deep model) and record the round.")


@al_app.command("simulate")
def simulate_command(
    data: str = typer.Argument(..., help="Labelled data (folder, manifest, builtin:digits); labels stay hidden "
                               "until a strategy asks for them."),
    strategy: list[str] = typer.Option(["hybrid"], "--strategy", "-s", help=f"Repeatable. {STRATEGY_HELP}"),
    rounds: int = typer.Option(10, "--rounds", help="Rounds of suggestions."),
    n: int = typer.Option(20, "--n", help="Labels bought per round."),
    seeds: int = typer.Option(3, "--seeds", help="Repeats with other initial sets and draws."),
    initial: Optional[int] = typer.Option(None, "--initial", help="Random labels to start from [default: --n]."),
    model: str = typer.Option("logistic", "--model", "-m", help="The learner (any `foveal train --model`)."),
    features: Optional[str] = typer.Option(None, "--features", "-f", help="Classical features (default: auto)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Deep learners: epochs per round."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the curves and savings as JSON."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write the learning curves as a PNG."),
) -> None:
    """Simulate the loop on labelled data: test accuracy vs labels for each strategy against random."""
    from foveal.al.curves import plot_curves, summary
    from foveal.al.simulate import simulate
    from foveal.files import atomic_write_bytes, write_json

    for path, suffix in ((json_out, ".json"), (plot, ".png")):
        if path is not None and path.suffix.lower() != suffix:
            raise ConfigError(f"{path} should end in {suffix}", f"e.g. curves{suffix}")
    result = summary(simulate(data, strategy, rounds, n, seeds, initial, model, features, epochs))
    _show(result)
    if json_out is not None:
        write_json(json_out, {**result, "data": data})
        _print(f"curves: {json_out}")
    if plot is not None:
        atomic_write_bytes(plot, plot_curves(result, f"{data}: {model}, {seeds} seed(s)"))
        _print(f"plot:   {plot}")


def _show(result: dict) -> None:
    from rich.table import Table

    curves = result["curves"]
    table = Table(title="test accuracy (mean over seeds) by labels")
    table.add_column("labels", justify="right")
    for name in curves:
        table.add_column(name, justify="right")
    for i, point in enumerate(curves["random"]):
        table.add_row(str(point["labels"]), *[f"{curves[s][i]['accuracy']:.3f}" for s in curves])
    console.print(table)
    for name, s in result["savings"].items():
        need = s["labels_for_random_final"]
        text = (f"{need:.0f} labels reach random's {s['random_final_accuracy']:.3f} at {s['random_labels']} "
                f"({s['saving']:.0%} fewer)") if need is not None else "does not reach random's final accuracy"
        _print(f"{name}: {text}")
