"""``foveal al simulate``: the active-learning loop on labelled data with the labels hidden, revealed
only for the images a strategy asks for; learning curves (test accuracy vs labels) against random
sampling over several seeds, and the label savings at equal accuracy.

Each seed draws one random initial labelled set shared by every strategy (a fair start); each round
fits the learner on the labelled images only (foveal's ordinary engines, in memory), scores the test
split, then lets the strategy pick ``n`` more from the rest of the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from foveal.al.strategies import NEEDS_EMBEDDINGS, check_strategy, select
from foveal.data.dataset import Dataset
from foveal.errors import ConfigError, DataError

DEFAULT_MODEL = "logistic"  # fast, calibrated enough for uncertainty, and a linear read-out of features
TEST_FRACTION = 0.25  # held out when the data has no test split


@dataclass
class SimulationData:
    """The decoded dataset (in memory, at one size), the pool rows and the test rows."""

    ds: Dataset
    targets: np.ndarray
    pool: np.ndarray
    test: np.ndarray


@dataclass
class Simulation:
    strategies: list[str]
    rounds: int
    n: int
    initial: int
    seeds: int
    model: str
    features: str | None
    curves: dict[str, list[list[tuple[int, float]]]] = field(default_factory=dict)  # strategy -> per seed


def prepare_data(source, image_size="auto", channels="auto") -> SimulationData:
    """Load and decode once; the pool is everything but the test split (or a seeded 25 % hold-out)."""
    from foveal.data.images import infer_preprocessing, load_images
    from foveal.data.load import load_dataset
    from foveal.data.task import SingleLabelTask

    ds = load_dataset(source)
    if not isinstance(ds.task, SingleLabelTask):
        raise ConfigError(f"{ds.name} is a {ds.task.type} dataset; the simulation needs one class per image",
                          "give single-label data")
    loaded = load_images(ds, infer_preprocessing(ds, image_size, channels), description="Decoding")
    kept = [int(i) for i in loaded.kept]
    mem = Dataset(name=ds.name, source="memory", task=ds.task, labels=[ds.labels[i] for i in kept],
                  split=[ds.split[i] for i in kept], images=loaded.images)
    test = np.array([i for i, s in enumerate(mem.split) if s == "test"], dtype=int)
    if len(test) == 0:
        test = np.random.default_rng(0).permutation(len(mem))[:max(1, int(TEST_FRACTION * len(mem)))]
    pool = np.setdiff1d(np.arange(len(mem)), test)
    mem = replace(mem, split=["test" if i in set(test.tolist()) else "train" for i in range(len(mem))])
    return SimulationData(mem, np.asarray(mem.targets()), pool, np.sort(test))


def initial_set(data: SimulationData, size: int, seed: int) -> list[int]:
    """``size`` random pool rows; while they hold a single class, one more random row is labelled
    (a classifier needs two classes; no label is looked at before its row is bought)."""
    order = [int(i) for i in np.random.default_rng(seed).permutation(data.pool)]
    chosen = order[:size]
    for row in order[size:]:
        if len({int(data.targets[i]) for i in chosen}) >= 2:
            break
        chosen.append(row)
    return chosen


def fit(cfg, data: SimulationData, labelled: list[int]):
    """The learner fitted on the labelled rows (no hold-out); returns the model (predict_proba, embed)."""
    from foveal.progress import quiet
    from foveal.runs.pipeline import fit_model

    with quiet():
        fitted, run = fit_model(cfg, data.ds.subset(labelled), validation=False)
    if tuple(run.prep.size) != tuple(data.ds.images.shape[1:3]):
        raise DataError("the learner chose another image size than the simulation decoded", "give --image-size")
    return fitted.model


def one_curve(cfg, data: SimulationData, strategy: str, start: list[int], rounds: int, n: int,
              seed: int) -> list[tuple[int, float]]:
    """(labels, test accuracy) after the initial set and after each round of ``strategy``."""
    images = data.ds.images
    labelled, curve = list(start), []
    for r in range(rounds + 1):
        model = fit(cfg, data, labelled)
        accuracy = float((model.predict_proba(images[data.test]).argmax(1) == data.targets[data.test]).mean())
        curve.append((len(labelled), accuracy))
        rest = np.setdiff1d(data.pool, labelled)
        if r == rounds or len(rest) == 0:
            break
        proba = model.predict_proba(images[rest])
        pool_emb = model.embed(images[rest]) if strategy in NEEDS_EMBEDDINGS else None
        lab_emb = model.embed(images[labelled]) if strategy in ("coreset", "hybrid") else None
        chosen = select(strategy, min(n, len(rest)), proba, pool_emb, lab_emb, seed=seed * 1000 + r)
        labelled += [int(rest[i]) for i in chosen.indices]  # the oracle reveals these labels
    return curve


def learner_config(model: str, features: str | None, seed: int, epochs: int | None = None):
    from foveal.config import resolve

    options = {"model": model, "seed": seed, "report": False}
    if features is not None:
        options["features"] = features
    if epochs is not None:
        options["epochs"] = epochs
    return resolve(None, options)


def simulate(source, strategies: list[str], rounds: int, n: int, seeds: int = 3, initial: int | None = None,
             model: str = DEFAULT_MODEL, features: str | None = None, epochs: int | None = None) -> Simulation:
    """Run every strategy and random sampling for ``seeds`` seeds (see the module docstring)."""
    from foveal.progress import track
    from foveal.runs.pipeline import checked_engine

    strategies = [check_strategy(s) for s in dict.fromkeys(strategies) if s != "random"]
    initial = n if initial is None else initial
    if rounds < 1 or n < 1 or seeds < 1 or initial < 1:
        raise ConfigError("--rounds, --n, --seeds and --initial must be at least 1",
                          "e.g. --rounds 10 --n 20 --seeds 3")
    checked_engine(learner_config(model, features, 0, epochs))  # a bad --model / --features fails before decoding
    data = prepare_data(source)
    if initial + rounds * n > len(data.pool):
        raise ConfigError(f"{initial} + {rounds} × {n} labels is more than the pool's {len(data.pool)} images",
                          "lower --rounds, --n or --initial")
    sim = Simulation([*strategies, "random"], rounds, n, initial, seeds, model, features)
    jobs = [(seed, s) for seed in range(seeds) for s in sim.strategies]
    for seed, strategy in track(jobs, "Simulating", total=len(jobs)):
        cfg = learner_config(model, features, seed, epochs)
        start = initial_set(data, initial, seed)
        sim.curves.setdefault(strategy, []).append(one_curve(cfg, data, strategy, start, rounds, n, seed))
    return sim
