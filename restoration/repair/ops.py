"""Classical repair operations over a window of frames: dust, scratch, denoise, deflicker,
deinterlace.

Each operation is a function of a *window* of frames around a target frame and of named
parameters, each with a unit, a range and a default (:class:`Param`), so every operation runs
with no parameters at all. :data:`OPS` describes them (name, frames of context needed on each
side, parameters); :func:`check_step` validates a recipe step and fills in the defaults;
:func:`apply_op` runs one operation on one target frame.

Frames follow the project's in-memory convention: ``(height, width, channels)`` uint16 at full
range (a code ``v`` means ``v / 65535``), channels RGB, RGBA, grey or grey + alpha. Other
unsigned integer types are read at their own full range and float frames as stored (clipped to
0..1). Every operation returns uint16 of the target's shape. An alpha channel (the last of two
or four) is passed through untouched. Decisions (what is dirt, what moves, what is combed) are
taken on the luma (Rec. 709 weights for RGB, the grey channel as it is), in *luma units* where
1.0 is full scale; the repair itself is applied to every colour channel.

Pixels an operation does not decide to change keep their exact input codes (dust, scratch and
adaptive deinterlace change only what they detect).

None of these operations invents detail (``Op.invents_detail`` is False): every output pixel is
an average or interpolation of input pixels, or the input under a gain.

Nothing here imports Django or anything beyond numpy.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_REC709 = (0.2126, 0.7152, 0.0722)
_FULL = 65535.0
#: more than this fraction of the picture flagged as dirt means a change (a cut), not dirt
DUST_MAX_FRACTION = 0.25
#: the gain of deflicker is kept within these bounds (a black or blown frame is not "flicker")
DEFLICKER_GAIN_LIMITS = (0.25, 4.0)
#: most pixels used to measure a frame-wide statistic (median shift, mean, standard deviation)
_SAMPLE = 1 << 18


class RecipeError(ValueError):
    """A recipe step names an unknown operation or parameter, or a value out of range; the
    message names the operation and parameter and says what was expected."""


@dataclass(frozen=True)
class Param:
    """One named parameter of an operation.

    ``low``/``high``/``default`` are numbers in ``unit``. ``integer`` parameters take whole
    numbers only. ``choices``, when given, names the values of an integer code (``choices[i]``
    is code ``i``); the names are accepted in place of the codes.
    """

    name: str
    unit: str
    low: float
    high: float
    default: float
    help: str
    integer: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Op:
    """A repair operation: ``fn(window, index, **params) -> uint16 frame``.

    ``context`` is the number of frames needed on each side of the target (the window holds at
    most ``2 context + 1`` frames, fewer at the ends of a sequence).
    """

    name: str
    context: int
    params: tuple[Param, ...]
    invents_detail: bool
    fn: Callable[..., np.ndarray]
    help: str = ""


# ----------------------------------------------------------------------------- helpers


def _to_float(frame: np.ndarray) -> np.ndarray:
    """float32 ``(H, W, C)`` in 0..1 from any supported frame."""
    px = np.asarray(frame)
    if np.issubdtype(px.dtype, np.floating):
        out = np.nan_to_num(px.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        return np.clip(out, 0.0, 1.0)
    if np.issubdtype(px.dtype, np.unsignedinteger):
        return px.astype(np.float32) * np.float32(1.0 / np.iinfo(px.dtype).max)
    raise TypeError(f"expected unsigned integer or float pixels, not {px.dtype}")


def _to_uint16(values: np.ndarray) -> np.ndarray:
    """uint16 codes ``round(clip(v, 0, 1) * 65535)``."""
    return np.rint(np.clip(values, 0.0, 1.0) * np.float32(_FULL)).astype(np.uint16)


def _as_uint16(frame: np.ndarray) -> np.ndarray:
    """The frame itself as uint16 codes (a copy)."""
    px = np.asarray(frame)
    return px.copy() if px.dtype == np.uint16 else _to_uint16(_to_float(px))


def _colour_channels(channels: int) -> int:
    """Number of colour channels (an alpha channel, the last of 2 or 4, excluded)."""
    return channels - 1 if channels in (2, 4) else channels


def _colour(frame: np.ndarray) -> np.ndarray:
    """float32 colour channels (alpha dropped) of a frame, 0..1."""
    return _to_float(frame[:, :, :_colour_channels(frame.shape[2])])


def _luma(colour: np.ndarray) -> np.ndarray:
    """float32 ``(H, W)`` luma of float colour channels (Rec. 709 for 3+, grey otherwise)."""
    if colour.shape[2] >= 3:
        out = colour[:, :, 0] * np.float32(_REC709[0])
        out += colour[:, :, 1] * np.float32(_REC709[1])
        out += colour[:, :, 2] * np.float32(_REC709[2])
        return out
    return colour[:, :, 0].copy()


def _result(target: np.ndarray, colour: np.ndarray, mask: np.ndarray | None = None
            ) -> np.ndarray:
    """uint16 frame: `target`'s codes with its colour channels replaced by `colour` (where
    `mask`, ``(H, W)`` bool, is set; everywhere when None); alpha kept."""
    out = _as_uint16(target)
    n = colour.shape[2]
    new = _to_uint16(colour)
    if mask is None:
        out[:, :, :n] = new
    else:
        out[:, :, :n][mask] = new[mask]
    return out


def _sample(values: np.ndarray, most: int = _SAMPLE) -> np.ndarray:
    """At most about `most` values of a 2-D array (every k-th row and column)."""
    if values.size <= most:
        return values
    step = math.ceil(math.sqrt(values.size / most))
    return values[::step, ::step]


def _grow(mask: np.ndarray, down: int, across: int | None = None) -> np.ndarray:
    """Dilate a bool mask by a ``(2 down + 1) x (2 across + 1)`` rectangle."""
    across = down if across is None else across
    out = mask
    for axis, reach in ((0, down), (1, across)):
        if reach <= 0:
            continue
        grown = out.copy()
        n = out.shape[axis]
        for k in range(1, reach + 1):
            if k >= n:
                break
            if axis == 0:
                grown[k:] |= out[:-k]
                grown[:-k] |= out[k:]
            else:
                grown[:, k:] |= out[:, :-k]
                grown[:, :-k] |= out[:, k:]
        out = grown
    return out


def _box(values: np.ndarray, k: int) -> np.ndarray:
    """``k x k`` mean (`k` odd, edges repeated) of a 2-D array, by running sums."""
    r = k // 2
    out = values.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r + 1, r)
        c = np.cumsum(np.pad(out, pad, mode="edge"), axis=axis)
        n = values.shape[axis]
        out = (np.take(c, np.arange(k, k + n), axis=axis)
               - np.take(c, np.arange(0, n), axis=axis)) / k
    return out.astype(np.float32)


def _shifted(values: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``values`` moved so that ``out[y, x] = values[y + dy, x + dx]``, edges repeated."""
    h, w = values.shape[:2]
    ys = np.clip(np.arange(h) + dy, 0, h - 1)
    xs = np.clip(np.arange(w) + dx, 0, w - 1)
    return values[ys][:, xs]


def _box3(values: np.ndarray) -> np.ndarray:
    """3 x 3 mean (edges repeated) of a 2-D or 3-D array over its first two axes."""
    padded = np.pad(values, [(1, 1), (1, 1)] + [(0, 0)] * (values.ndim - 2), mode="edge")
    h, w = values.shape[:2]
    rows = padded[0:h] + padded[1:h + 1] + padded[2:h + 2]
    out = rows[:, 0:w] + rows[:, 1:w + 1] + rows[:, 2:w + 2]
    out *= np.float32(1.0 / 9.0)
    return out


# ----------------------------------------------------------------------------- motion

#: motion is first measured on luma box-averaged down to at most this many pixels across
_MOTION_SIZE = 512
#: the sub-pixel refinement at full resolution uses a centred crop at most this many px across
_REFINE_SIZE = 1024
#: largest motion between two frames looked for, as a fraction of the frame's height and width
_MOTION_REACH = 0.25


def _reduce(values: np.ndarray, factor: int) -> np.ndarray:
    """Box mean of a 2-D array over ``factor x factor`` cells (a ragged edge dropped)."""
    if factor <= 1:
        return values
    h, w = (values.shape[0] // factor) * factor, (values.shape[1] // factor) * factor
    cells = values[:h, :w].reshape(h // factor, factor, w // factor, factor)
    return cells.mean(axis=(1, 3), dtype=np.float32)


def _cubic(frac: float) -> np.ndarray:
    """Keys cubic (a = -0.5) weights of the samples at offsets -1, 0, 1, 2 for a position
    `frac` (0..1) past sample 0."""
    t = float(frac)
    return np.array([((-0.5 * t + 1.0) * t - 0.5) * t,
                     (1.5 * t - 2.5) * t * t + 1.0,
                     ((-1.5 * t + 2.0) * t + 0.5) * t,
                     (0.5 * t - 0.5) * t * t], np.float32)


def _shift_axis(values: np.ndarray, d: float, axis: int) -> np.ndarray:
    """``out[i] = values[i + d]`` along `axis` (Keys cubic between samples, edges repeated)."""
    n = values.shape[axis]
    base = math.floor(d)
    frac = d - base
    idx = np.arange(n) + base
    if frac < 1e-4 or frac > 1 - 1e-4:
        return np.take(values, np.clip(idx + round(frac), 0, n - 1), axis=axis)
    weights = _cubic(frac)
    out = np.take(values, np.clip(idx - 1, 0, n - 1), axis=axis) * weights[0]
    for k in (1, 2, 3):
        out += np.take(values, np.clip(idx + k - 1, 0, n - 1), axis=axis) * weights[k]
    return out


def _warp(values: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """``out[y, x] = values[y + dy, x + dx]`` (sub-pixel, Keys cubic; edges repeated) of a
    2-D or 3-D array over its first two axes."""
    return _shift_axis(_shift_axis(values, dx, 1), dy, 0)


def _inside(shape: tuple[int, ...], dy: float, dx: float) -> np.ndarray:
    """bool ``(H, W)``: pixels whose source ``(y + dy, x + dx)`` lies inside the frame with
    the interpolation's taps (one sample of margin)."""
    h, w = shape[:2]
    ys = np.arange(h) + dy
    xs = np.arange(w) + dx
    rows = (ys >= 1 - 1e-4) & (ys <= h - 2 + 1e-4)
    cols = (xs >= 1 - 1e-4) & (xs <= w - 2 + 1e-4)
    if abs(dy) < 1e-4:
        rows[:] = True
    if abs(dx) < 1e-4:
        cols[:] = True
    return rows[:, None] & cols[None, :]


def _variance_kept(dy: float, dx: float) -> float:
    """Fraction of white noise variance left after :func:`_warp` by (dy, dx): the product
    over both axes of the squared interpolation weights' sum (1.0 for whole pixels)."""
    out = 1.0
    for d in (dy, dx):
        frac = d - math.floor(d)
        if 1e-4 < frac < 1 - 1e-4:
            out *= float(np.sum(_cubic(frac) ** 2))
    return out


def _phase(a: np.ndarray, b: np.ndarray, peaks: int = 4) -> list[tuple[int, int]]:
    """Whole-pixel candidates ``(dy, dx)`` for ``b[y + dy, x + dx] ~ a[y, x]``: the highest
    `peaks` peaks (at least 5 px apart), best first, of the phase correlation (half-whitened,
    Hann-windowed) of a band of the two pictures: the 3 x 3 mean less the mean over an eighth
    of the size, so that neither a ramp or vignette fixed to the frame (which would pull the
    peak to no motion) nor the finest detail and noise lead. Looked for within
    :data:`_MOTION_REACH` of the size. A small object of strong contrast moving on its own can
    make a peak of its own: the caller tells them apart (:func:`_motion`)."""
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    k = max(5, (min(h, w) // 8) | 1)
    fa = np.fft.rfft2((_box3(a) - _box(a, k)) * win)
    fb = np.fft.rfft2((_box3(b) - _box(b, k)) * win)
    cross = fb * np.conj(fa)
    cross /= np.sqrt(np.abs(cross)) + 1e-12  # half-whitened: faint frequencies count less
    corr = np.fft.irfft2(cross, s=(h, w))
    ry, rx = max(1, int(h * _MOTION_REACH)), max(1, int(w * _MOTION_REACH))
    corr = np.fft.fftshift(corr)
    cy, cx = h // 2, w // 2
    part = corr[cy - ry:cy + ry + 1, cx - rx:cx + rx + 1].copy()
    found = []
    for _ in range(peaks):
        py, px = np.unravel_index(int(np.argmax(part)), part.shape)
        found.append((int(py - ry), int(px - rx)))
        part[max(0, py - 2):py + 3, max(0, px - 2):px + 3] = -np.inf
    return found


def _refine(a: np.ndarray, b: np.ndarray, dy: float, dx: float, most: int,
            steps: int = 4) -> tuple[float, float, float]:
    """Sub-pixel ``(dy, dx)`` by Lucas-Kanade (Gauss-Newton) steps from a start, on a centred
    crop of `a` at most `most` px across, solving for a gain between the two at the same time;
    pixels whose error is over 3 robust sigmas are left out of each step. Returns the motion and the normalised correlation of `a` with the moved `b` over the
    crop."""
    h, w = a.shape
    ch, cw = min(h, most), min(w, most)
    m = 3
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    ncc = 0.0
    gain = None
    for _ in range(steps):
        iy, ix = math.floor(dy), math.floor(dx)
        # the part of b that the crop maps onto, with a margin for the taps and gradients
        sy0, sx0 = y0 + iy - m, x0 + ix - m
        src = b[max(sy0, 0):max(sy0 + ch + 2 * m + 1, 0), max(sx0, 0):max(sx0 + cw + 2 * m + 1, 0)]
        if src.shape[0] < ch + 2 * m + 1 or src.shape[1] < cw + 2 * m + 1:
            src = np.pad(src, ((max(-sy0, 0), ch + 2 * m + 1 - src.shape[0] - max(-sy0, 0)),
                               (max(-sx0, 0), cw + 2 * m + 1 - src.shape[1] - max(-sx0, 0))),
                         mode="edge") if src.size else np.zeros((ch + 2 * m + 1,
                                                                 cw + 2 * m + 1), np.float32)
        moved = _warp(src, dy - iy, dx - ix)
        core = moved[m:m + ch, m:m + cw]
        gy = (moved[m + 1:m + ch + 1, m:m + cw] - moved[m - 1:m + ch - 1, m:m + cw]) * 0.5
        gx = (moved[m:m + ch, m + 1:m + cw + 1] - moved[m:m + ch, m - 1:m + cw - 1]) * 0.5
        ref = a[y0:y0 + ch, x0:x0 + cw]
        inside = _inside((h, w), dy, dx)[y0:y0 + ch, x0:x0 + cw]
        if inside.sum() < 64:
            return dy, dx, 0.0
        mean_core = float(core[inside].mean())
        if gain is None:
            gain = float(ref[inside].mean()) / mean_core if mean_core > 1e-6 else 1.0
        c = core[inside]
        err = ref[inside] - gain * c
        gy, gx = gy[inside] * gain, gx[inside] * gain
        rc, cc = ref[inside] - ref[inside].mean(), c - mean_core
        denom = float(np.sqrt(np.dot(rc, rc) * np.dot(cc, cc)))
        ncc = float(np.dot(rc, cc)) / denom if denom > 0 else 0.0
        # robust: pixels that fit far worse than most (an object moving on its own, dirt)
        # do not steer the camera's motion
        spread = 1.4826 * float(np.median(np.abs(err)))
        fit = np.abs(err) <= max(3.0 * spread, 1e-5)
        if np.count_nonzero(fit) >= 64:
            c, err, gy, gx = c[fit], err[fit], gy[fit], gx[fit]
        # the motion and the brightness (gain) together: a shift along a ramp and a change of
        # exposure look alike, and only the two solved at once tell them apart
        cols = (gy, gx, c)
        g = np.array([[np.dot(p, q) for q in cols] for p in cols], np.float64)
        r = np.array([np.dot(p, err) for p in cols], np.float64)
        try:
            uy, ux, ug = np.linalg.solve(g, r)
        except np.linalg.LinAlgError:
            break
        if not (math.isfinite(uy) and math.isfinite(ux) and math.isfinite(ug)):
            break
        uy, ux = float(np.clip(uy, -1.0, 1.0)), float(np.clip(ux, -1.0, 1.0))
        dy, dx, gain = dy + uy, dx + ux, gain + float(ug)
        if abs(uy) < 0.005 and abs(ux) < 0.005:
            break
    return dy, dx, ncc


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation of two equal-shape arrays (sampled); 0 if either is flat."""
    x = _sample(a).astype(np.float64).ravel()
    y = _sample(b).astype(np.float64).ravel()
    x, y = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(np.dot(x, x)) * float(np.dot(y, y)))
    return float(np.dot(x, y)) / denom if denom > 0 else 0.0


@dataclass(frozen=True)
class _Motion:
    """A global translation: ``frame[y + dy, x + dx]`` shows what the target shows at
    ``(y, x)``; `ncc` is the normalised correlation of the two after the move (1 = same)."""

    dy: float
    dx: float
    ncc: float


def _motion(ref: np.ndarray, lum: np.ndarray) -> _Motion:
    """The global translation of `lum` onto `ref` (2-D luma, full resolution).

    Candidates by phase correlation on luma box-averaged to at most half of
    :data:`_MOTION_SIZE` px across (coarse enough that fine repetitive detail does not alias),
    each refined there; the one after which the two pictures correlate best is kept (the
    picture as a whole, not a small object moving on its own); then sub-pixel Gauss-Newton steps at :data:`_MOTION_SIZE`, and (for a frame
    larger than that) a few more at full resolution on a centred crop of at most
    :data:`_REFINE_SIZE` px. Accurate to a few hundredths of a pixel on a textured picture.
    Where the move correlates no better than no move at all (a picture without detail along
    the motion, such as a plain ramp), there is no move.
    """
    factor = max(1, math.ceil(max(ref.shape) / _MOTION_SIZE))
    a, b = _reduce(ref, factor), _reduce(lum, factor)
    # whole pixels at half that size, where fine repetitive detail cannot alias
    half = 2 if min(a.shape) >= 64 else 1
    a2, b2 = _reduce(a, half), _reduce(b, half)
    # each candidate refined; the one that makes the two pictures most alike is the camera's
    tries = [_refine(a2, b2, float(iy), float(ix), _MOTION_SIZE) for iy, ix in _phase(a2, b2)]
    dy, dx, _ = max(tries, key=lambda r: r[2])
    dy, dx, ncc = _refine(a, b, dy * half, dx * half, _MOTION_SIZE)
    still = _correlation(a, b)
    if still >= ncc - 1e-6:  # no better than standing still (a picture without detail)
        dy, dx, ncc = 0.0, 0.0, still
    if factor > 1:
        dy, dx, ncc = _refine(ref, lum, dy * factor, dx * factor, _REFINE_SIZE, steps=3)
    return _Motion(dy, dx, ncc)


def _reliable(motion: _Motion, ref: np.ndarray) -> bool:
    """Whether a neighbour moved by `motion` shows the target's picture: correlated (0.5 or
    better), or the picture is so flat (luma standard deviation under 0.02) that any
    alignment serves."""
    return motion.ncc >= 0.5 or float(_sample(ref).std()) < 0.02


def _noise_sigma(diff: np.ndarray, valid: np.ndarray, kept: float) -> float:
    """Robust per-pixel noise sigma (luma units) of one frame from the difference of two
    aligned frames of equal noise, one of them moved with `kept` of its variance left."""
    values = _sample(np.where(valid, diff, np.nan))
    values = values[np.isfinite(values)]
    if values.size < 16:
        return 0.0
    mad = float(np.median(np.abs(values - np.median(values))))
    return 1.4826 * mad / math.sqrt(1.0 + kept)


# ----------------------------------------------------------------------------- aligned


@dataclass(frozen=True)
class _Aligned:
    """A neighbour moved onto the target (:func:`_aligned`)."""

    colour: np.ndarray  # float32 (H, W, C), 0..1
    luma: np.ndarray  # float32 (H, W)
    valid: np.ndarray  # bool (H, W): the moved picture came from inside the neighbour
    kept: float  # fraction of the neighbour's noise variance the move kept
    motion: _Motion


def _aligned(ref_luma: np.ndarray, frame: np.ndarray) -> _Aligned | None:
    """`frame` moved onto the target whose luma is `ref_luma` (global translation,
    :func:`_motion`); None when the two do not show the same picture (a cut)."""
    colour = _colour(frame)
    motion = _motion(ref_luma, _luma(colour))
    if not _reliable(motion, ref_luma):
        log.debug("neighbour left out: correlation %.2f after the move", motion.ncc)
        return None
    moved = _warp(colour, motion.dy, motion.dx)
    return _Aligned(moved, _luma(moved), _inside(ref_luma.shape, motion.dy, motion.dx),
                    _variance_kept(motion.dy, motion.dx), motion)


def _median_offset(diff: np.ndarray, valid: np.ndarray) -> np.float32:
    """Median of `diff` over `valid` pixels (sampled); 0 when none."""
    values = _sample(np.where(valid, diff, np.nan))
    values = values[np.isfinite(values)]
    return np.float32(np.median(values)) if values.size else np.float32(0.0)


# ----------------------------------------------------------------------------- dust


def _dust(window: list[np.ndarray], index: int, *, threshold: float, grow: int) -> np.ndarray:
    """Remove dust and dirt specks present in the target frame only, motion-compensated.

    Two neighbours are used: the frames before and after, or at the ends of a sequence the
    next two (previous two) frames. Each is moved onto the target (global translation measured
    by phase correlation and refined to sub-pixel, :func:`_motion`; Keys cubic
    interpolation), so a camera pan, tilt or gate weave lines the neighbours up with the
    target, and matched to its brightness (the median luma difference is added, so flicker is
    not taken for dirt). A neighbour that does not show the target's picture after the move
    (a cut) stops the repair of that frame.

    A pixel is dirt when its luma differs from both moved neighbours in the same direction by
    more than ``t = max(threshold, 3 sigma)`` (sigma: the frame's noise, measured from its
    difference with a neighbour) while the neighbours agree with each other: their difference,
    averaged over 3 x 3 pixels, is within ``t / 2``. Where they disagree something moves
    independently of the camera, and it is left alone; so is a pixel whose neighbours' pixels
    come from outside their frames. The mask is dilated by `grow` pixels (only onto pixels
    where the neighbours agree within `t`) and filled with the mean of the two moved
    neighbours (each colour channel shifted by its median difference). A frame where more than
    :data:`DUST_MAX_FRACTION` of the picture is flagged (a change of picture, not dirt), or with
    fewer than two neighbours, is returned unchanged.

    Limitation: the motion is the camera's (one translation for the whole picture). The part
    of an object moving on its own that neither neighbour covers after the move -- all of it
    when it moves more than half its size in a frame against the camera -- looks like dirt to
    a three-frame detector and may be removed.
    """
    target = window[index]
    n = len(window)
    if n < 3:
        return _as_uint16(target)
    if 0 < index < n - 1:
        pair = (index - 1, index + 1)
    elif index == 0:
        pair = (1, 2)
    else:
        pair = (n - 2, n - 3)
    cur = _colour(target)
    lc = _luma(cur)
    p, q = (_aligned(lc, window[i]) for i in pair)
    if p is None or q is None:
        return _as_uint16(target)
    valid = p.valid & q.valid
    lp = p.luma + _median_offset(lc - p.luma, valid)
    lq = q.luma + _median_offset(lc - q.luma, valid)
    dp, dq = lc - lp, lc - lq
    sigma = _noise_sigma(dp, valid, p.kept)
    t = np.float32(max(threshold, 3.0 * sigma))
    spread = np.abs(_box3(lp - lq))
    mask = ((dp > t) & (dq > t)) | ((dp < -t) & (dq < -t))
    mask &= spread < t * np.float32(0.5)
    mask &= valid
    flagged = int(np.count_nonzero(mask))
    if flagged == 0:
        return _as_uint16(target)
    if flagged > DUST_MAX_FRACTION * mask.size:
        log.debug("dust: %d of %d pixels differ from both neighbours: a change, not dust",
                  flagged, mask.size)
        return _as_uint16(target)
    if grow > 0:
        mask = _grow(mask, grow) & (spread < t) & valid
    fill = p.colour + q.colour
    fill *= np.float32(0.5)
    for c in range(fill.shape[2]):
        fill[:, :, c] += _median_offset(cur[:, :, c] - fill[:, :, c], valid)
    log.debug("dust: %d pixels filled from the neighbours (threshold %.4f, motion %s %s)",
              int(np.count_nonzero(mask)), float(t), p.motion, q.motion)
    return _result(target, fill, mask)


# ----------------------------------------------------------------------------- scratch


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` index of each run of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0] - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _line_profile(lum: np.ndarray, reach: int) -> np.ndarray:
    """Per column, the median over rows (at most 1024, evenly spaced) of each row's luma less
    its running median over ``2 reach + 1`` columns (float32 ``(W,)``, luma units)."""
    h, w = lum.shape
    rows = lum[::max(1, h // 1024)]
    high_rows = np.empty_like(rows)
    for r0 in range(0, rows.shape[0], 128):  # bounded memory on 4K frames
        part = rows[r0:r0 + 128]
        padded = np.pad(part, ((0, 0), (reach, reach)), mode="edge")
        around = np.median(np.stack([padded[:, k:k + w] for k in range(2 * reach + 1)]),
                           axis=0)
        high_rows[r0:r0 + 128] = part - around
    return np.median(high_rows, axis=0)


def _scratch(window: list[np.ndarray], index: int, *, strength: float,
             max_width: int) -> np.ndarray:
    """Remove thin vertical lines (scratches along the film) up to `max_width` pixels wide.

    Detection (:func:`_line_profile`): each row's luma (at most 1024 rows) less its running
    median over ``2 max_width + 3`` columns is the row's high-pass: it passes lines up to
    `max_width` wide and removes steps and broad features. The column profile is the median
    of the rows' high-pass in each column, so a column scores only where more than half of
    the rows show a thin line there: a line along the film, not the edge of an object that
    covers part of the height. A line is a run of at most `max_width` columns whose profile is
    of one sign and larger than `strength` (and than 5 robust sigmas of the profile over the
    whole frame).

    With neighbouring frames (up to two each side), each is moved onto the target (global
    translation, :func:`_motion`). A scratch stays where it is on the film while the camera
    moves; a line of the picture moves with it. So when a neighbour moved sideways by more than
    the line's width still shows the line in the same place, the line is picture, and it is
    kept. A
    line's columns, widened by one each side for soft edges, are replaced by the mean of the
    moved neighbours that show no line there (each colour channel matched by its median
    difference); without such a neighbour (a still camera, the ends of a sequence), in every
    row by the linear interpolation between the pixels two columns outside it (one side only
    at the frame's edge).
    """
    target = window[index]
    colour = _colour(target)
    lum = _luma(colour)
    h, w = lum.shape
    reach = max_width + 1
    if w < 2 * reach + 3:
        return _as_uint16(target)
    high = _line_profile(lum, reach)
    centre = np.median(high)
    sigma = float(np.median(np.abs(high - centre))) * 1.4826
    threshold = max(strength, 5.0 * sigma)
    lines = [(first, last, sign) for sign in (1.0, -1.0)
             for first, last in _runs(sign * high > threshold)
             if last - first + 1 <= max_width]
    if not lines:
        return _as_uint16(target)
    neighbours = []  # (moved neighbour, its line profile in the target's place)
    for k in range(len(window)):
        if k != index:
            nb = _aligned(lum, window[k])
            if nb is not None:
                neighbours.append((nb, _line_profile(nb.luma, reach)))
    out = colour.copy()
    mask_cols = np.zeros(w, bool)
    for first, last, sign in lines:
        a, b = first - 1, last + 1  # replaced columns, soft edges included
        cols = np.arange(max(a, 0), min(b, w - 1) + 1)
        moved = [(nb, prof) for nb, prof in neighbours
                 if abs(nb.motion.dx) >= last - first + 2]
        if any(sign * float(prof[first:last + 1].mean()) > 0.5 * threshold
               for _, prof in moved):
            log.debug("scratch: columns %d-%d move with the picture: kept", first, last)
            continue
        clean = [nb for nb, prof in moved
                 if np.all(np.abs(prof[cols]) < 0.5 * threshold) and nb.valid[:, cols].all()]
        if clean:  # brightness matched over the whole picture, not the line's columns
            out[:, cols] = np.mean([
                nb.colour[:, cols] + np.array(
                    [_median_offset(colour[:, :, c] - nb.colour[:, :, c], nb.valid)
                     for c in range(colour.shape[2])], np.float32)
                for nb in clean], axis=0)
        else:
            left, right = a - 1, b + 1  # anchors
            if left < 0 and right > w - 1:
                continue
            if left < 0:
                out[:, cols] = colour[:, right:right + 1]
            elif right > w - 1:
                out[:, cols] = colour[:, left:left + 1]
            else:
                frac = ((cols - left) / (right - left)).astype(np.float32)[None, :, None]
                out[:, cols] = (colour[:, left:left + 1] * (np.float32(1) - frac)
                                + colour[:, right:right + 1] * frac)
        mask_cols[cols] = True
        log.debug("scratch: columns %d-%d repaired (contrast %.4f, %s)", first, last,
                  float(high[first:last + 1].mean()),
                  f"from {len(clean)} neighbour(s)" if clean else "interpolated")
    if not mask_cols.any():
        return _as_uint16(target)
    mask = np.broadcast_to(mask_cols[None, :], (h, w))
    return _result(target, out, mask)


# ----------------------------------------------------------------------------- denoise


def _shifted_weights(lum: np.ndarray, reach: int, h: np.ndarray):
    """Yield ``(dy, dx, weight)`` for each offset within `reach` (centre included, weight 1):
    ``exp(-(difference / h)^2 / 2)`` of the luma at the offset against the centre's."""
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if dy == 0 and dx == 0:
                yield 0, 0, np.ones(lum.shape, np.float32)
                continue
            z = (_shifted(lum, dy, dx) - lum) / h
            yield dy, dx, np.exp(np.float32(-0.5) * z * z)


def _denoise(window: list[np.ndarray], index: int, *, strength: float, threshold: float,
             grain: float, radius: int) -> np.ndarray:
    """Motion-compensated temporal-spatial averaging that keeps grain.

    Temporal: each frame within `radius` of the target is moved onto it (global translation,
    :func:`_motion`, as for dust; a neighbour that does not show the same picture is left
    out) and matched to its brightness per colour channel (median difference). The noise sigma
    of the target is measured from its difference with the nearest moved neighbour. Each
    neighbour pixel is averaged with the target's with weight ``clip(2 - |d| / tau, 0, 1)``,
    where ``d`` is their luma difference averaged over 3 x 3 pixels and
    ``tau = min(threshold / 2, 3 sigma_d)`` (``sigma_d`` the noise of ``d``): a neighbour that
    agrees within the noise counts fully, one that differs by `threshold` or more (something
    moves, or is dirt) not at all.

    Spatial: a 3 x 3 bilateral filter on that mean, its range ``2 sigma_t`` with ``sigma_t``
    the noise left in the mean at each pixel (from the weights), at most `threshold`: edges
    and texture above the noise stay.

    With the removed residual ``R = input - estimate`` the output is
    ``input - strength * (R - grain * (R - box3(R)))``: `grain` puts back that fraction of the
    residual's finest (3 x 3 high-pass) part, the grain, while the blotchy low-frequency part
    of the noise stays removed.
    """
    target = window[index]
    if strength <= 0.0:
        return _as_uint16(target)
    cur = _colour(target)
    lc = _luma(cur)
    n = len(window)
    order = sorted((k for k in range(max(0, index - radius), min(n, index + radius + 1))
                    if k != index), key=lambda k: (abs(k - index), k))
    total = cur.copy()
    wsum = np.ones(lc.shape, np.float32)
    wvar = np.ones(lc.shape, np.float32)  # sum of w^2 * (variance kept), target's 1 included
    sigma = None
    for k in order:
        nb = _aligned(lc, window[k])
        if nb is None:
            continue
        offsets = [_median_offset(cur[:, :, c] - nb.colour[:, :, c], nb.valid)
                   for c in range(cur.shape[2])]
        moved = nb.colour + np.array(offsets, np.float32)
        lum = _luma(moved)
        if sigma is None:
            sigma = _noise_sigma(lc - lum, nb.valid, nb.kept)
        d = np.abs(_box3(lc - lum))
        sigma_d = sigma * math.sqrt((1.0 + nb.kept) / 9.0)
        tau = np.float32(max(min(threshold / 2.0, 3.0 * sigma_d), 1e-4))
        w = np.clip(np.float32(2.0) - d / tau, 0.0, 1.0)
        w *= nb.valid
        total += moved * w[:, :, None]
        wsum += w
        wvar += w * w * np.float32(nb.kept)
        del moved, lum, d
    temporal = total / wsum[:, :, None]
    del total
    if sigma is None:  # no neighbour: the noise from the frame alone (3 x 3 high-pass)
        sigma = _noise_sigma(lc - _box3(lc), np.ones(lc.shape, bool), 1.0 / 9.0) * 1.06
    sigma_t = np.float32(sigma) * np.sqrt(wvar) / wsum
    h = np.clip(np.float32(2.0) * sigma_t, np.float32(1e-4), np.float32(threshold))
    lt = _luma(temporal)
    acc = np.zeros_like(temporal)
    weight = np.zeros(lc.shape, np.float32)
    for dy, dx, w in _shifted_weights(lt, 1, h):
        acc += _shifted(temporal, dy, dx) * w[:, :, None]
        weight += w
    estimate = acc / weight[:, :, None]
    residual = cur - estimate
    removed = residual - np.float32(grain) * (residual - _box3(residual))
    out = cur - np.float32(strength) * removed
    log.debug("denoise: noise sigma %.4f (luma), %d neighbour(s)", sigma, len(order))
    return _result(target, out)


# ----------------------------------------------------------------------------- deflicker

#: deflicker compares frames on luma reduced to at most this many pixels across, in blocks of
#: this many pixels a side
_DEFLICKER_BLOCK = 4


def _exposure(ref: np.ndarray, lum: np.ndarray) -> tuple[float, float] | None:
    """How `ref` (the target's reduced luma) relates to another frame's reduced luma `lum`:
    ``(gain, offset)`` with ``ref ~ gain * lum + offset`` over the picture they share after
    moving `lum` onto `ref` (:func:`_motion`), compared in 4 x 4-pixel block means. The gain
    is the median ratio of the blocks (offset 0) -- a robust ratio that the content and a
    camera move do not bias; None when the frames do not show the same picture."""
    shared = _shared_blocks(ref, lum)
    if shared is None:
        return None
    a, b, full = shared
    use = full & (a > 0.02) & (b > 0.02)
    if np.count_nonzero(use) < 16:
        return None
    ratio = np.log(a[use]) - np.log(b[use])
    return float(np.exp(np.median(ratio))), 0.0


def _shared_blocks(ref: np.ndarray, lum: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """`ref` and `lum` moved onto it, in 4 x 4-pixel block means, and which blocks lie wholly
    inside the picture both show; None when the motion between them is not reliable."""
    motion = _motion(ref, lum)
    if not _reliable(motion, ref):
        return None
    moved = _warp(lum, motion.dy, motion.dx)
    inside = _inside(ref.shape, motion.dy, motion.dx).astype(np.float32)
    cell = _DEFLICKER_BLOCK
    return _reduce(ref, cell), _reduce(moved, cell), _reduce(inside, cell) > 0.999


def _exposure_linear(ref: np.ndarray, lum: np.ndarray) -> tuple[float, float] | None:
    """As :func:`_exposure`, with a gain and an offset that match the standard deviation and
    the mean of the shared picture (blocks whose ratio is an outlier left out)."""
    shared = _shared_blocks(ref, lum)
    if shared is None:
        return None
    a, b, use = shared
    if np.count_nonzero(use) < 16:
        return None
    a, b = a[use].astype(np.float64), b[use].astype(np.float64)
    diff = a - b
    mad = np.median(np.abs(diff - np.median(diff))) * 1.4826
    keep = np.abs(diff - np.median(diff)) <= max(3.0 * mad, 1e-6)
    a, b = a[keep], b[keep]
    if b.std() < 1e-6:
        return 1.0, float(a.mean() - b.mean())
    gain = float(a.std() / b.std())
    return gain, float(a.mean() - gain * b.mean())


def _deflicker(window: list[np.ndarray], index: int, *, radius: int, strength: float,
               match_std: int) -> np.ndarray:
    """Match the frame's luma to a temporal reference: the mean exposure of its neighbours.

    Each frame within `radius` of the target (fewer at the ends of a sequence) is compared
    with the target on the picture they share: it is moved onto the target (global
    translation, :func:`_motion`, on luma reduced to at most 512 px across) and the target's
    exposure relative to it is the median ratio of their 4 x 4 block means (with `match_std`:
    a gain and offset matching the blocks' standard deviation and mean). So a pan, or an object
    entering the picture, is not taken for flicker, as a comparison of whole-frame means
    would. A frame that does not show the target's picture (a cut) is left out.

    The target is mapped to the weighted mean of what each frame's exposure would make of it
    (the frames at the ends of the window at half weight: the trapezoid rule, which cancels a
    flicker alternating from frame to frame exactly, whatever the window's length); blended
    with the identity by `strength`, applied to every colour channel. The gain is kept within
    :data:`DEFLICKER_GAIN_LIMITS`; a frame with mean luma under 1e-4 is left unchanged.
    """
    target = window[index]
    lo, hi = max(0, index - radius), min(len(window) - 1, index + radius)
    if strength <= 0.0 or hi == lo:
        return _as_uint16(target)
    colour = _colour(target)
    full = _luma(colour)
    factor = max(1, math.ceil(max(full.shape) / _MOTION_SIZE))
    ref = _reduce(full, factor)
    if float(ref.mean()) < 1e-4:
        return _as_uint16(target)
    relate = _exposure_linear if match_std else _exposure
    gain_sum = offset_sum = weight_sum = 0.0
    for k in range(lo, hi + 1):
        w = 0.5 if k in (lo, hi) else 1.0
        if k == index:
            rel: tuple[float, float] | None = (1.0, 0.0)
        else:
            rel = relate(ref, _reduce(_luma(_colour(window[k])), factor))
        if rel is None or rel[0] <= 1e-6:
            continue
        # frame k's exposure applied to the target's picture: (target - offset) / gain
        gain_sum += w / rel[0]
        offset_sum -= w * rel[1] / rel[0]
        weight_sum += w
    gain, offset = gain_sum / weight_sum, offset_sum / weight_sum
    low, high = DEFLICKER_GAIN_LIMITS
    gain = min(max(gain, low), high)
    gain = 1.0 + strength * (gain - 1.0)
    offset *= strength
    log.debug("deflicker: gain %.5f offset %.5f from %.1f frame(s) of weight", gain, offset,
              weight_sum)
    colour *= np.float32(gain)
    colour += np.float32(offset)
    return _result(target, colour)


# ----------------------------------------------------------------------------- deinterlace


def _comb_mask(lum: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels in combed areas (bool ``(H, W)``).

    A pixel is combed when it differs from the mean of the lines above and below (the other
    field) by more than `threshold` and by more than twice its difference from the mean of the
    lines two above and two below (its own field), in three consecutive lines (a single thin
    horizontal line is not combing). The mask is grown by 2 pixels each way.
    """
    up1, down1 = _shifted(lum, -1, 0), _shifted(lum, 1, 0)
    up2, down2 = _shifted(lum, -2, 0), _shifted(lum, 2, 0)
    inter = np.abs(lum - np.float32(0.5) * (up1 + down1))
    intra = np.abs(lum - np.float32(0.5) * (up2 + down2))
    flags = (inter > np.float32(threshold)) & (inter > np.float32(2.0) * intra)
    core = flags.copy()
    core[1:] &= flags[:-1]
    core[:-1] &= flags[1:]
    core[0] = core[-1] = False
    return _grow(core, 2, 2)


def _deinterlace(window: list[np.ndarray], index: int, *, mode: int, adaptive: int,
                 threshold: float) -> np.ndarray:
    """Remove interlace combing.

    `mode` 0 (``"blend"``): every line becomes ``(above + 2 x line + below) / 4``, which
    cancels the line-to-line alternation of two woven fields. `mode` 1 (``"bob"``): the top
    field (lines 0, 2, 4, ...) is kept and each line of the other field is the mean of the
    lines above and below. With `adaptive` 1 only combed areas (:func:`_comb_mask`) are
    changed, so a progressive frame comes back unchanged; with 0 the whole frame is.
    """
    target = window[index]
    colour = _colour(target)
    h = colour.shape[0]
    if h < 3:
        return _as_uint16(target)
    mask = None
    if adaptive:
        mask = _comb_mask(_luma(colour), threshold)
        if not mask.any():
            return _as_uint16(target)
    up, down = _shifted(colour, -1, 0), _shifted(colour, 1, 0)
    if mode == 0:
        out = (up + np.float32(2.0) * colour + down) * np.float32(0.25)
    else:
        out = colour.copy()
        between = (up + down) * np.float32(0.5)
        out[1::2] = between[1::2]
        if h % 2 == 0:  # the last line (bottom field) has no line below: take the one above
            out[-1] = colour[-2]
    if mask is not None:
        log.debug("deinterlace: %d combed pixels", int(np.count_nonzero(mask)))
    return _result(target, out, mask)


# ----------------------------------------------------------------------------- registry


OPS: dict[str, Op] = {
    "dust": Op("dust", 2, (
        Param("threshold", "luma (0-1)", 0.01, 0.5, 0.06,
              "least difference from both neighbours for a pixel to be dirt"),
        Param("grow", "px", 0, 8, 1, "dilation of the dirt mask", integer=True),
    ), False, _dust, "temporal dust and dirt removal, filled from the neighbouring frames"),
    "scratch": Op("scratch", 2, (
        Param("strength", "luma (0-1)", 0.002, 0.5, 0.02,
              "least contrast of a line's column profile against its surroundings"),
        Param("max_width", "px", 1, 5, 3, "widest line removed", integer=True),
    ), False, _scratch, "vertical scratch removal"),
    "denoise": Op("denoise", 3, (
        Param("strength", "fraction (0-1)", 0.0, 1.0, 0.5,
              "blend from the input (0) to the temporal-spatial estimate (1)"),
        Param("threshold", "luma (0-1)", 0.005, 0.5, 0.05,
              "largest difference of a pixel that is still averaged with it"),
        Param("grain", "fraction (0-1)", 0.0, 1.0, 0.25,
              "fraction of the removed fine (grain) residual put back"),
        Param("radius", "frames", 0, 3, 2,
              "frames each side averaged after motion compensation", integer=True),
    ), False, _denoise, "motion-compensated temporal-spatial denoise that keeps grain"),
    "deflicker": Op("deflicker", 10, (
        Param("radius", "frames", 1, 10, 5, "temporal reference: frames each side",
              integer=True),
        Param("strength", "fraction (0-1)", 0.0, 1.0, 1.0, "how much of the correction"),
        Param("match_std", "flag (0/1)", 0, 1, 0,
              "also match the luma standard deviation (gain and offset)", integer=True),
    ), False, _deflicker, "luma matched to a temporal reference"),
    "deinterlace": Op("deinterlace", 0, (
        Param("mode", "code (0=blend, 1=bob)", 0, 1, 0,
              "blend the fields, or keep the top field and interpolate the other",
              integer=True, choices=("blend", "bob")),
        Param("adaptive", "flag (0/1)", 0, 1, 1, "only where combing is detected",
              integer=True),
        Param("threshold", "luma (0-1)", 0.005, 0.5, 0.03,
              "least line-to-line difference taken as combing"),
    ), False, _deinterlace, "deinterlace (video sources)"),
}


def _value(op: str, param: Param, value: Any) -> float | int:
    """One checked parameter value (int for integer parameters)."""
    expected = (f"{op}: {param.name} expects a number in {param.unit}, "
                f"{param.low:g}-{param.high:g}")
    if param.choices:
        expected += f" or one of {', '.join(repr(c) for c in param.choices)}"
        if isinstance(value, str):
            if value not in param.choices:
                raise RecipeError(f"{expected}; got {value!r}")
            return param.choices.index(value)
    if isinstance(value, bool):
        if not (param.integer and param.low == 0 and param.high == 1):
            raise RecipeError(f"{expected}; got {value!r}")
        value = int(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise RecipeError(f"{expected}; got {value!r}")
    if param.integer and value != int(value):
        raise RecipeError(f"{expected} (a whole number); got {value!r}")
    if not param.low <= value <= param.high:
        raise RecipeError(f"{expected}; got {value!r}")
    return int(value) if param.integer else float(value)


def check_step(step: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one recipe step and fill in the defaults.

    Parameters
    ----------
    step : mapping
        ``{"op": NAME, PARAM: VALUE, ...}``; every parameter is optional.

    Returns
    -------
    dict
        Every parameter of the operation (without ``"op"``): float, or int for integer
        parameters (a named choice such as ``mode="bob"`` becomes its code).

    Raises
    ------
    RecipeError
        Unknown operation or parameter, or a value of the wrong kind or out of range.
    """
    if not isinstance(step, Mapping) or "op" not in step:
        raise RecipeError(f"expected a step {{\"op\": NAME, ...}}, got {step!r}")
    name = step["op"]
    if not isinstance(name, str) or name not in OPS:
        raise RecipeError(f"unknown op {name!r}; known: {', '.join(OPS)}")
    op = OPS[name]
    known = {p.name: p for p in op.params}
    unknown = sorted(str(k) for k in step if k != "op" and k not in known)
    if unknown:
        raise RecipeError(f"{name}: unknown parameter(s) {', '.join(unknown)}; known: "
                          f"{', '.join(known) or 'none'}")
    out: dict[str, Any] = {}
    for p in op.params:
        out[p.name] = _value(name, p, step[p.name]) if p.name in step else (
            int(p.default) if p.integer else float(p.default))
    return out


def apply_op(name: str, window: list[np.ndarray], index: int, **params: Any) -> np.ndarray:
    """Run operation `name` on ``window[index]``.

    Parameters
    ----------
    name : str
        A key of :data:`OPS`.
    window : list of numpy.ndarray
        The frames around the target, in order: ``(H, W, C)`` (or ``(H, W)``) uint16 at full
        range (other unsigned types at their own full range, floats as stored in 0..1). At
        most ``2 context + 1`` frames (a longer window is cut to the context around the
        target), fewer at the ends of a sequence. A neighbour of another shape is treated as
        the end of the sequence on its side.
    index : int
        Position of the target in `window`.
    **params
        The operation's parameters (see :data:`OPS`); missing ones take their defaults.

    Returns
    -------
    numpy.ndarray
        uint16, the target's shape.

    Raises
    ------
    RecipeError
        Unknown op or parameter, or a value out of range.
    ValueError
        An empty window, an index outside it, or a target that is not a picture.
    """
    values = check_step({"op": name, **params})
    op = OPS[name]
    if not window or not 0 <= index < len(window):
        raise ValueError(f"{name}: index {index} outside a window of {len(window)} frame(s)")
    target = np.asarray(window[index])
    flat = target.ndim == 2
    if flat:
        target = target[:, :, None]
    if target.ndim != 3 or target.shape[2] < 1 or 0 in target.shape:
        raise ValueError(f"{name}: expected (height, width, channels) pixels, not shape "
                         f"{np.asarray(window[index]).shape}")
    frames = []
    for i in range(len(window)):
        frame = np.asarray(window[i])
        frames.append(frame[:, :, None] if frame.ndim == 2 else frame)
    lo, hi = max(0, index - op.context), min(len(frames) - 1, index + op.context)
    first = index
    while first > lo and frames[first - 1].shape == target.shape:
        first -= 1
    last = index
    while last < hi and frames[last + 1].shape == target.shape:
        last += 1
    out = op.fn(frames[first:last + 1], index - first, **values)
    return out[:, :, 0] if flat else out


#: The recipe offered by default: deflicker first (so that the temporal steps compare frames
#: at one exposure), then dust and dirt, then scratches, then denoise; every parameter at its
#: default. Measured against ffmpeg's filters by ``benchmarks/repair_quality.py``.
DEFAULT_RECIPE: list[dict[str, Any]] = [
    {"op": "deflicker"}, {"op": "dust"}, {"op": "scratch"}, {"op": "denoise"},
]
