"""``foveal search``: query images against an index, with the same embedder that built it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from foveal.learn.index import Index


@dataclass
class QueryResult:
    query: str
    neighbours: list[dict] = field(default_factory=list)  # {"path", "score", "label"}
    error: str | None = None

    def to_json(self) -> dict:
        out = {"query": self.query, "neighbours": self.neighbours}
        if self.error is not None:
            out["error"] = self.error
        return out


def search_files(index: Index, files: list[Path], k: int = 10, names: list[str] | None = None) -> list[QueryResult]:
    """Decode and embed each query file, then its ``k`` nearest rows; undecodable queries get an error."""
    from foveal.data.images import read_file_bytes
    from foveal.errors import DecodeError
    from foveal.learn.embeddings import rebuild_embedder

    embedder = rebuild_embedder(index.manifest["source"])
    names = names or [str(f) for f in files]
    results, images, rows = [], [], []
    for name, file in zip(names, files):
        try:
            images.append(embedder.preprocessing.decode(read_file_bytes(file)))
            rows.append(len(results))
            results.append(QueryResult(name))
        except DecodeError as err:
            results.append(QueryResult(name, error=str(err)))
    if images:
        scores, found = index.search(embedder.vectors(np.stack(images)), k)
        for r, score_row, found_row in zip(rows, scores, found):
            results[r].neighbours = [{"path": index.paths[j], "score": round(float(s), 6), "label": index.labels[j]}
                                     for s, j in zip(score_row, found_row) if j >= 0]
    return results


def search_page(index: Index, results: list[QueryResult], files: list[Path]) -> str:
    """HTML: each query with its neighbours (thumbnails, similarity, label)."""
    from foveal.evaluation.report_html import esc, page, section
    from foveal.learn.gallery import find_image, strip, thumb

    data = index.manifest.get("data", {})
    root, builtin = data.get("root"), data.get("name") if data.get("builtin") else None
    blocks = []
    for result, file in zip(results, files):
        query = thumb(find_image(str(file), None), "query", result.query)
        if result.error:
            blocks.append(strip([query, f"<p>{esc(result.error)}</p>"]))
            continue
        found = [thumb(find_image(n["path"], root, builtin), f"{n['score']:.3f}" + (f" · {n['label']}" if n["label"]
                       else ""), n["path"]) for n in result.neighbours]
        blocks.append(strip([query, '<span style="display:inline-block;width:16px"></span>', *found]))
    kind = index.manifest.get("kind")
    subtitle = f"{len(results)} queries · {index.manifest.get('count')} indexed images · {kind} index (cosine similarity)"
    return page("foveal search", subtitle, [section("Queries and their nearest neighbours", "<hr>".join(blocks))])
