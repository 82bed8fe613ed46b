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


# ----------------------------------------------------------------------------- dust


def _dust(window: list[np.ndarray], index: int, *, threshold: float, grow: int) -> np.ndarray:
    """Remove dust and dirt specks present in the target frame only.

    Each neighbour is first matched to the target's overall brightness (the median luma
    difference is added; so flicker is not taken for dirt). A pixel is dirt when its luma
    differs from both neighbours in the same direction by more than `threshold` while the
    neighbours agree with each other within ``threshold / 2`` (where they disagree something
    moves, and it is left alone). The mask is dilated by `grow` pixels (only onto pixels where
    the neighbours agree within `threshold`) and filled with the mean of the two neighbours
    (each colour channel shifted by its median difference). The first and last frames of a
    sequence (one neighbour only) are returned unchanged, as is a frame where more than
    :data:`DUST_MAX_FRACTION` of the picture is flagged (a change of picture, not dirt).
    """
    target = window[index]
    if index == 0 or index == len(window) - 1:
        return _as_uint16(target)
    prev, cur, nxt = (_colour(window[i]) for i in (index - 1, index, index + 1))
    lp, lc, ln = _luma(prev), _luma(cur), _luma(nxt)
    lp += np.float32(np.median(_sample(lc - lp)))
    ln += np.float32(np.median(_sample(lc - ln)))
    t = np.float32(threshold)
    dp, dn = lc - lp, lc - ln
    spread = np.abs(lp - ln)
    agree = spread < t * np.float32(0.5)
    mask = ((dp > t) & (dn > t)) | ((dp < -t) & (dn < -t))
    mask &= agree
    flagged = int(np.count_nonzero(mask))
    if flagged == 0:
        return _as_uint16(target)
    if flagged > DUST_MAX_FRACTION * mask.size:
        log.debug("dust: %d of %d pixels differ from both neighbours: a change, not dust",
                  flagged, mask.size)
        return _as_uint16(target)
    if grow > 0:
        mask = _grow(mask, grow) & (spread < t)
    fill = prev + nxt
    fill *= np.float32(0.5)
    for c in range(fill.shape[2]):
        fill[:, :, c] += np.float32(np.median(_sample(cur[:, :, c] - fill[:, :, c])))
    log.debug("dust: %d pixels filled from the neighbours", int(np.count_nonzero(mask)))
    return _result(target, fill, mask)


# ----------------------------------------------------------------------------- scratch


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` index of each run of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0] - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _scratch(window: list[np.ndarray], index: int, *, strength: float,
             max_width: int) -> np.ndarray:
    """Remove thin vertical lines (scratches along the film) up to `max_width` pixels wide.

    The column profile is the median luma of each column (over at most 1024 rows); its
    high-pass is the profile less its running median over ``2 max_width + 3`` columns (which
    passes steps and broad features, and removes lines up to `max_width` wide). A line is a run
    of at most `max_width` columns whose high-pass is of one sign and larger than `strength`
    (and than 5 robust sigmas of the high-pass over the whole frame). Each line, widened by one
    column each side for soft edges, is replaced in every row by the linear interpolation
    between the pixels two columns outside it (one side only at the frame's edge).
    """
    target = window[index]
    colour = _colour(target)
    lum = _luma(colour)
    h, w = lum.shape
    reach = max_width + 1
    if w < 2 * reach + 3:
        return _as_uint16(target)
    rows = lum[::max(1, h // 1024)]
    profile = np.median(rows, axis=0)
    padded = np.pad(profile, reach, mode="edge")
    around = np.median(np.stack([padded[k:k + w] for k in range(2 * reach + 1)]), axis=0)
    high = profile - around
    centre = np.median(high)
    sigma = float(np.median(np.abs(high - centre))) * 1.4826
    threshold = max(strength, 5.0 * sigma)
    out = colour.copy()
    mask_cols = np.zeros(w, bool)
    for sign in (1.0, -1.0):
        for first, last in _runs(sign * high > threshold):
            if last - first + 1 > max_width:
                continue
            a, b = first - 1, last + 1  # replaced columns, soft edges included
            left, right = a - 1, b + 1  # anchors
            cols = np.arange(max(a, 0), min(b, w - 1) + 1)
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
            log.debug("scratch: columns %d-%d repaired (contrast %.4f)", first, last,
                      float(high[first:last + 1].mean()))
    if not mask_cols.any():
        return _as_uint16(target)
    mask = np.broadcast_to(mask_cols[None, :], (h, w))
    return _result(target, out, mask)


# ----------------------------------------------------------------------------- denoise


def _denoise(window: list[np.ndarray], index: int, *, strength: float, threshold: float,
             grain: float) -> np.ndarray:
    """Temporal-spatial averaging that keeps grain.

    Temporal: the mean of the target and of each neighbour pixel whose luma is within
    `threshold` of the target's (no motion compensation: where something moves the
    neighbours disagree and are left out). Spatial: a 3 x 3 sigma filter on that mean (the
    neighbours within `threshold` luma of the centre are averaged), which keeps edges. With
    the removed residual ``R = input - estimate`` the output is
    ``input - strength * (R - grain * (R - box3(R)))``: `grain` puts back that fraction of the
    residual's finest (3 x 3 high-pass) part, the grain, while the blotchy low-frequency part
    of the noise stays removed.
    """
    target = window[index]
    if strength <= 0.0:
        return _as_uint16(target)
    cur = _colour(target)
    lc = _luma(cur)
    t = np.float32(threshold)
    total = cur.copy()
    count = np.ones(lc.shape, np.float32)
    for k, frame in enumerate(window):
        if k == index:
            continue
        other = _colour(frame)
        agree = np.abs(_luma(other) - lc) < t
        total += other * agree[:, :, None]
        count += agree
    temporal = total / count[:, :, None]
    del total
    lt = _luma(temporal)
    acc = np.zeros_like(temporal)
    weight = np.zeros(lc.shape, np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near = (np.abs(_shifted(lt, dy, dx) - lt) < t).astype(np.float32)
            acc += _shifted(temporal, dy, dx) * near[:, :, None]
            weight += near
    estimate = acc / weight[:, :, None]
    residual = cur - estimate
    removed = residual - np.float32(grain) * (residual - _box3(residual))
    out = cur - np.float32(strength) * removed
    return _result(target, out)


# ----------------------------------------------------------------------------- deflicker


def _stats(frame: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of a frame's luma (sampled), luma units."""
    lum = _sample(_luma(_colour(frame)))
    return float(lum.mean(dtype=np.float64)), float(lum.std(dtype=np.float64))


def _deflicker(window: list[np.ndarray], index: int, *, radius: int, strength: float,
               match_std: int) -> np.ndarray:
    """Match the frame's mean luma (and with `match_std` its spread) to a temporal reference.

    The reference is the mean over the frames within `radius` of the target (fewer at the ends
    of a sequence) with the two end frames at half weight (the trapezoid rule, which cancels a
    flicker alternating from frame to frame exactly, whatever the window's length). The target
    gets a gain ``reference_mean / mean`` (with `match_std`: a gain
    ``reference_std / std`` and an offset that brings the mean to the reference), blended with
    the identity by `strength` and applied to every colour channel. The gain is kept within
    :data:`DEFLICKER_GAIN_LIMITS`; a frame with mean luma under 1e-4 is left unchanged.
    """
    target = window[index]
    lo, hi = max(0, index - radius), min(len(window) - 1, index + radius)
    if strength <= 0.0 or hi == lo:
        return _as_uint16(target)
    stats = [_stats(window[i]) for i in range(lo, hi + 1)]
    weights = np.ones(len(stats))
    weights[0] = weights[-1] = 0.5
    weights /= weights.sum()
    ref_mean = float(np.dot(weights, [s[0] for s in stats]))
    ref_std = float(np.dot(weights, [s[1] for s in stats]))
    mean, std = stats[index - lo]
    if mean < 1e-4:
        return _as_uint16(target)
    if match_std and std > 1e-6:
        gain = ref_std / std
        offset = ref_mean - gain * mean
    else:
        gain, offset = ref_mean / mean, 0.0
    low, high = DEFLICKER_GAIN_LIMITS
    gain = min(max(gain, low), high)
    gain = 1.0 + strength * (gain - 1.0)
    offset *= strength
    log.debug("deflicker: mean %.5f reference %.5f gain %.5f offset %.5f", mean, ref_mean,
              gain, offset)
    colour = _colour(target)
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
    "dust": Op("dust", 1, (
        Param("threshold", "luma (0-1)", 0.01, 0.5, 0.06,
              "least difference from both neighbours for a pixel to be dirt"),
        Param("grow", "px", 0, 8, 1, "dilation of the dirt mask", integer=True),
    ), False, _dust, "temporal dust and dirt removal, filled from the neighbouring frames"),
    "scratch": Op("scratch", 0, (
        Param("strength", "luma (0-1)", 0.002, 0.5, 0.02,
              "least contrast of a line's column profile against its surroundings"),
        Param("max_width", "px", 1, 5, 3, "widest line removed", integer=True),
    ), False, _scratch, "vertical scratch removal"),
    "denoise": Op("denoise", 1, (
        Param("strength", "fraction (0-1)", 0.0, 1.0, 0.5,
              "blend from the input (0) to the temporal-spatial estimate (1)"),
        Param("threshold", "luma (0-1)", 0.005, 0.5, 0.05,
              "largest difference of a pixel that is still averaged with it"),
        Param("grain", "fraction (0-1)", 0.0, 1.0, 0.25,
              "fraction of the removed fine (grain) residual put back"),
    ), False, _denoise, "temporal-spatial denoise that keeps grain"),
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
