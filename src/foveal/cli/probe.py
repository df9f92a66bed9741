"""`foveal probe`: linear-probe and k-NN accuracy of a backbone's frozen embeddings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from foveal.cli.common import console
from foveal.cli.embed import backbone_option, open_source, size_option, source_and_data, weights_option


def probe_command(
    args: list[str] = typer.Argument(..., metavar="[BACKBONE] DATA", help="A bundle (a pretrained backbone or a "
                                     "classifier) and labelled data (folder, manifest or built-in dataset)."),
    labels_per_class: Optional[int] = typer.Option(None, "--labels-per-class", min=1, help="Train the probes on "
                                                   "this many images per class (scarce labels). [default: all]"),
    backbone: Optional[str] = backbone_option(),
    weights: Optional[Path] = weights_option(),
    image_size: str = size_option(),
    knn_k: int = typer.Option(10, "--knn-k", min=1, help="Neighbours of the k-NN probe."),
    seed: int = typer.Option(0, "--seed", help="Random seed (label sampling, random-init backbones)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help='Write {"linear": {"accuracy"}, "knn": {"accuracy"}, …}.'),
) -> None:
    """Score frozen embeddings: logistic regression and k-NN trained on DATA's training part, scored on its test split."""
    from foveal.data.load import load_dataset
    from foveal.files import write_json
    from foveal.learn.probe import probe

    source, data = source_and_data(args, backbone)
    ds = load_dataset(data)
    result = probe(open_source(source, backbone, weights, ds, image_size, seed), ds, labels_per_class, seed, knn_k)
    per = f"{labels_per_class} per class" if labels_per_class else "all labels"
    console.print(f"linear probe {result['linear']['accuracy']:.4f} · {result['knn']['k']}-NN "
                  f"{result['knn']['accuracy']:.4f} · trained on {result['n_train']} images ({per}), "
                  f"scored on {result['n_test']} ({result['scored_on']})")
    if json_out is not None:
        write_json(json_out, result)
        console.print(f"wrote {json_out}")
