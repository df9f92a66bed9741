"""Active learning on the built-in datasets: learning curves of every strategy against random
sampling, and the label savings at equal accuracy (the numbers quoted in the README).

Runs `foveal al simulate` (logistic regression, a fresh fit each round; 5 seeds; the same random
initial set per seed for every strategy) and writes curves JSON + PNG per dataset into --out.
About 8 minutes on 2 (shared) cores.

    python bench/active_learning.py --out bench-out/al
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

STRATEGIES = ["entropy", "margin", "least-confidence", "coreset", "badge", "hybrid"]
RUNS = {  # dataset: simulate options (the test split is each built-in's own)
    "digits": ["--rounds", "10", "--n", "20", "--features", "pixels"],
    "textures": ["--rounds", "8", "--n", "15", "--features", "hog,color-hist"],
}


def simulate(dataset: str, options: list[str], seeds: int, out: Path) -> dict:
    from foveal.cli import main

    args = ["--quiet", "al", "simulate", f"builtin:{dataset}", *[x for s in STRATEGIES for x in ("--strategy", s)],
            *options, "--seeds", str(seeds), "--json", str(out / f"{dataset}.json"),
            "--plot", str(out / f"{dataset}.png")]
    print("foveal " + " ".join(args), flush=True)
    if main(args) != 0:
        raise SystemExit(f"simulate failed on {dataset}")
    return json.loads((out / f"{dataset}.json").read_text())


def report(dataset: str, result: dict) -> None:
    random = result["curves"]["random"]
    print(f"\n{dataset}: test accuracy at {random[-1]['labels']} labels; labels needed for random's final accuracy")
    print(f"  {'random':<17} {random[-1]['accuracy']:.3f} ± {random[-1]['std']:.3f}   {random[-1]['labels']} labels")
    for name, s in result["savings"].items():
        final = result["curves"][name][-1]
        need = s["labels_for_random_final"]
        need_text = f"{need:6.1f} labels ({s['saving']:+.0%} saved)" if need is not None else "never (within budget)"
        beyond = s["random_labels_for_final"]
        tail = f"; random needs {beyond:.0f} for its accuracy" if beyond is not None else \
            "; random never reaches its accuracy"
        print(f"  {name:<17} {final['accuracy']:.3f} ± {final['std']:.3f}   {need_text}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out/al"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", nargs="*", default=list(RUNS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for dataset in args.datasets:
        report(dataset, simulate(dataset, RUNS[dataset], args.seeds, args.out))


if __name__ == "__main__":
    main()
