"""Video scopes of a graded still: luma waveform, RGB parade, vectorscope and histogram.

A colourist judges a grade by its scopes as much as by the picture. This module draws the four
usual ones as 8-bit RGB images for the grading preview.

Frames are display-referred: the R'G'B' values are taken as already encoded for the display (no
transfer is applied), so luma and Cb/Cr are the Rec. 709 (ITU-R BT.709) Y'CbCr of the values as
given::

    Y' = 0.2126 R' + 0.7152 G' + 0.0722 B'
    Cb = (B' - Y') / 1.8556        Cr = (R' - Y') / 1.5748        (each -0.5 .. 0.5)

Input at every public function: a numpy array ``(H, W, 3)`` or ``(H, W, 4)`` in RGB(A) order,
either ``uint16`` at full range (code / 65535) or floating point with 0.0 = black and 1.0 = full
scale. Alpha is ignored. Float values outside 0..1 are clipped into the scope's range (NaN
counts as 0); :func:`range_report` counts them, and :func:`scopes` carries that count.

Counting is vectorised 2-D histograms (one ``np.bincount`` over ``row * width + column``), and
:func:`scopes` looks at every k-th row and column so that at most `max_pixels` pixels are
counted: a 2K frame's four scopes take a few tens of milliseconds on one core.

Every scope returns ``uint8 (height, width, 3)`` RGB on a black ground; a faint graticule is
drawn unless ``graticule=False``.
"""
from __future__ import annotations

import io as _io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "REC709",
    "SKIN_TONE_ANGLE",
    "VECTORSCOPE_EXTENT",
    "RangeReport",
    "ScopeImages",
    "histogram",
    "histogram_counts",
    "parade",
    "range_report",
    "scope_step",
    "scopes",
    "vectorscope",
    "waveform",
    "write_scopes",
]

#: Rec. 709 luma weights of R', G', B'.
REC709 = (0.2126, 0.7152, 0.0722)
_CB_DIVISOR = 2.0 * (1.0 - REC709[2])  # 1.8556
_CR_DIVISOR = 2.0 * (1.0 - REC709[0])  # 1.5748

#: Cb/Cr magnitude at the vectorscope's edge: a point lands at column
#: ``size/2 + Cb * size / (2 * VECTORSCOPE_EXTENT)`` and row ``size/2 - Cr * size / (2 *
#: VECTORSCOPE_EXTENT)`` (floored). 0.55 leaves room for the 100% primaries (|CbCr| <= 0.513).
VECTORSCOPE_EXTENT = 0.55

#: The skin-tone ("flesh", I) line of a vectorscope, degrees anticlockwise from +Cb.
SKIN_TONE_ANGLE = 123.0

#: Graticule levels of the waveform, parade and histogram: 0, 10%, ..., 100% (IRE-like steps).
GRATICULE_LEVELS = tuple(k / 10 for k in range(11))

#: A lit bin is never dimmer than this (of full), so a single sample still shows.
_LOG_FLOOR = 0.25

_GRATICULE_GREY = (52, 52, 52)
_LUMA_TINT = (235, 235, 235)
_PARADE_TINTS = ((255, 64, 64), (64, 255, 64), (96, 128, 255))  # blue lifted to read on black
_HISTOGRAM_FILL = 215  # per primary; R + G + B overlapping add up to grey
_VECTORSCOPE_TINT = (225, 235, 225)

#: The 75% colour bars as R'G'B', in the order the vectorscope's targets are named.
BARS_75 = {
    "R": (0.75, 0.0, 0.0),
    "Mg": (0.75, 0.0, 0.75),
    "B": (0.0, 0.0, 0.75),
    "Cy": (0.0, 0.75, 0.75),
    "G": (0.0, 0.75, 0.0),
    "Yl": (0.75, 0.75, 0.0),
}


# ----------------------------------------------------------------------------- input


@dataclass(frozen=True)
class RangeReport:
    """How many float channel values fell outside 0..1 (and were clipped for the scopes).

    Attributes
    ----------
    samples : int
        Channel values looked at (``H * W * 3``; alpha is not counted).
    below : int
        Values under 0.0 (-inf included); drawn at 0.
    above : int
        Values over 1.0 (+inf included); drawn at 1.
    nan : int
        NaN values; drawn at 0.
    """

    samples: int
    below: int = 0
    above: int = 0
    nan: int = 0

    @property
    def outside(self) -> int:
        """All values that were clipped or replaced."""
        return self.below + self.above + self.nan

    @property
    def fraction(self) -> float:
        """`outside` as a fraction of `samples` (0.0 for an empty frame)."""
        return self.outside / self.samples if self.samples else 0.0


def _channels(rgb: np.ndarray) -> np.ndarray:
    """The RGB view of an ``(H, W, 3|4)`` uint16 or float frame (checked, not copied)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) or (H, W, 4) RGB(A) frame, not shape {rgb.shape}")
    if rgb.dtype != np.uint16 and not np.issubdtype(rgb.dtype, np.floating):
        raise TypeError(f"expected uint16 (full range) or float (0..1) pixels, not {rgb.dtype}")
    return rgb[:, :, :3]


def range_report(rgb: np.ndarray) -> RangeReport:
    """Count the channel values of a frame that fall outside 0..1.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3|4)`` RGB(A), uint16 full range or float 0..1; alpha ignored. uint16 frames
        are never outside.

    Returns
    -------
    RangeReport
    """
    x = _channels(rgb)
    if x.dtype == np.uint16 or x.size == 0:
        return RangeReport(samples=int(x.size))
    lo, hi = x.min(), x.max()  # NaN propagates, so a frame with NaN is counted below
    if lo >= 0.0 and hi <= 1.0:
        return RangeReport(samples=int(x.size))
    return RangeReport(samples=int(x.size), below=int(np.count_nonzero(x < 0.0)),
                       above=int(np.count_nonzero(x > 1.0)),
                       nan=int(np.count_nonzero(np.isnan(x))))


def _prepare(rgb: np.ndarray) -> np.ndarray:
    """float32 ``(3, H, W)`` planes R', G', B' in 0..1 (clipped; NaN to 0)."""
    x = _channels(rgb)
    planes = np.empty((3,) + x.shape[:2], np.float32)
    for c in range(3):
        planes[c] = x[:, :, c]
    if x.dtype == np.uint16:
        planes /= np.float32(65535.0)  # division, correctly rounded: 65535 gives exactly 1.0
    else:
        np.nan_to_num(planes, copy=False, nan=0.0, posinf=1.0, neginf=0.0)
        np.clip(planes, 0.0, 1.0, out=planes)
    return planes


def _luma(planes: np.ndarray) -> np.ndarray:
    """Rec. 709 luma (float32 ``(H, W)``, 0..1) of prepared planes."""
    y = planes[0] * np.float32(REC709[0])
    y += planes[1] * np.float32(REC709[1])
    y += planes[2] * np.float32(REC709[2])
    return np.clip(y, 0.0, 1.0, out=y)  # the weights sum to 1 within float rounding


def scope_step(height: int, width: int, max_pixels: int) -> int:
    """The stride k such that every k-th row and column of a frame is at most `max_pixels`.

    Parameters
    ----------
    height, width : int
        The frame's size in pixels.
    max_pixels : int
        The most pixels to count (>= 1).

    Returns
    -------
    int
        k >= 1; the scopes then look at ``frame[::k, ::k]``.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be at least 1, not {max_pixels}")
    k = max(1, math.ceil(math.sqrt(height * width / max_pixels)))
    while -(-height // k) * -(-width // k) > max_pixels:
        k += 1
    return k


# ----------------------------------------------------------------------------- drawing


def _level_rows(values: np.ndarray, height: int) -> np.ndarray:
    """Bin index (0 = value 0 .. height-1 = value 1) of values in 0..1; bins are 1/height wide."""
    rows = (values * np.float32(height)).astype(np.intp)
    return np.minimum(rows, height - 1, out=rows)


def _log_levels(counts: np.ndarray, most: int) -> np.ndarray:
    """Brightness 0..1 of bin counts: 0 where empty, else log-scaled from _LOG_FLOOR to 1."""
    scale = (1.0 - _LOG_FLOOR) / math.log1p(max(int(most), 1))
    level = np.log1p(counts, dtype=np.float32) * np.float32(scale) + np.float32(_LOG_FLOOR)
    level[counts == 0] = 0.0
    return level


def _tinted(level: np.ndarray, tint: tuple[int, int, int]) -> np.ndarray:
    """uint8 RGB image of a 0..1 brightness map in one colour."""
    out = level[:, :, None] * np.asarray(tint, np.float32)
    return (out + 0.5).astype(np.uint8)


def _stamp(img: np.ndarray, xs: np.ndarray, ys: np.ndarray, colour: tuple[int, int, int]) -> None:
    """Set the pixels at integer-floored positions (those inside the image) to `colour`."""
    xi = np.floor(np.asarray(xs, np.float64)).astype(np.intp)
    yi = np.floor(np.asarray(ys, np.float64)).astype(np.intp)
    inside = (xi >= 0) & (xi < img.shape[1]) & (yi >= 0) & (yi < img.shape[0])
    img[yi[inside], xi[inside]] = colour


def _level_row_index(level: float, height: int) -> int:
    """The image row (0 at the top) where a waveform draws `level` (0..1)."""
    return height - 1 - min(int(level * height), height - 1)


@lru_cache(maxsize=32)
def _waveform_graticule(width: int, height: int) -> np.ndarray:
    img = np.zeros((height, width, 3), np.uint8)
    for level in GRATICULE_LEVELS:
        img[_level_row_index(level, height)] = _GRATICULE_GREY
    img.flags.writeable = False
    return img


def _trace_counts(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """Waveform counts ``(height, width)``: column = image column binned, row 0 = value 1.

    Parameters
    ----------
    values : float32 ``(H, W)`` in 0..1.
    """
    h, w = values.shape
    across = max(1, min(width, w))  # never more bins than image columns, widened below
    columns = (np.arange(w, dtype=np.intp) * across) // max(w, 1)
    flat = _level_rows(values, height) * across + columns[None, :]
    counts = np.bincount(flat.ravel(), minlength=height * across).reshape(height, across)
    counts = counts[::-1]  # image row 0 is the top: value 1
    if across != width:
        counts = counts[:, (np.arange(width) * across) // width]
    return counts


def _waveform_image(counts: np.ndarray, most: int, tint: tuple[int, int, int],
                    graticule: bool) -> np.ndarray:
    img = _tinted(_log_levels(counts, most), tint)
    if graticule:
        np.maximum(img, _waveform_graticule(counts.shape[1], counts.shape[0]), out=img)
    return img


def _check_size(**sizes: int) -> None:
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1 pixel, not {value}")


# ----------------------------------------------------------------------------- waveform, parade


def _waveform(planes: np.ndarray, lum: np.ndarray, width: int, height: int,
              graticule: bool) -> np.ndarray:
    counts = _trace_counts(lum, width, height)
    return _waveform_image(counts, int(counts.max(initial=0)), _LUMA_TINT, graticule)


def waveform(rgb: np.ndarray, width: int = 512, height: int = 256, *,
             graticule: bool = True) -> np.ndarray:
    """Luma waveform: where each column's Rec. 709 luma lies, and how often.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3|4)`` RGB(A), uint16 full range or float 0..1 (clipped; see
        :func:`range_report`).
    width, height : int
        Scope size in pixels.
    graticule : bool
        Draw faint lines at luma 0, 0.1, ..., 1.0.

    Returns
    -------
    numpy.ndarray
        uint8 ``(height, width, 3)`` RGB. Image column c is counted in scope column
        ``c * width // W``; an image narrower than the scope is widened (scope column x shows
        image column ``x * W // width``). Image row ``height - 1 - min(floor(Y' * height), height - 1)`` shows luma
        ``Y'``: bins are ``1/height`` wide, 0 at the bottom, 1.0 in the top row. Brightness is
        the log of the count (any lit bin at least 25% of full).
    """
    _check_size(width=width, height=height)
    planes = _prepare(rgb)
    return _waveform(planes, _luma(planes), width, height, graticule)


def _panel_edges(width: int) -> list[int]:
    return [i * width // 3 for i in range(4)]


def _parade(planes: np.ndarray, width: int, height: int, graticule: bool) -> np.ndarray:
    edges = _panel_edges(width)
    counts = [_trace_counts(planes[c], max(edges[c + 1] - edges[c], 1), height)
              for c in range(3)]
    most = max(int(c.max(initial=0)) for c in counts)  # one scale, so panels compare
    img = np.zeros((height, width, 3), np.uint8)
    for c in range(3):
        if edges[c + 1] > edges[c]:
            img[:, edges[c]:edges[c + 1]] = _waveform_image(counts[c], most, _PARADE_TINTS[c],
                                                            graticule)
    return img


def parade(rgb: np.ndarray, width: int = 768, height: int = 256, *,
           graticule: bool = True) -> np.ndarray:
    """RGB parade: waveforms of R', G' and B' side by side, each tinted in its colour.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3|4)`` RGB(A), uint16 full range or float 0..1 (clipped).
    width, height : int
        Scope size in pixels (>= 3 wide). Panel i (0 = R, 1 = G, 2 = B) occupies columns
        ``i * width // 3`` up to ``(i + 1) * width // 3``.
    graticule : bool
        Draw faint lines at 0, 0.1, ..., 1.0 in each panel.

    Returns
    -------
    numpy.ndarray
        uint8 ``(height, width, 3)`` RGB; each panel is laid out like :func:`waveform` with the
        channel value in place of luma, and all three share one brightness scale.
    """
    _check_size(width=width, height=height)
    return _parade(_prepare(rgb), width, height, graticule)


# ----------------------------------------------------------------------------- vectorscope


def _cbcr(planes: np.ndarray, lum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cb = (planes[2] - lum) * np.float32(1.0 / _CB_DIVISOR)
    cr = (planes[0] - lum) * np.float32(1.0 / _CR_DIVISOR)
    return cb, cr


def _vs_position(cb, cr, size: int):
    """Continuous (x, y) of Cb/Cr on a vectorscope `size` pixels square (floor to index)."""
    half = size / 2.0
    gain = half / VECTORSCOPE_EXTENT
    return half + np.asarray(cb) * gain, half - np.asarray(cr) * gain


def _bar_cbcr(rgb: tuple[float, float, float]) -> tuple[float, float]:
    r, g, b = rgb
    y = REC709[0] * r + REC709[1] * g + REC709[2] * b
    return (b - y) / _CB_DIVISOR, (r - y) / _CR_DIVISOR


@lru_cache(maxsize=8)
def _vectorscope_graticule(size: int) -> np.ndarray:
    img = np.zeros((size, size, 3), np.uint8)
    half = size / 2.0
    steps = np.linspace(0.0, 1.0, 4 * size)
    axis = (30, 30, 30)
    _stamp(img, steps * size, np.full_like(steps, half), axis)
    _stamp(img, np.full_like(steps, half), steps * size, axis)
    angles = np.linspace(0.0, 2.0 * np.pi, 8 * size, endpoint=False)
    for radius, grey in ((0.5, _GRATICULE_GREY), (0.25, (36, 36, 36))):
        _stamp(img, *_vs_position(radius * np.cos(angles), radius * np.sin(angles), size), grey)
    skin = math.radians(SKIN_TONE_ANGLE)
    _stamp(img, *_vs_position(0.5 * steps * math.cos(skin), 0.5 * steps * math.sin(skin), size),
           (120, 92, 64))
    box = max(2, round(size / 64))
    for rgb in BARS_75.values():
        x, y = _vs_position(*_bar_cbcr(rgb), size)
        x, y = math.floor(x), math.floor(y)
        tint = tuple(int(40 + 150 * v / 0.75) for v in rgb)
        edge = np.arange(-box, box + 1)
        for dx, dy in ((edge, np.full_like(edge, -box)), (edge, np.full_like(edge, box)),
                       (np.full_like(edge, -box), edge), (np.full_like(edge, box), edge)):
            _stamp(img, x + dx, y + dy, tint)
    img.flags.writeable = False
    return img


def _vectorscope(planes: np.ndarray, lum: np.ndarray, size: int, graticule: bool) -> np.ndarray:
    cb, cr = _cbcr(planes, lum)
    x, y = _vs_position(cb, cr, size)
    xi = np.clip(x, 0, size - 1).astype(np.intp)  # x, y >= 0 inside the extent: truncation floors
    yi = np.clip(y, 0, size - 1).astype(np.intp)
    counts = np.bincount((yi * size + xi).ravel(), minlength=size * size).reshape(size, size)
    img = _tinted(_log_levels(counts, int(counts.max(initial=0))), _VECTORSCOPE_TINT)
    if graticule:
        np.maximum(img, _vectorscope_graticule(size), out=img)
    return img


def vectorscope(rgb: np.ndarray, size: int = 256, *, graticule: bool = True) -> np.ndarray:
    """Vectorscope: the frame's Rec. 709 Cb/Cr plotted on a circle.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3|4)`` RGB(A), uint16 full range or float 0..1 (clipped), taken as R'G'B'.
    size : int
        Scope size in pixels (square).
    graticule : bool
        Draw the axes, circles at |CbCr| 0.25 and 0.5, a box on each 75% colour bar (R, Mg,
        B, Cy, G, Yl; see ``BARS_75``) and the skin-tone line at ``SKIN_TONE_ANGLE`` degrees.

    Returns
    -------
    numpy.ndarray
        uint8 ``(size, size, 3)`` RGB. +Cb points right, +Cr up; a pixel's Cb/Cr lands at
        column ``floor(size/2 + Cb * size / (2 * VECTORSCOPE_EXTENT))`` and row
        ``floor(size/2 - Cr * size / (2 * VECTORSCOPE_EXTENT))``. Brightness is the log of the
        count (any lit pixel at least 25% of full).
    """
    _check_size(size=size)
    planes = _prepare(rgb)
    return _vectorscope(planes, _luma(planes), size, graticule)


# ----------------------------------------------------------------------------- histogram


#: How bar height follows a bin's count ``c`` given the largest count ``m`` (0..1).
HISTOGRAM_SCALES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "linear": lambda c, m: c.astype(np.float64) / max(m, 1),
    "log": lambda c, m: np.log1p(c.astype(np.float64)) / math.log1p(max(m, 1)),
}


def _bins(values: np.ndarray, bins: int) -> np.ndarray:
    """Histogram bin of values in 0..1: ``min(floor(v * bins), bins - 1)``."""
    return _level_rows(values, bins)


def _histogram_counts(planes: np.ndarray, lum: np.ndarray, bins: int) -> np.ndarray:
    flat = np.empty((4,) + lum.shape, np.intp)
    for i, values in enumerate((planes[0], planes[1], planes[2], lum)):
        flat[i] = _bins(values, bins) + i * bins
    return np.bincount(flat.ravel(), minlength=4 * bins).reshape(4, bins)


def histogram_counts(rgb: np.ndarray, bins: int = 256) -> np.ndarray:
    """Counts of R', G', B' and Rec. 709 luma values in equal bins over 0..1.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3|4)`` RGB(A), uint16 full range or float 0..1 (clipped).
    bins : int
        Bins over 0..1, each ``1/bins`` wide; 1.0 falls in the last.

    Returns
    -------
    numpy.ndarray
        int64 ``(4, bins)``: rows R', G', B', Y'; each row sums to ``H * W``.
    """
    _check_size(bins=bins)
    planes = _prepare(rgb)
    return _histogram_counts(planes, _luma(planes), bins)


def _histogram_image(counts: np.ndarray, width: int, height: int, scale: str,
                     graticule: bool) -> np.ndarray:
    try:
        to_level = HISTOGRAM_SCALES[scale]
    except KeyError:
        raise ValueError(f"scale must be one of {sorted(HISTOGRAM_SCALES)}, not {scale!r}") \
            from None
    bins = counts.shape[1]
    # column x shows the largest of bins [x * bins // width, (x + 1) * bins // width), or the
    # one bin under it when bins are wider than columns
    starts = (np.arange(width) * bins) // width
    per_column = np.maximum.reduceat(counts, starts, axis=1)
    most = int(per_column.max(initial=0))  # one scale for all four
    tops = height - np.rint(to_level(per_column, most) * height).astype(np.intp)  # row of bar top
    rows = np.arange(height)[:, None]
    img = np.zeros((height, width, 3), np.int32)
    if graticule:
        for level in GRATICULE_LEVELS:
            img[:, min(int(level * width), width - 1)] = _GRATICULE_GREY
    for c in range(3):
        img[:, :, c] += (rows >= tops[c][None, :]) * _HISTOGRAM_FILL
    # luma as a white outline: each column's bar top joined to its right neighbour's
    top = np.minimum(tops[3], height - 1)
    following = np.append(top[1:], top[-1])
    outline = (rows >= np.minimum(top, following)) & (rows <= np.maximum(top, following))
    outline &= tops[3][None, :] < height  # empty bins draw no outline
    img[outline] = 255
    return np.clip(img, 0, 255).astype(np.uint8)


def histogram(rgb: np.ndarray, width: int = 512, height: int = 200, bins: int = 256, *,
              scale: str = "log", graticule: bool = True) -> np.ndarray:
    """R', G', B' and luma histograms overlaid.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3|4)`` RGB(A), uint16 full range or float 0..1 (clipped).
    width, height : int
        Scope size in pixels.
    bins : int
        Bins over 0..1 (see :func:`histogram_counts`).
    scale : str
        Bar height against count, a key of ``HISTOGRAM_SCALES``: ``"log"`` (``log1p(c) /
        log1p(most)``) or ``"linear"`` (``c / most``), `most` being the largest count of any
        channel's bin.
    graticule : bool
        Draw faint vertical lines at 0, 0.1, ..., 1.0.

    Returns
    -------
    numpy.ndarray
        uint8 ``(height, width, 3)`` RGB. Value 0 is at the left, 1.0 at the right; column x
        shows bins ``x * bins // width`` onwards (their largest count). R, G and B are filled
        bars in additive colours (all three overlapping read grey); luma is a white outline.
    """
    _check_size(width=width, height=height, bins=bins)
    planes = _prepare(rgb)
    return _histogram_image(_histogram_counts(planes, _luma(planes), bins), width, height,
                            scale, graticule)


# ----------------------------------------------------------------------------- all four


class ScopeImages(dict[str, np.ndarray]):
    """The four scopes by name (``waveform``, ``parade``, ``vectorscope``, ``histogram``).

    Attributes
    ----------
    step : int
        The scopes counted every `step`-th row and column of the frame.
    out_of_range : RangeReport
        Values of the whole frame outside 0..1 (clipped for the scopes).
    """

    def __init__(self, images: dict[str, np.ndarray], *, step: int,
                 out_of_range: RangeReport) -> None:
        super().__init__(images)
        self.step = step
        self.out_of_range = out_of_range


def scopes(rgb: np.ndarray, max_pixels: int = 1_000_000) -> ScopeImages:
    """All four scopes of a frame at their default sizes, counted on a subsample.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3|4)`` RGB(A), uint16 full range or float 0..1 (clipped).
    max_pixels : int
        The most pixels counted: the scopes look at ``rgb[::k, ::k]`` with k from
        :func:`scope_step` (a 2048 x 1556 frame is read at every 2nd row and column).

    Returns
    -------
    ScopeImages
        A ``dict`` of uint8 RGB images: ``waveform`` (256 x 512), ``parade`` (256 x 768),
        ``vectorscope`` (256 x 256), ``histogram`` (200 x 512, log scale); with ``step`` and
        ``out_of_range`` (counted on the whole frame).
    """
    channels = _channels(rgb)
    report = range_report(channels)
    if report.outside:
        log.warning("scopes: %d of %d values outside 0..1 clipped (%d below, %d above, %d NaN)",
                    report.outside, report.samples, report.below, report.above, report.nan)
    step = scope_step(channels.shape[0], channels.shape[1], max_pixels)
    planes = _prepare(channels[::step, ::step])
    lum = _luma(planes)
    log.debug("scopes of %s frame: every %d row and column", channels.shape[:2], step)
    images = {
        "waveform": _waveform(planes, lum, 512, 256, True),
        "parade": _parade(planes, 768, 256, True),
        "vectorscope": _vectorscope(planes, lum, 256, True),
        "histogram": _histogram_image(_histogram_counts(planes, lum, 256), 512, 200, "log",
                                      True),
    }
    return ScopeImages(images, step=step, out_of_range=report)


def _write_png(arr: np.ndarray, path: Path) -> None:
    """Write a PNG to a temporary name beside `path`, then rename it into place."""
    from PIL import Image

    from restoration.fixity import write_atomic

    buf = _io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    write_atomic(path, buf.getvalue(), sync=False)


def write_scopes(rgb: np.ndarray, folder: Path, prefix: str, *,
                 max_pixels: int = 1_000_000) -> dict[str, Path]:
    """Compute the four scopes (:func:`scopes`) and write each as an 8-bit RGB PNG.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(H, W, 3|4)`` RGB(A), uint16 full range or float 0..1 (clipped).
    folder : Path
        Created if missing. Each file is written under a temporary name in it, then renamed
        into place, so a reader never sees half a file.
    prefix : str
        File names are ``<prefix>_<scope>.png``.
    max_pixels : int
        As for :func:`scopes`.

    Returns
    -------
    dict[str, Path]
        Scope name to the written file.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, image in scopes(rgb, max_pixels=max_pixels).items():
        path = folder / f"{prefix}_{name}.png"
        _write_png(image, path)
        written[name] = path
    return written
