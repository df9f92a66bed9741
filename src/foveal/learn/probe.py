"""Linear-probe and k-NN accuracy of frozen embeddings: how much a backbone's features know about
labels it never saw. Trained on the data's training part (optionally ``labels_per_class`` images per
class, to simulate scarce labels), scored on its test split."""

from __future__ import annotations

import numpy as np

from foveal.data.dataset import Dataset
from foveal.errors import ConfigError, DataError

KNN_K = 10
HOLD_OUT = 0.25  # of the data held out for scoring when it has no test split


def split_for_probe(ds: Dataset, labels_per_class: int | None, seed: int = 0) -> tuple[Dataset, Dataset, str]:
    """(training images, test images, what was scored): the test split, or a stratified hold-out."""
    if ds.task.type == "multilabel":
        raise ConfigError("probe scores single-label data; this data has several labels per image",
                          "probe on a single-label dataset")
    if "test" in ds.splits:
        train = ds.subset([i for i, s in enumerate(ds.split) if s != "test"])
        test, scored = ds.select("test"), "test split"
    else:
        from sklearn.model_selection import train_test_split

        idx = np.arange(len(ds))
        tr, te = train_test_split(idx, test_size=HOLD_OUT, random_state=seed, stratify=ds.labels)
        train, test, scored = ds.subset(sorted(tr)), ds.subset(sorted(te)), f"{HOLD_OUT:.0%} held out (no test split)"
    if labels_per_class is not None:
        train = per_class(train, labels_per_class, seed)
    return train, test, scored


def per_class(ds: Dataset, n: int, seed: int = 0) -> Dataset:
    """A seeded sample of at most ``n`` images per class."""
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for label in sorted(set(ds.labels)):
        members = [i for i, v in enumerate(ds.labels) if v == label]
        chosen += rng.permutation(members)[:n].tolist()
    return ds.subset(sorted(chosen))


def score_vectors(train_x: np.ndarray, train_y: list, test_x: np.ndarray, test_y: list, seed: int = 0,
                  knn_k: int = KNN_K) -> dict:
    """Logistic regression on standardised vectors, and cosine k-NN (distance-weighted); test accuracy of each."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(set(train_y)) < 2:
        raise DataError("the probe's training part holds fewer than two classes", "use more labelled images")
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, random_state=seed))
    linear.fit(train_x, train_y)
    k = max(1, min(knn_k, len(train_y)))
    knn = KNeighborsClassifier(n_neighbors=k, metric="cosine", weights="distance").fit(train_x, train_y)
    truth = np.asarray(test_y)
    return {"linear": {"accuracy": float((linear.predict(test_x) == truth).mean())},
            "knn": {"accuracy": float((knn.predict(test_x) == truth).mean()), "k": k}}


def probe(embedder, ds: Dataset, labels_per_class: int | None = None, seed: int = 0, knn_k: int = KNN_K) -> dict:
    """Embed the training and test images with ``embedder`` and score both probes."""
    from foveal.learn.embeddings import embed_dataset

    train, test, scored = split_for_probe(ds, labels_per_class, seed)
    a = embed_dataset(embedder, train, "Embedding train")
    b = embed_dataset(embedder, test, "Embedding test")
    if not len(a.ok) or not len(b.ok):
        raise DataError("no decodable images in the training or test part", "check the data with `foveal data check`")
    result = score_vectors(a.vectors, a.kept(a.labels), b.vectors, b.kept(b.labels), seed, knn_k)
    return {**result, "n_train": len(a.ok), "n_test": len(b.ok), "labels_per_class": labels_per_class,
            "classes": len(set(a.kept(a.labels))), "scored_on": scored, "source": embedder.source, "data": ds.name,
            "skipped": len(a.errors) + len(b.errors)}
