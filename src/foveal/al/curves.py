"""Learning curves of a simulation: mean and spread over seeds, label savings at equal accuracy, a plot."""

from __future__ import annotations

import numpy as np


def mean_curve(runs: list[list[tuple[int, float]]]) -> list[dict]:
    """``[{"labels", "accuracy", "std", "runs"}]``: the mean test accuracy over seeds at each label count."""
    points = []
    for step in zip(*runs):
        accs = [a for _, a in step]
        points.append({"labels": int(step[0][0]), "accuracy": round(float(np.mean(accs)), 4),
                       "std": round(float(np.std(accs)), 4), "runs": [round(a, 4) for a in accs]})
    return points


def labels_to_reach(curve: list[dict], target: float) -> float | None:
    """Labels a curve needs to reach ``target`` accuracy, interpolated linearly between its points
    (on its running maximum, so a dip does not count twice); None if it never gets there."""
    labels = [p["labels"] for p in curve]
    best = np.maximum.accumulate([p["accuracy"] for p in curve])
    if best[0] >= target:
        return float(labels[0])
    for i in range(1, len(curve)):
        if best[i] >= target:
            share = (target - best[i - 1]) / (best[i] - best[i - 1])
            return float(labels[i - 1] + share * (labels[i] - labels[i - 1]))
    return None


def savings(curves: dict[str, list[dict]]) -> dict[str, dict]:
    """Per strategy, at equal accuracy against random sampling:

    - ``labels_for_random_final``: labels the strategy needs to reach random's final accuracy (and the
      share of random's labels that saves);
    - ``random_labels_for_final``: labels random needs to reach the strategy's final accuracy (None when
      random never gets there within the simulated budget).
    """
    random = curves["random"]
    final = random[-1]
    out = {}
    for name, curve in curves.items():
        if name == "random":
            continue
        needed = labels_to_reach(curve, final["accuracy"])
        random_needs = labels_to_reach(random, curve[-1]["accuracy"])
        out[name] = {
            "final_accuracy": curve[-1]["accuracy"], "random_final_accuracy": final["accuracy"],
            "labels_for_random_final": None if needed is None else round(needed, 1),
            "random_labels": final["labels"],
            "saving": None if needed is None else round(1.0 - needed / final["labels"], 3),
            "random_labels_for_final": None if random_needs is None else round(random_needs, 1),
        }
    return out


def summary(sim) -> dict:
    curves = {name: mean_curve(runs) for name, runs in sim.curves.items()}
    return {"curves": curves, "savings": savings(curves),
            "setup": {"strategies": sim.strategies, "rounds": sim.rounds, "n": sim.n, "initial": sim.initial,
                      "seeds": sim.seeds, "model": sim.model, "features": sim.features}}


def plot_curves(result: dict, title: str) -> bytes:
    """Accuracy vs labels, one line per strategy with a ±1 std band; random dashed."""
    from foveal.evaluation.plots import drawn

    @drawn
    def draw() -> bytes:
        import io

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
        for name, curve in result["curves"].items():
            x = [p["labels"] for p in curve]
            y = np.array([p["accuracy"] for p in curve])
            s = np.array([p.get("std", 0.0) for p in curve])
            line, = ax.plot(x, y, "--" if name == "random" else "-", marker="o", markersize=3, label=name)
            ax.fill_between(x, y - s, y + s, color=line.get_color(), alpha=0.12, linewidth=0)
        ax.set_xlabel("labelled images")
        ax.set_ylabel("test accuracy")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        return buffer.getvalue()

    return draw()
