"""Per-frame analysis as small SVG charts: the frame number along the bottom, drawn on the
server (no chart library), a reel of any length reduced to at most `width` columns.

Each column shows the range (lowest to highest) of the frames it covers, so a single dusty or
flickering frame among thousands still shows as a spike. A click on a chart asks for the frame
under the pointer (see `static/js/charts.js`).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

#: (metric, label, unit) charted, in order; the metrics of `restoration.analysis.METRICS`.
CHARTED: tuple[tuple[str, str, str], ...] = (
    ("mean_luma", "mean luma", "0-1"),
    ("flicker", "flicker", "luma against the neighbours"),
    ("dust", "dust and dirt", "specks in one frame only"),
    ("scratch", "vertical scratches", "score"),
    ("noise", "noise", "luma sigma"),
    ("sharpness", "sharpness", "gradient"),
    ("cut", "scene cuts", "score"),
    ("combing", "interlace combing", "fraction"),
)


def _columns(frames: np.ndarray, values: np.ndarray, width: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bucket the frames into at most `width` columns: (first frame, low, high) per column."""
    n = len(frames)
    buckets = min(width, n)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    starts = edges[:-1]
    clean = np.where(np.isfinite(values), values, np.nan)
    low = np.array([np.nanmin(clean[a:b]) if np.isfinite(clean[a:b]).any() else np.nan
                    for a, b in zip(edges[:-1], edges[1:], strict=True)])
    high = np.array([np.nanmax(clean[a:b]) if np.isfinite(clean[a:b]).any() else np.nan
                     for a, b in zip(edges[:-1], edges[1:], strict=True)])
    return frames[starts], low, high


def _nice(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return "0"
    return f"{value:.3g}"


def charts(series: dict[str, tuple[np.ndarray, np.ndarray]], *, width: int = 720,
           height: int = 70) -> list[dict[str, Any]]:
    """Chart data for a template.

    Parameters
    ----------
    series : ``{label: (frames, metrics)}``, e.g. ``{"before": ..., "after": ...}``:
        frame numbers ``(n,)`` and a metrics array ``(n, len(METRICS))`` of each side. Every
        side is drawn on the same axes.

    Returns
    -------
    list of dict
        One per metric of :data:`CHARTED` that has a finite value: ``name``, ``label``,
        ``unit``, ``low``/``high`` (the y range, as text), ``first``/``last`` (frames at the
        left and right edges), ``width``, ``height`` and ``paths`` (``[(series label, SVG
        path data)]``).
    """
    from restoration.analysis import METRICS

    index = {name: i for i, name in enumerate(METRICS)}
    sides = {k: (np.asarray(f), np.asarray(m)) for k, (f, m) in series.items() if len(f)}
    if not sides:
        return []
    first = min(int(f.min()) for f, _ in sides.values())
    last = max(int(f.max()) for f, _ in sides.values())
    span = max(1, last - first)
    out = []
    for name, label, unit in CHARTED:
        cols = {k: _columns(f, m[:, index[name]].astype(np.float64), width)
                for k, (f, m) in sides.items()}
        finite = np.concatenate([np.concatenate([lo, hi]) for _, lo, hi in cols.values()])
        finite = finite[np.isfinite(finite)]
        if not finite.size:
            continue
        y0, y1 = float(finite.min()), float(finite.max())
        if y1 - y0 < 1e-12:
            y0, y1 = y0 - 0.5, y1 + 0.5
        paths = []
        for key, (starts, lo, hi) in cols.items():
            xs = (starts - first) / span * (width - 2) + 1
            top = [(x, h) for x, h in zip(xs, hi, strict=True) if math.isfinite(h)]
            bottom = [(x, v) for x, v in zip(xs, lo, strict=True) if math.isfinite(v)]

            k = (height - 4) / (y1 - y0)
            points = [f"{x:.1f},{height - 2 - (v - y0) * k:.1f}"
                      for x, v in top + list(reversed(bottom))]
            paths.append((key, "M" + " L".join(points) + " Z" if points else ""))
        out.append({"name": name, "label": label, "unit": unit, "low": _nice(y0),
                    "high": _nice(y1), "first": first, "last": last, "width": width,
                    "height": height, "paths": paths})
    return out
