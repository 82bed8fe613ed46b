"""Per-frame analysis of a scanned sequence and a defect report per reel.

Each frame gets one row of numbers (:data:`METRICS`, in column order): mean, minimum and
maximum luma; a noise estimate; sharpness; flicker against its neighbours; a count of dust and
dirt specks present in that frame only; a vertical scratch score; a scene-cut score; the change
from the previous frame; black and duplicate flags; and an interlace combing ratio. The rows of
a sequence are stored compactly beside it (:func:`save_metrics`, a compressed ``.npz``) and
summed up into a defect report (:func:`defect_report`).

Frames come in the project's in-memory convention (:class:`restoration.io.Frame`):
``(height, width, channels)`` uint16 at full range (``value / 65535``) or float32 as stored,
channels RGB, RGBA, grey or grey + alpha. Everything is measured on the luma (:func:`luma`,
Rec. 709 weights, alpha ignored), in luma units where 1.0 is full scale.

Most metrics are measured on a block-mean downscaled luma (``scale`` x ``scale`` source pixels
to a block, 4 by default), which keeps a 2K frame to about 0.2 megapixels and averages grain
down. Three need full resolution, because what they look for is one or two pixels wide:
**noise** (the finest high-pass residual), **scratch** (thin vertical lines) and **combing**
(line-to-line alternation of interlaced fields).

A sequence is streamed with a three-frame window (:func:`analyze_frames`,
:func:`analyze_sequence`): one full frame is held while it is measured, and only the
downscaled luma and a few numbers of the previous, current and next frames are kept, so memory
does not grow with the length of the reel. Nothing here knows about Django; it works on paths
and numpy arrays.
"""
from __future__ import annotations

import logging
import math
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: Metric names in column order. Units and ranges (luma units: 0.0 black .. 1.0 full scale;
#: float sources may lie outside 0..1):
#:
#: ``mean_luma``   mean of the downscaled luma (the frame's mean luma, less any edge rows or
#:                 columns that do not fill a block), 0..1.
#: ``min_luma``    0.1th percentile of the downscaled luma, 0..1 (a percentile, so a dead
#:                 pixel or a speck of dust does not decide it).
#: ``max_luma``    99.9th percentile of the downscaled luma, 0..1.
#: ``noise``       robust standard deviation of the full-resolution high-pass residual
#:                 (second difference across and down, MAD x 1.4826, divided by 6 so white
#:                 noise of sigma s reads s), luma units, >= 0.
#: ``sharpness``   mean gradient magnitude of the downscaled luma, luma per source pixel
#:                 (block-to-block difference divided by the scale), >= 0.
#: ``flicker``     mean luma minus the mean of the neighbours' mean luma (the one neighbour at
#:                 either end, 0 for a lone frame), luma units, -1..1.
#: ``dust``        count of small blobs (8-connected, at most 32 x 32 source pixels in area) of
#:                 the downscaled luma that are brighter than both neighbours, or darker than
#:                 both, by more than max(0.02, 4 x the robust spread of the frame
#:                 differences), each neighbour first matched to this frame's overall
#:                 brightness and taken at its extreme within one block (slow motion and
#:                 weave are not dust): specks in this frame only. 0 for the first and last
#:                 frame, which lack a neighbour. A whole number >= 0.
#: ``scratch``     thin-vertical-line score 0..1: for each column, the fraction of rows where
#:                 the pixel stands out (same direction) from both pixels 3 columns away by
#:                 more than max(0.02, 5 x noise), at full resolution; the score is the
#:                 largest column's fraction less the median column's, for bright and dark
#:                 lines. 1 = a line the full height of the frame; a line over part of the
#:                 height scores that part. Lines up to 5 px wide.
#: ``cut``         1 - Pearson correlation of the 64-bin luma histograms of this frame and the
#:                 previous one, clipped to 0..1; 0 for the first frame.
#: ``difference``  mean absolute difference of the downscaled luma from the previous frame,
#:                 luma units, 0..1; 1.0 for the first frame (nothing to compare with).
#: ``black``       1.0 when the frame is black (see :data:`DEFAULT_THRESHOLDS`), else 0.0.
#: ``duplicate``   1.0 when the frame repeats the previous one (``difference`` below threshold,
#:                 black frames excluded), else 0.0.
#: ``combing``     interlace combing ratio >= 0: energy of the line-alternating component
#:                 (each line against the mean of the lines above and below, the other field)
#:                 over the energy of the within-field vertical detail (each line against the
#:                 lines two above and two below), the expected white-noise energy taken off
#:                 the first and added to the second; the largest of a 4 x 4 grid of tiles.
#:                 About 0 for noise or smooth pictures, at most about 0.5 for sharp
#:                 progressive edges, well above 1 for woven fields of a moving picture.
METRICS: tuple[str, ...] = (
    "mean_luma", "min_luma", "max_luma", "noise", "sharpness", "flicker", "dust", "scratch",
    "cut", "difference", "black", "duplicate", "combing",
)
_COL = {name: i for i, name in enumerate(METRICS)}

REC709 = (0.2126, 0.7152, 0.0722)  # luma weights for R, G, B
HISTOGRAM_BINS = 64  # luma histogram bins over 0..1 for the cut score

DUST_SIGMAS = 4.0  # a speck differs from both neighbours by this many noise sigmas ...
DUST_CONTRAST = 0.02  # ... and by at least this much luma (in the downscaled picture)
DUST_MAX_SIDE = 32  # source pixels: a blob up to (32 / scale)**2 blocks counts as dust
DUST_MAX_FRACTION = 0.25  # candidates over this fraction of the picture: a change, not dust
DUST_REACH = 1  # blocks: a speck must beat the neighbours' extremes within this reach

SCRATCH_REACH = 3  # source pixels: a line pixel is compared with the pixels this far each side
SCRATCH_SIGMAS = 5.0  # and must stand out from both by this many noise sigmas ...
SCRATCH_CONTRAST = 0.02  # ... and at least this much luma

COMBING_TILES = 4  # combing is the worst tile of a COMBING_TILES x COMBING_TILES grid
COMBING_NOISE_FLOOR = 0.001  # luma: noise taken as at least this (a quarter of an 8-bit code)

#: Thresholds used for the per-frame flags and by :func:`defect_report`.
#:
#: ``black_luma``            a frame is black when mean_luma < this (0.1 covers full-range
#:                           black 0.0, video-range black 0.063 and Cineon log black 0.093) ...
#: ``black_spread``          ... and max_luma - min_luma < this (dark *and* featureless, so a
#:                           night scene with highlights is not black).
#: ``duplicate_difference``  a frame repeats the previous one when difference < this (luma;
#:                           0.0005 is an eighth of an 8-bit code).
#: ``cut``                   a scene cut where cut > this.
#: ``dust_count``            a frame is listed for dust when it has at least this many specks.
#: ``dust_top``              at most this many dust frames are listed, most specks first.
#: ``scratch``               a frame is listed for scratches when scratch > this.
#: ``flicker``               a frame is listed for flicker when abs(flicker) > this (luma);
#:                           frames beside a cut or a black frame are left out.
#: ``combing``               a frame is listed as combed when combing > this.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "black_luma": 0.1,
    "black_spread": 0.1,
    "duplicate_difference": 0.0005,
    "cut": 0.5,
    "dust_count": 1,
    "dust_top": 20,
    "scratch": 0.3,
    "flicker": 0.02,
    "combing": 1.5,
}

_FILE_FORMAT = 1  # version of the .npz layout written by save_metrics


# ----------------------------------------------------------------------------- luma


def luma(pixels: np.ndarray) -> np.ndarray:
    """The luma of a frame.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``(height, width, channels)`` with channels RGB, RGBA, grey (Y) or grey + alpha, or a
        ``(height, width)`` grey picture. uint16 at full range (``value / 65535``), another
        unsigned integer type at its own full range, or float with values as stored.

    Returns
    -------
    numpy.ndarray
        float32 ``(height, width)``. For integer pixels 0.0..1.0; for float pixels values as
        stored (NaN becomes 0, infinities are clipped to 0 and 1). RGB(A) is weighted with the
        Rec. 709 coefficients 0.2126 R + 0.7152 G + 0.0722 B; grey is taken as it is; alpha is
        ignored.
    """
    px = np.asarray(pixels)
    if px.ndim == 2:
        px = px[:, :, None]
    if px.ndim != 3 or px.shape[2] < 1:
        raise ValueError(f"expected (height, width, channels) pixels, not shape {px.shape}")
    if np.issubdtype(px.dtype, np.floating):
        full = 1.0
    elif np.issubdtype(px.dtype, np.unsignedinteger) or px.dtype == np.bool_:
        full = float(np.iinfo(px.dtype).max) if px.dtype != np.bool_ else 1.0
    else:
        raise TypeError(f"expected unsigned integer or float pixels, not {px.dtype}")
    is_float = np.issubdtype(px.dtype, np.floating)

    def channel(c: int) -> np.ndarray:
        values = px[:, :, c].astype(np.float32)
        if is_float:
            np.nan_to_num(values, copy=False, nan=0.0, posinf=1.0, neginf=0.0)
        return values

    if px.shape[2] >= 3:
        out = np.zeros(px.shape[:2], np.float32)
        for c, weight in enumerate(REC709):
            out += channel(c) * np.float32(weight / full)
    else:
        out = channel(0)
        if full != 1.0:
            out *= np.float32(1.0 / full)
    return out


def _downscale(lum: np.ndarray, scale: int) -> np.ndarray:
    """Block mean of ``scale`` x ``scale`` pixels (edges that do not fill a block dropped).

    Summed as ``scale`` strided slices across, then down (faster than a reshaped mean).
    """
    if scale <= 1:
        return lum
    h, w = lum.shape[0] // scale, lum.shape[1] // scale
    across = lum[:h * scale, 0:w * scale:scale].copy()
    for k in range(1, scale):
        across += lum[:h * scale, k:w * scale:scale]
    out = across[0::scale].copy()
    for k in range(1, scale):
        out += across[k::scale]
    out *= np.float32(1.0 / scale**2)
    return out


def _sample(values: np.ndarray, most: int = 1 << 18) -> np.ndarray:
    """At most about `most` of `values` (every k-th row and column), enough for a median."""
    if values.size <= most:
        return values
    step = math.ceil(math.sqrt(values.size / most))
    return values[::step, ::step] if values.ndim == 2 else values.ravel()[::step * step]


def _robust_spread(values: np.ndarray) -> tuple[float, float]:
    """Median, and median absolute deviation x 1.4826 (the standard deviation for Gaussian
    values)."""
    values = values.ravel()
    if values.size == 0:
        return 0.0, 0.0
    centre = np.median(values)
    return float(centre), float(np.median(np.abs(values - centre)) * 1.4826)


# ----------------------------------------------------------------------------- one frame


def _noise(lum: np.ndarray) -> float:
    """Robust sigma of the full-resolution residual of the separable second difference.

    The kernel ``[1, -2, 1]`` across times ``[1, -2, 1]`` down removes anything that varies
    along one axis only and any plane; for white noise of sigma s the residual has sigma 6 s,
    so the MAD estimate is divided by 6.
    """
    if lum.shape[0] < 3 or lum.shape[1] < 3:
        return 0.0
    across = lum[:, :-2] + lum[:, 2:] - 2.0 * lum[:, 1:-1]
    residual = across[:-2] + across[2:] - 2.0 * across[1:-1]
    return _robust_spread(_sample(residual))[1] / 6.0


def _sharpness(small: np.ndarray, scale: int) -> float:
    """Mean gradient magnitude (forward differences) of the downscaled luma, per source px."""
    if small.shape[0] < 2 or small.shape[1] < 2:
        return 0.0
    gx = np.diff(small, axis=1)[:-1, :]
    gy = np.diff(small, axis=0)[:, :-1]
    return float(np.mean(np.sqrt(gx * gx + gy * gy))) / max(scale, 1)


def _scratch(lum: np.ndarray, noise: float) -> float:
    """Thin vertical line score 0..1 (see :data:`METRICS`)."""
    reach = SCRATCH_REACH
    if lum.shape[1] < 2 * reach + 3 or lum.shape[0] < 1:
        return 0.0
    threshold = np.float32(max(SCRATCH_CONTRAST, SCRATCH_SIGMAS * noise))
    centre = lum[:, reach:-reach]
    left, right = lum[:, :-2 * reach], lum[:, 2 * reach:]
    score = 0.0
    for outer, sign in ((np.maximum(left, right), 1.0), (np.minimum(left, right), -1.0)):
        stands_out = (centre - outer) > threshold if sign > 0 else (outer - centre) > threshold
        fraction = np.count_nonzero(stands_out, axis=0) / stands_out.shape[0]
        score = max(score, float(fraction.max() - np.median(fraction)))
    return min(max(score, 0.0), 1.0)


def _tile_energy(values: np.ndarray, tiles: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of squares of ``values`` over a ``tiles`` x ``tiles`` grid (fewer tiles where the
    picture is too small), and the number of pixels in each tile (both float64)."""
    rows = np.unique(np.linspace(0, values.shape[0], tiles + 1).astype(int))
    cols = np.unique(np.linspace(0, values.shape[1], tiles + 1).astype(int))
    per_row = np.stack([np.einsum("ij,ij->i", values[:, c0:c1], values[:, c0:c1])
                        for c0, c1 in zip(cols[:-1], cols[1:], strict=True)], axis=1)
    energy = np.add.reduceat(per_row.astype(np.float64), rows[:-1], axis=0)
    counts = np.outer(np.diff(rows), np.diff(cols)).astype(np.float64)
    return energy, counts


def _combing(lum: np.ndarray, noise: float) -> float:
    """Interlace combing ratio (see :data:`METRICS`)."""
    if lum.shape[0] < 5 or lum.shape[1] < 1:
        return 0.0
    core = lum[2:-2]
    inter = lum[1:-3] + lum[3:-1]  # core against the other field's lines above and below
    inter *= np.float32(-0.5)
    inter += core
    e_inter, counts = _tile_energy(inter, COMBING_TILES)
    del inter
    intra = lum[:-4] + lum[4:]  # core against this field's lines two above and two below
    intra *= np.float32(-0.5)
    intra += core
    e_intra, _ = _tile_energy(intra, COMBING_TILES)
    # white noise of sigma s gives 1.5 s^2 a pixel in each; the floor keeps flat tiles quiet
    floor = counts * (1.5 * max(noise, COMBING_NOISE_FLOOR) ** 2)
    ratio = np.maximum(e_inter - floor, 0.0) / (np.maximum(e_intra - floor, 0.0) + floor)
    return float(ratio.max())


def _histogram(small: np.ndarray) -> np.ndarray:
    """Luma histogram, :data:`HISTOGRAM_BINS` bins over 0..1 (outside values clipped), as
    fractions of the picture (float64)."""
    bins = np.clip((small * HISTOGRAM_BINS).astype(np.int64), 0, HISTOGRAM_BINS - 1)
    counts = np.bincount(bins.ravel(), minlength=HISTOGRAM_BINS).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


@dataclass(frozen=True)
class _Measured:
    """What one frame leaves for its neighbours: the downscaled luma and its own numbers."""

    small: np.ndarray
    scale: int
    histogram: np.ndarray
    mean: float
    low: float
    high: float
    noise: float
    sharpness: float
    scratch: float
    combing: float


def _measure(pixels: np.ndarray, scale: int) -> _Measured:
    """Everything about one frame that needs no neighbour."""
    if scale < 1:
        raise ValueError(f"scale must be 1 or more, not {scale}")
    lum = luma(pixels)
    if lum.size == 0:
        raise ValueError("empty frame")
    scale = max(1, min(scale, lum.shape[0], lum.shape[1]))
    small = _downscale(lum, scale)
    noise = _noise(lum)
    low, high = np.percentile(small, (0.1, 99.9))
    return _Measured(
        small=small, scale=scale, histogram=_histogram(small), mean=float(small.mean()),
        low=float(low), high=float(high), noise=noise, sharpness=_sharpness(small, scale),
        scratch=_scratch(lum, noise), combing=_combing(lum, noise),
    )


# ----------------------------------------------------------------------------- neighbours


def _same_size(a: _Measured | None, b: _Measured) -> _Measured | None:
    """`a` when its picture can be compared with `b`'s, else None (with a warning)."""
    if a is None:
        return None
    if a.small.shape != b.small.shape or a.scale != b.scale:
        log.warning("frames of different sizes (%s, %s): not compared pixel by pixel",
                    "x".join(map(str, a.small.shape)), "x".join(map(str, b.small.shape)))
        return None
    return a


def _cut(prev: _Measured, cur: _Measured) -> float:
    """1 - Pearson correlation of the two histograms, clipped to 0..1."""
    a = prev.histogram - prev.histogram.mean()
    b = cur.histogram - cur.histogram.mean()
    denominator = math.sqrt(float(a @ a) * float(b @ b))
    if denominator == 0.0:  # a flat histogram: alike only when identical
        return 0.0 if np.array_equal(prev.histogram, cur.histogram) else 1.0
    return min(max(1.0 - float(a @ b) / denominator, 0.0), 1.0)


def _spread(values: np.ndarray, reach: int, pick: np.ufunc) -> np.ndarray:
    """Maximum (``np.maximum``) or minimum (``np.minimum``) over a square of side
    ``2 reach + 1`` around each pixel (edges repeated), separably down then across."""
    out = values
    for _ in range(2):  # down, then across on the transposed picture
        n = out.shape[0]
        padded = np.pad(out, [(reach, reach), (0, 0)], mode="edge")
        result = padded[:n].copy()
        for k in range(1, 2 * reach + 1):
            pick(result, padded[k:k + n], out=result)
        out = result.T
    return np.ascontiguousarray(out)


def _count_blobs(mask: np.ndarray, max_area: int) -> int:
    """Number of 8-connected blobs of ``mask`` with at most `max_area` pixels.

    Vectorised union-find over the set pixels: labels are lowered along the edges between
    neighbours and compressed by pointer jumping until no edge joins two labels.
    """
    ys, xs = np.nonzero(mask)
    n = ys.size
    if n == 0:
        return 0
    index = np.full((mask.shape[0] + 2, mask.shape[1] + 2), -1, np.int64)
    index[ys + 1, xs + 1] = np.arange(n)
    heads, tails = [], []
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each 8-neighbour pair once
        other = index[ys + 1 + dy, xs + 1 + dx]
        keep = other >= 0
        heads.append(np.nonzero(keep)[0])
        tails.append(other[keep])
    a, b = np.concatenate(heads), np.concatenate(tails)
    labels = np.arange(n)
    while a.size:
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        for side in (a, b):
            np.minimum.at(new, side, low)
            np.minimum.at(new, labels[side], low)  # hook the old label too
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            break
        labels = new
    areas = np.bincount(labels, minlength=n)
    return int(np.count_nonzero((areas > 0) & (areas <= max_area)))


def _dust(prev: _Measured, cur: _Measured, nxt: _Measured) -> int:
    """Count of small blobs brighter (or darker) than both neighbours: specks in `cur` only.

    Each neighbour is first matched to `cur`'s overall brightness (its median difference is
    added), so flicker is not taken for dust. A pixel is a candidate when it is above the
    largest value of both neighbours within :data:`DUST_REACH` blocks (or below the smallest),
    which tolerates slow motion and gate weave, by more than ``max(DUST_CONTRAST,
    DUST_SIGMAS x sigma)`` where sigma is the robust spread of the frame differences.
    """
    c = cur.small
    d_prev, d_next = c - prev.small, c - nxt.small
    shift_prev, sigma_prev = _robust_spread(_sample(d_prev, 1 << 16))
    shift_next, sigma_next = _robust_spread(_sample(d_next, 1 << 16))
    sigma = max(sigma_prev, sigma_next)
    threshold = max(DUST_CONTRAST, DUST_SIGMAS * sigma)
    p = prev.small + np.float32(shift_prev)
    q = nxt.small + np.float32(shift_next)
    above = np.maximum(_spread(p, DUST_REACH, np.maximum), _spread(q, DUST_REACH, np.maximum))
    below = np.minimum(_spread(p, DUST_REACH, np.minimum), _spread(q, DUST_REACH, np.minimum))
    bright = c > above + np.float32(threshold)
    dark = c < below - np.float32(threshold)
    candidates = int(np.count_nonzero(bright)) + int(np.count_nonzero(dark))
    if candidates > DUST_MAX_FRACTION * c.size:
        log.debug("%d of %d blocks differ from both neighbours: a change, not dust",
                  candidates, c.size)
        return 0
    max_area = max(1, (DUST_MAX_SIDE // cur.scale) ** 2)
    return _count_blobs(bright, max_area) + _count_blobs(dark, max_area)


def _row(prev: _Measured | None, cur: _Measured, nxt: _Measured | None) -> np.ndarray:
    """One row of :data:`METRICS` for `cur` between its neighbours (None where missing)."""
    row = np.zeros(len(METRICS), np.float64)
    row[_COL["mean_luma"]] = cur.mean
    row[_COL["min_luma"]] = cur.low
    row[_COL["max_luma"]] = cur.high
    row[_COL["noise"]] = cur.noise
    row[_COL["sharpness"]] = cur.sharpness
    row[_COL["scratch"]] = cur.scratch
    row[_COL["combing"]] = cur.combing
    around = [m.mean for m in (prev, nxt) if m is not None]
    row[_COL["flicker"]] = cur.mean - sum(around) / len(around) if around else 0.0
    row[_COL["cut"]] = _cut(prev, cur) if prev is not None else 0.0
    comparable_prev, comparable_next = _same_size(prev, cur), _same_size(nxt, cur)
    if comparable_prev is not None:
        row[_COL["difference"]] = float(np.mean(np.abs(cur.small - comparable_prev.small)))
    else:
        row[_COL["difference"]] = 1.0
    if comparable_prev is not None and comparable_next is not None:
        row[_COL["dust"]] = _dust(comparable_prev, cur, comparable_next)
    black = _is_black(cur.mean, cur.low, cur.high, DEFAULT_THRESHOLDS)
    row[_COL["black"]] = float(black)
    row[_COL["duplicate"]] = float(
        not black and row[_COL["difference"]] < DEFAULT_THRESHOLDS["duplicate_difference"])
    return row


def _is_black(mean: Any, low: Any, high: Any, thresholds: Mapping[str, float]) -> Any:
    """Black: dark (mean below ``black_luma``) and featureless (spread below
    ``black_spread``). Works on floats or arrays."""
    return (np.asarray(mean) < thresholds["black_luma"]) & (
        (np.asarray(high) - np.asarray(low)) < thresholds["black_spread"])


def frame_metrics(prev: np.ndarray | None, cur: np.ndarray, nxt: np.ndarray | None, *,
                  scale: int = 4) -> dict[str, float]:
    """The :data:`METRICS` of one frame between its neighbours.

    Parameters
    ----------
    prev, nxt : numpy.ndarray or None
        The previous and next frames in the same convention as `cur`, or None at the ends of
        a sequence (flicker then uses the one neighbour; cut, difference and duplicate need
        `prev`; dust needs both).
    cur : numpy.ndarray
        The frame: ``(height, width, channels)`` uint16 full range or float32, RGB(A) or grey
        (see :func:`luma`).
    scale : int
        Block size of the downscaled luma (source pixels a side, >= 1). Noise, scratch and
        combing are measured at full resolution whatever the scale.

    Returns
    -------
    dict
        Metric name -> value (float), for every name in :data:`METRICS`; units and ranges as
        documented there.
    """
    measured = [None if f is None else _measure(f, scale) for f in (prev, cur, nxt)]
    row = _row(measured[0], measured[1], measured[2])  # type: ignore[arg-type]
    return {name: float(row[i]) for i, name in enumerate(METRICS)}


# ----------------------------------------------------------------------------- sequences


@dataclass
class AnalysisResult:
    """The per-frame metrics of a sequence.

    Attributes
    ----------
    frames : numpy.ndarray
        int64 ``(n,)``: frame numbers, in the order analysed.
    metrics : numpy.ndarray
        float32 ``(n, len(METRICS))``: one row a frame, columns as :data:`METRICS`.
    """

    frames: np.ndarray
    metrics: np.ndarray

    def __post_init__(self) -> None:
        self.frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        metrics = np.asarray(self.metrics, dtype=np.float32)
        if metrics.size == 0:
            metrics = metrics.reshape(0, len(METRICS))
        if metrics.shape != (self.frames.size, len(METRICS)):
            raise ValueError(f"metrics of shape {metrics.shape} for {self.frames.size} frames "
                             f"and {len(METRICS)} metrics")
        self.metrics = metrics

    def __len__(self) -> int:
        return int(self.frames.size)

    def column(self, name: str) -> np.ndarray:
        """One metric for every frame: float32 ``(n,)`` (a view), units as :data:`METRICS`.

        Raises
        ------
        KeyError
            `name` is not one of :data:`METRICS`.
        """
        if name not in _COL:
            raise KeyError(f"no metric {name!r}; expected one of {', '.join(METRICS)}")
        return self.metrics[:, _COL[name]]

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict a frame: ``{"frame": int, <metric>: float, ...}`` in :data:`METRICS`
        order (dust, black and duplicate as they are stored, whole-number floats)."""
        return [{"frame": int(f), **{name: float(v) for name, v in zip(METRICS, row, strict=True)}}
                for f, row in zip(self.frames, self.metrics, strict=True)]


def analyze_frames(frames: Iterable[tuple[int, np.ndarray]], *, scale: int = 4) -> AnalysisResult:
    """Analyse a sequence frame by frame with a three-frame window.

    Parameters
    ----------
    frames : iterable of (int, numpy.ndarray)
        Frame number and pixels (see :func:`luma` for the convention), in playing order. Read
        one at a time: each frame is measured as it arrives and only its downscaled luma is
        kept until its next neighbour has been seen.
    scale : int
        Block size of the downscaled luma (see :func:`frame_metrics`).

    Returns
    -------
    AnalysisResult
        One row of :data:`METRICS` a frame.
    """
    numbers: list[int] = []
    rows: list[np.ndarray] = []
    prev: _Measured | None = None
    cur: _Measured | None = None
    for number, pixels in frames:
        arriving = _measure(pixels, scale)
        del pixels
        if cur is not None:
            rows.append(_row(prev, cur, arriving))
        prev, cur = cur, arriving
        numbers.append(int(number))
    if cur is not None:
        rows.append(_row(prev, cur, None))
    metrics = np.array(rows, np.float32) if rows else np.zeros((0, len(METRICS)), np.float32)
    log.debug("analysed %d frames", len(numbers))
    return AnalysisResult(np.array(numbers, np.int64), metrics)


def analyze_sequence(paths: list[tuple[int, Path]], read: Callable[[Path], Any] | None = None,
                     on_progress: Callable[[int, int], None] | None = None, *,
                     scale: int = 4) -> AnalysisResult:
    """Read and analyse a sequence of frame files.

    Parameters
    ----------
    paths : list of (int, Path)
        Frame number and file, in playing order.
    read : callable, optional
        ``read(path)`` returning a :class:`restoration.io.Frame` (its ``.pixels`` are used) or
        a pixel array; :func:`restoration.io.read_frame` by default.
    on_progress : callable, optional
        ``on_progress(done, total)`` after each frame has been read and measured (and once
        more with ``done == total`` at the end).
    scale : int
        Block size of the downscaled luma (see :func:`frame_metrics`).

    Returns
    -------
    AnalysisResult
        One row a frame. Only one frame's pixels are held at a time, plus the downscaled luma
        of at most three frames.

    Raises
    ------
    restoration.io.FrameReadError
        A frame could not be read (from the default reader).
    """
    if read is None:
        from restoration.io import read_frame as read
    total = len(paths)

    def pixels() -> Iterator[tuple[int, np.ndarray]]:
        for done, (number, path) in enumerate(paths):
            if done and on_progress is not None:
                on_progress(done, total)
            got = read(Path(path))
            array = getattr(got, "pixels", got)
            del got
            yield number, array
            del array  # measured by now: do not hold it while the next one is read
        if on_progress is not None:
            on_progress(total, total)

    result = analyze_frames(pixels(), scale=scale)
    log.info("analysed %d frames of %s", len(result),
             Path(paths[0][1]).parent if paths else "an empty sequence")
    return result


# ----------------------------------------------------------------------------- storage


def save_metrics(result: AnalysisResult, path: Path) -> None:
    """Store `result` compactly: a compressed ``.npz`` (no pickled objects).

    The file holds ``frames`` (int64), ``metrics`` (float32, n x columns), ``names`` (the
    column names, unicode) and ``format`` (layout version). It is written under a temporary
    name beside `path`, synced, then renamed into place, so a reader never sees half a file.

    Parameters
    ----------
    result : AnalysisResult
    path : Path
        Target file (any name; ``.npz`` is not appended).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, frames=result.frames, metrics=result.metrics,
                                names=np.array(METRICS), format=np.array(_FILE_FORMAT))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.debug("%s: metrics of %d frames, %d bytes", path, len(result), path.stat().st_size)


def load_metrics(path: Path) -> AnalysisResult:
    """Read a file written by :func:`save_metrics`.

    Columns are matched by name: a metric the file lacks comes back as NaN, a column the
    current :data:`METRICS` lack is dropped (both with a warning).

    Raises
    ------
    ValueError
        The file is not a metrics file (missing arrays or mismatched shapes).
    """
    with np.load(Path(path), allow_pickle=False) as data:
        missing = {"frames", "metrics", "names"} - set(data.files)
        if missing:
            raise ValueError(f"{path}: not a metrics file (no {', '.join(sorted(missing))})")
        frames, stored, names = data["frames"], data["metrics"], [str(n) for n in data["names"]]
    if stored.ndim != 2 or stored.shape[1] != len(names):
        raise ValueError(f"{path}: {stored.shape} metrics for {len(names)} names")
    if tuple(names) == METRICS:
        return AnalysisResult(frames, stored)
    log.warning("%s: columns %s differ from %s; matched by name", path, names, METRICS)
    metrics = np.full((stored.shape[0], len(METRICS)), np.nan, np.float32)
    for i, name in enumerate(names):
        if name in _COL:
            metrics[:, _COL[name]] = stored[:, i]
    return AnalysisResult(frames, metrics)


# ----------------------------------------------------------------------------- report


def _ranges(frames: Iterable[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    parts: list[str] = []
    run: list[int] = []
    for f in sorted(frames):
        if run and f == run[-1] + 1:
            run.append(f)
            continue
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [f]
    if run:
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ", ".join(parts)


def _sentence(count: int, one: str, many: str, frames: list[int]) -> str:
    if not count:
        return f"No {many}."
    return f"{count} {one if count == 1 else many}: {'frame' if count == 1 else 'frames'} " \
           f"{_ranges(frames)}."


def defect_report(result: AnalysisResult, *,
                  thresholds: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Sum up a reel's metrics as lists of frames to look at.

    Parameters
    ----------
    result : AnalysisResult
        The reel's per-frame metrics.
    thresholds : mapping, optional
        Overrides for :data:`DEFAULT_THRESHOLDS` (same keys): ``black_luma`` (0.1),
        ``black_spread`` (0.1), ``duplicate_difference`` (0.0005 luma), ``cut`` (0.5),
        ``dust_count`` (1 speck), ``dust_top`` (20 frames), ``scratch`` (0.3), ``flicker``
        (0.02 luma), ``combing`` (1.5). Black and duplicate are decided again from the
        stored mean, spread and difference, so these thresholds apply.

    Returns
    -------
    dict
        ``frames`` (count); ``black``, ``duplicates``, ``cuts``, ``scratch_frames``,
        ``combing_frames`` (frame numbers, ascending); ``dust_frames`` (frame numbers, most
        specks first, at most ``dust_top``); ``flicker``: ``{"max": largest abs(flicker) in
        luma away from cuts and black frames, "frames": frames over the threshold}``;
        ``summary``: sentences for people.

    Raises
    ------
    KeyError
        A threshold name that is not one of :data:`DEFAULT_THRESHOLDS`.
    """
    t = dict(DEFAULT_THRESHOLDS)
    for key, value in (thresholds or {}).items():
        if key not in t:
            raise KeyError(f"no threshold {key!r}; expected one of {', '.join(t)}")
        t[key] = value
    frames = result.frames
    n = len(result)
    col = result.column
    black = _is_black(col("mean_luma"), col("min_luma"), col("max_luma"), t)
    has_prev = np.arange(n) > 0
    duplicate = has_prev & ~black & (col("difference") < t["duplicate_difference"])
    cut = has_prev & (col("cut") > t["cut"])
    dust = col("dust")
    dusty = np.nonzero(dust >= max(t["dust_count"], 1))[0]
    dusty = dusty[np.argsort(-dust[dusty], kind="stable")][: int(t["dust_top"])]
    scratch = col("scratch") > t["scratch"]
    combing = col("combing") > t["combing"]
    # flicker compares a frame with its neighbours: not meaningful across a cut or beside black
    next_cut = np.zeros(n, bool)
    next_cut[:-1] = cut[1:]
    near_black = black.copy()
    near_black[1:] |= black[:-1]
    near_black[:-1] |= black[1:]
    unsettled = cut | next_cut | near_black
    flicker = np.abs(col("flicker"))
    steady = ~unsettled
    flicker_max = float(flicker[steady].max()) if steady.any() else 0.0
    flickering = steady & (flicker > t["flicker"])

    def listed(mask: np.ndarray) -> list[int]:
        return [int(f) for f in frames[mask]]

    report: dict[str, Any] = {
        "frames": n,
        "black": listed(black),
        "duplicates": listed(duplicate),
        "cuts": listed(cut),
        "dust_frames": [int(frames[i]) for i in dusty],
        "scratch_frames": listed(scratch),
        "flicker": {"max": round(flicker_max, 4), "frames": listed(flickering)},
        "combing_frames": listed(combing),
    }
    summary = [f"{n} frame{'s' if n != 1 else ''} analysed."]
    summary.append(_sentence(len(report["black"]), "black frame", "black frames",
                             report["black"]))
    summary.append(_sentence(len(report["duplicates"]), "duplicate frame", "duplicate frames",
                             report["duplicates"]))
    summary.append(_sentence(len(report["cuts"]), "scene cut", "scene cuts", report["cuts"]))
    if len(dusty):
        worst = ", ".join(f"{int(frames[i])} ({int(dust[i])})" for i in dusty[:5])
        summary.append(f"Dust or dirt in {int(np.count_nonzero(dust >= max(t['dust_count'], 1)))}"
                       f" frames; most specks in frame (count) {worst}.")
    else:
        summary.append("No dust or dirt found.")
    summary.append(_sentence(len(report["scratch_frames"]), "frame with a vertical scratch",
                             "frames with vertical scratches", report["scratch_frames"]))
    if report["flicker"]["frames"]:
        summary.append(f"Flicker over {t['flicker']:g} luma in "
                       f"{len(report['flicker']['frames'])} frames (largest "
                       f"{flicker_max:.3f}): frames {_ranges(report['flicker']['frames'])}.")
    else:
        summary.append(f"No flicker over {t['flicker']:g} luma (largest {flicker_max:.3f}).")
    summary.append(_sentence(len(report["combing_frames"]), "frame with interlace combing",
                             "frames with interlace combing", report["combing_frames"]))
    report["summary"] = summary
    return report
