"""The ``foveal cluster`` page: scores, the k scan, a 2-D map coloured by cluster and by label, and a
gallery per cluster (the members nearest its centre first)."""

from __future__ import annotations

import numpy as np

from foveal.evaluation.plots import drawn

GALLERY = 12


@drawn
def map_png(coords: np.ndarray, assignments: np.ndarray, labels: list | None) -> bytes:
    """Scatter plots of the 2-D map: by cluster, and by label when known."""
    import io

    from matplotlib.figure import Figure

    panels = 2 if labels is not None else 1
    fig = Figure(figsize=(5.5 * panels, 4.8), dpi=100, layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    _scatter(axes[0], coords, [f"cluster {a}" for a in assignments], "by cluster")
    if labels is not None:
        _scatter(axes[1], coords, [str(v) for v in labels], "by label")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _scatter(ax, coords: np.ndarray, groups: list[str], title: str) -> None:
    names = sorted(set(groups), key=lambda g: (len(g), g))
    for i, name in enumerate(names):
        rows = [j for j, g in enumerate(groups) if g == name]
        ax.scatter(coords[rows, 0], coords[rows, 1], s=8, label=name if len(names) <= 15 else None,
                   color=_colour(i, len(names)))
    ax.set(title=title, xticks=[], yticks=[])
    if len(names) <= 15:
        ax.legend(fontsize=7, markerscale=1.5, loc="best")


def _colour(i: int, n: int):
    from matplotlib import colormaps

    return colormaps["tab20" if n > 10 else "tab10"](i % (20 if n > 10 else 10))


def cluster_page(result: dict, clustering, galleries: dict[int, list[tuple]], map_figure: bytes | None) -> str:
    """``result`` is the JSON summary; ``galleries``: cluster → [(image or None, caption, title)]."""
    from foveal.evaluation.report_html import figure, page, section, table, tiles
    from foveal.learn.gallery import strip, thumb

    scores = {k: result[k] for k in ("k", "silhouette", "adjusted_rand", "nmi", "purity") if k in result}
    sections = [section("Scores", tiles(scores))]
    if clustering.scan:
        key = "bic" if clustering.method == "gmm" else "silhouette"
        sections.append(section(f"Choosing k ({key})", table(["k", key], [[s["k"], s[key]] for s in clustering.scan])))
    sections.append(section("2-D map (t-SNE)", figure(map_figure, "t-SNE map", "each point is an image")))
    sizes = result.get("sizes", {})
    body = "".join(f"<h3>cluster {c} · {sizes.get(str(c), 0)} images</h3>" + strip([thumb(*item) for item in items])
                   for c, items in sorted(galleries.items()))
    sections.append(section("Clusters (members nearest the centre first)", body))
    subtitle = f"{result['method']} · {result['n']} images · features: {result['features']}"
    return page("foveal cluster", subtitle, sections)
