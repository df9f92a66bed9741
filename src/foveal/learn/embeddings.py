"""Embeddings: one vector per image from a bundle or a timm architecture, L2-normalised, stored as Parquet.

An :class:`Embedder` knows its preprocessing, how to embed decoded images and how to describe its
source so that ``foveal search`` can rebuild it and check it is the same (bundle manifest hash,
weights hash). The Parquet table has one row per input sample: ``path``, ``label`` (None when
unknown), ``split``, ``vector`` (float32, unit length; None when the file could not be decoded)
and ``error``; its schema metadata ``foveal`` holds the source, the dimension and the data root.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from foveal.data.dataset import Dataset
from foveal.data.images import Preprocessing
from foveal.errors import ConfigError, DataError

CHUNK = 512  # images decoded and embedded at a time
EMBEDDINGS_FORMAT = "foveal-embeddings"


@dataclass
class Embedder:
    """Decoded uint8 images (n, H, W, C) at ``preprocessing``'s size → (n, d) float32 features."""

    preprocessing: Preprocessing
    embed: Callable[[np.ndarray], np.ndarray]
    source: dict  # JSON: how to rebuild it (see ``open_embedder``)

    def vectors(self, images: np.ndarray) -> np.ndarray:
        """Unit-length float32 embeddings (cosine similarity is then an inner product)."""
        return l2_normalise(self.embed(images))


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        x = x.reshape(len(x), -1)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_embedder(path: str | Path) -> Embedder:
    """Any bundle: a classifier's pre-logit features (deep) or feature vector (classical), or a backbone."""
    from foveal.bundle import load_bundle
    from foveal.bundle.format import MANIFEST_NAME

    predictor = load_bundle(path)
    source = {"kind": "bundle", "path": str(predictor.path.resolve()),
              "manifest_sha256": file_sha256(predictor.path / MANIFEST_NAME),
              "purpose": predictor.purpose, "family": predictor.family}
    return Embedder(predictor.preprocessing, predictor.embed, source)


def backbone_embedder(arch: str, weights: str | Path | None, prep: Preprocessing, seed: int = 0) -> Embedder:
    """A timm (or foveal) architecture without its classifier: ``weights`` loaded (matched by name and
    shape), or randomly initialised from ``seed`` when None — the baseline every pretraining must beat."""
    import torch

    from foveal.deep.inference import InputSpec, embed
    from foveal.deep.models import build_model, check_model, timm_args
    from foveal.deep.transfer import load_pretrained

    check_model(arch)
    torch.manual_seed(seed)
    net = build_model(arch, prep.channels, 0, timm_args(arch, prep.size, 0.0)).eval()
    source = {"kind": "backbone", "architecture": arch, "seed": seed, "preprocessing": prep.to_json()}
    if weights is not None:
        load_pretrained(net, weights)
        source.update(weights=str(Path(weights).resolve()), weights_sha256=file_sha256(Path(weights)))
    spec = InputSpec(torch.tensor(prep.mean, dtype=torch.float32), torch.tensor(prep.std, dtype=torch.float32))
    return Embedder(prep, lambda images: embed(net, images, spec).numpy(), source)


def backbone_preprocessing(arch: str, ds: Dataset | None, image_size="auto", channels="auto",
                           pretrained: bool = False) -> Preprocessing:
    """Input size and channels for ``--backbone`` (as deep training picks them: the data's size, at least
    32 px), normalised with the architecture's own mean / std when it has one (timm weights expect it)."""
    from dataclasses import replace

    from foveal.data.images import infer_preprocessing

    if ds is None:
        raise ConfigError("--backbone needs DATA to choose the input size", "give DATA, or --image-size N")
    prep = infer_preprocessing(ds, image_size, 3 if pretrained and channels == "auto" else channels)
    if image_size == "auto":
        prep = prep.with_min_side(32)
    mean, std = _arch_stats(arch, prep.channels)
    return replace(prep, mean=mean, std=std)


def _arch_stats(arch: str, channels: int) -> tuple[tuple, tuple]:
    import timm

    cfg = timm.get_pretrained_cfg(arch) if timm.is_model(arch) else None
    mean = tuple(cfg.mean) if cfg is not None and cfg.mean else (0.5, 0.5, 0.5)
    std = tuple(cfg.std) if cfg is not None and cfg.std else (0.25, 0.25, 0.25)
    if channels == 1:
        return (float(np.mean(mean)),), (float(np.mean(std)),)
    return mean, std


def open_embedder(source: str | None, backbone: str | None = None, weights: str | None = None,
                  ds: Dataset | None = None, image_size="auto", channels="auto", seed: int = 0) -> Embedder:
    """``SOURCE`` (a bundle, its run folder) or ``--backbone ARCH [--weights FILE]``."""
    if (source is None) == (backbone is None):
        raise ConfigError("give either a bundle or --backbone ARCH", "e.g. `foveal embed runs/x/model DATA --out e.parquet`")
    if weights is not None and backbone is None:
        raise ConfigError("--weights needs --backbone ARCH", "add --backbone, e.g. --backbone resnet18")
    if source is not None:
        return bundle_embedder(source)
    if weights is not None and not Path(weights).is_file():
        raise ConfigError(f"--weights {weights} does not exist", "give a .safetensors or weights-only .pth file")
    prep = backbone_preprocessing(backbone, ds, image_size, channels, pretrained=weights is not None)
    return backbone_embedder(backbone, weights, prep, seed)


def rebuild_embedder(source: dict) -> Embedder:
    """The embedder an index or table was made with, refused when its bundle or weights changed since."""
    from foveal.errors import BundleError

    if source.get("kind") == "bundle":
        path = Path(source["path"])
        if not (path / "foveal.json").is_file() or file_sha256(path / "foveal.json") != source["manifest_sha256"]:
            raise BundleError(f"the bundle the vectors came from ({path}) is missing or has changed",
                              "rebuild the index with the bundle you search with")
        return bundle_embedder(path)
    if source.get("kind") == "backbone":
        weights = source.get("weights")
        if weights and (not Path(weights).is_file() or file_sha256(Path(weights)) != source["weights_sha256"]):
            raise BundleError(f"the weights the vectors came from ({weights}) are missing or have changed",
                              "rebuild the index with the weights you search with")
        prep = Preprocessing.from_json(source["preprocessing"])
        return backbone_embedder(source["architecture"], weights, prep, int(source.get("seed", 0)))
    raise BundleError("the vectors do not say how they were made (no source)", "embed them again with foveal embed")


@dataclass
class EmbeddingTable:
    """Rows of ``foveal embed``: every sample, with a vector or the reason it has none."""

    paths: list[str]
    labels: list[str | None]
    splits: list[str | None]
    vectors: np.ndarray  # (n_ok, d) float32 for the rows in ``ok``
    ok: np.ndarray  # indices of rows that have a vector
    errors: dict[int, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)  # source, dimension, data, root

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    def kept(self, column: list) -> list:
        return [column[i] for i in self.ok]


def label_text(value) -> str | None:
    if value is None:
        return None
    return "|".join(value) if isinstance(value, list) else str(value)


def embed_dataset(embedder: Embedder, ds: Dataset, description: str = "Embedding") -> EmbeddingTable:
    """Decode and embed ``ds`` in chunks (a progress bar over images); undecodable files get an error row."""
    from foveal.data.images import load_images
    from foveal.progress import quiet, track

    parts, ok, errors = [], [], {}
    starts = range(0, len(ds), CHUNK)
    for start in track(starts, description, total=len(ds), unit_weight=lambda s: min(CHUNK, len(ds) - s)):
        chunk = ds.subset(range(start, min(start + CHUNK, len(ds))))
        with quiet():
            loaded = load_images(chunk, embedder.preprocessing, max_skip_ratio=1.0)
        for item, i in zip(loaded.skipped, _skipped_rows(chunk, loaded)):
            errors[start + i] = item["reason"]
        if len(loaded.kept):
            parts.append(embedder.vectors(loaded.images))
            ok += [start + int(i) for i in loaded.kept]
    vectors = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
    meta = {"source": embedder.source, "dimension": int(vectors.shape[1]) if parts else 0, "data": ds.name,
            "root": str(ds.root.resolve()) if ds.root is not None else None, "builtin": ds.source == "builtin"}
    return EmbeddingTable(paths=[ds.location(i) for i in range(len(ds))], labels=[label_text(v) for v in ds.labels],
                          splits=list(ds.split), vectors=vectors, ok=np.array(ok, dtype=int), errors=errors, meta=meta)


def _skipped_rows(chunk: Dataset, loaded) -> list[int]:
    kept = set(int(i) for i in loaded.kept)
    return [i for i in range(len(chunk)) if i not in kept]


def write_table(table: EmbeddingTable, out: Path) -> Path:
    """The Parquet file (written atomically); vectors as fixed-size float32 lists."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from foveal.files import atomic_write_bytes

    d = table.dimension
    row_of = {int(i): r for r, i in enumerate(table.ok)}
    vectors = [table.vectors[row_of[i]].tolist() if i in row_of else None for i in range(len(table.paths))]
    schema = pa.schema([("path", pa.string()), ("label", pa.string()), ("split", pa.string()),
                        ("vector", pa.list_(pa.float32(), d) if d else pa.list_(pa.float32())), ("error", pa.string())],
                       metadata={"foveal": json.dumps({"format": EMBEDDINGS_FORMAT, "version": 1, **table.meta})})
    arrow = pa.table({"path": table.paths, "label": table.labels, "split": table.splits, "vector": vectors,
                      "error": [table.errors.get(i) for i in range(len(table.paths))]}, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink)
    return atomic_write_bytes(Path(out), sink.getvalue().to_pybytes())


def is_embeddings_file(path: str | Path) -> bool:
    """A Parquet file written by ``foveal embed`` (not a manifest)."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".parquet":
        return False
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:  # pyarrow raises several error types for non-Parquet files
        return False
    return b"foveal" in meta


def read_table(path: str | Path) -> EmbeddingTable:
    """A table written by :func:`write_table`."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        arrow = pq.read_table(path)
        meta = json.loads((arrow.schema.metadata or {})[b"foveal"])
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path} is not an embeddings file written by foveal embed ({err})".replace("\n", " "),
                        "write one with `foveal embed SOURCE DATA --out FILE.parquet`") from None
    if meta.get("format") != EMBEDDINGS_FORMAT:
        raise DataError(f"{path} is not an embeddings file written by foveal embed", "embed the data again")
    columns = arrow.to_pydict()
    vectors = columns["vector"]
    ok = [i for i, v in enumerate(vectors) if v is not None]
    array = np.asarray([vectors[i] for i in ok], dtype=np.float32).reshape(len(ok), -1)
    errors = {i: e for i, e in enumerate(columns["error"]) if e is not None}
    return EmbeddingTable(paths=columns["path"], labels=columns["label"], splits=columns["split"], vectors=array,
                          ok=np.array(ok, dtype=int), errors=errors, meta=meta)


def classical_table(ds: Dataset, features: str) -> EmbeddingTable:
    """Classical feature vectors (``hog``, ``lbp``, ``hog,lbp``, …) of ``ds``, standardised per column, at the
    size a classical run would pick; undecodable files get an error row."""
    from sklearn.preprocessing import StandardScaler

    from foveal.data.images import infer_preprocessing, load_images
    from foveal.features import create_features

    prep = infer_preprocessing(ds)
    loaded = load_images(ds, prep, max_skip_ratio=1.0)
    extractor = create_features(features)  # sift-bow's vocabulary is seeded by its own random_state
    x = extractor.fit_transform(loaded.images) if len(loaded.kept) else np.zeros((0, 0))
    x = StandardScaler().fit_transform(np.asarray(x, dtype=np.float64)).astype(np.float32) if len(x) else x
    errors = {int(i): item["reason"] for i, item in zip(_skipped_rows(ds, loaded), loaded.skipped)}
    meta = {"source": {"kind": "features", "features": features, "preprocessing": prep.to_json()},
            "dimension": int(x.shape[1]) if len(x) else 0, "data": ds.name,
            "root": str(ds.root.resolve()) if ds.root is not None else None, "builtin": ds.source == "builtin"}
    return EmbeddingTable(paths=[ds.location(i) for i in range(len(ds))], labels=[label_text(v) for v in ds.labels],
                          splits=list(ds.split), vectors=np.asarray(x, dtype=np.float32), ok=np.asarray(loaded.kept),
                          errors=errors, meta=meta)
