"""Running a super-resolution network over whole frames: tiles, blending, batching, precision.

Frames follow the project's convention: ``uint16`` full range (0..65535) in memory, RGB,
``(N, H, W, C)``; as floats a code ``v`` is ``v / 65535`` (:func:`restoration.io.to_float`), and
results go back to 16 bits with ``round(clip(v, 0, 1) * 65535)``
(:func:`restoration.io.from_float`).

Tiling
------
A frame too large for memory is cut into *cores* of ``tile`` x ``tile`` input pixels that cover
it (evenly spaced, all the same size, so they batch). Each core is run with context around it:

* ``feather`` pixels on each side are kept from the result and cross-faded with the neighbour's
  (a linear ramp over ``2 x feather`` pixels, centred on the boundary between the cores), and
* ``overlap`` further pixels on each side are computed and thrown away, so that every pixel that
  is kept lies at least ``overlap`` input pixels inside the window the network saw.

A window never reaches past the frame: at a border it is shifted inwards (still ``tile +
2 (overlap + feather)`` pixels, or the whole frame where that is smaller), so the network pads
its own borders as it does on a whole frame (zero padding in every convolution, as it was
trained and as upstream Real-ESRGAN runs it). The frame is extended only to the network's input
multiple, by reflection at the bottom and right (as upstream does). Consequences:

* a whole frame (``tile=None``) is exactly the network applied to the frame;
* when ``overlap`` is at least the network's receptive radius (input pixels), every window
  computes every kept pixel exactly as the whole frame would: tiled equals untiled up to float
  rounding, whatever the tile size;
* when the receptive field is larger, a window's edge effects reach the kept pixels; the ramps
  fade each window out where its error is largest, so the difference is spread across the
  ``2 x feather`` band and there is no step at the seam.

Blending is separable: along each axis a window's share is its ramp divided by the sum of
the ramps there, so a pixel is ``sum of share_row * share_col * result`` over the windows that
cover it. Where one window alone covers a pixel (all but the ``2 x feather`` bands) its result
is written straight into the output, converted to uint16 on the way; only the bands are
accumulated, in float32 and in a fixed window order, so batching does not change the bytes.
On the CPU the network costs the same per pixel at any window size (measured for
SRVGGNetCompact from 96 px to a whole 720x480 frame), so a whole frame, which computes no
context twice, is the fastest choice wherever it fits in memory.

With a receptive field larger than ``overlap`` the output depends (slightly) on the tile size,
so a run chooses the tile once (:func:`choose_tile`, :func:`calibrate_tile`), records it with
``overlap``, ``feather``, ``batch`` and ``precision`` in its provenance and uses it for every
chunk; the same settings and the same chunks give the same bytes.

Inference runs under ``torch.inference_mode()`` with channels-last tensors. ``precision`` is
``"fp32"`` (default), ``"bf16"`` (autocast; the CPU fast mode) or ``"fp16"`` (autocast, CUDA
only). When torch runs out of device memory (``torch.OutOfMemoryError``, raised by CUDA) the
tile is halved and the whole call runs again at the new size; the report says the tile used.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from restoration.io import FULL_RANGE, from_float, to_float

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

__all__ = [
    "MIN_TILE",
    "PRECISIONS",
    "PrecisionDeviation",
    "UpscaleReport",
    "Window",
    "calibrate_tile",
    "choose_tile",
    "estimate_bytes_per_pixel",
    "plan_windows",
    "precision_deviation",
    "upscale_frames",
    "upscale_frames_with_report",
    "upscale_rgb",
]

PRECISIONS = ("fp32", "bf16", "fp16")
MIN_TILE = 32  # input pixels: below this the context costs more than the tile itself
TILE_STEP = 16  # chosen tiles are multiples of this (input pixels), so small changes in free
#                 memory rarely change the choice
_CPU_BUDGET_FRACTION = 0.5  # of MemAvailable: the reader and writer threads need the rest
_CUDA_BUDGET_FRACTION = 0.8  # of free device memory: cuDNN workspaces and the allocator's slack


@dataclass(frozen=True)
class Window:
    """One tile of a frame, in input pixels of the unpadded frame.

    Attributes
    ----------
    y0, x0 : top-left of the core.
    height, width : core size; the network sees ``overlap + feather`` more on each side.
    """

    y0: int
    x0: int
    height: int
    width: int


@dataclass(frozen=True)
class UpscaleReport:
    """Upscaled frames and the settings that produced them (for provenance).

    Attributes
    ----------
    pixels : ``(N, H * scale, W * scale, C)``: uint16 full range from the ``upscale_frames*``
        functions, float32 0..1 from :func:`upscale_rgb`.
    tile : core size used (input pixels), or ``None`` for whole frames. After a CUDA
        out-of-memory retry this is the smaller tile that succeeded: record it and pass it to
        every later chunk.
    overlap, feather : context and cross-fade widths used (input pixels, after rounding up to
        the network's input multiple).
    batch : windows per forward pass.
    precision : ``"fp32"``, ``"bf16"`` or ``"fp16"``.
    device : the torch device, as text (``"cpu"``, ``"cuda:0"``).
    windows_per_frame : number of tiles per frame.
    oom_retries : how many times the tile was halved after the device ran out of memory.
    seconds : wall time of the call.
    """

    pixels: np.ndarray = field(repr=False)
    tile: int | None
    overlap: int
    feather: int
    batch: int
    precision: str
    device: str
    windows_per_frame: int
    oom_retries: int = 0
    seconds: float = 0.0

    def provenance(self) -> dict[str, Any]:
        """The settings a rerun needs to reproduce these bytes, as plain JSON-ready values."""
        return {"tile": self.tile, "overlap": self.overlap, "feather": self.feather,
                "batch": self.batch, "precision": self.precision, "device": self.device}


@dataclass(frozen=True)
class PrecisionDeviation:
    """How far a fast precision mode lands from fp32, in uint16 code values (0..65535).

    Attributes
    ----------
    precision : the mode compared (``"bf16"`` or ``"fp16"``).
    max_abs, mean_abs, rms : largest, mean and root-mean-square absolute difference.
    """

    precision: str
    max_abs: int
    mean_abs: float
    rms: float


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _axis_starts(length: int, tile: int, multiple: int) -> list[int]:
    """Core starts along one axis: evenly spaced, multiples of ``multiple``, covering
    ``[0, length)`` with cores of ``tile`` (``length`` and ``tile`` are multiples of
    ``multiple`` and ``tile < length``)."""
    count = math.ceil(length / tile)
    span = length - tile
    return [((i * span) // (count - 1)) // multiple * multiple for i in range(count - 1)] + [span]


def _net_multiple(net: Any) -> int:
    return int(getattr(net, "input_multiple", 1))


def _settings(net: Any, tile: int | None, overlap: int, feather: int | None) -> tuple[
        int | None, int, int, int]:
    """(tile, overlap, feather, multiple) rounded up to the network's input multiple."""
    if overlap < 0 or (feather is not None and feather < 0):
        raise ValueError(f"overlap and feather must be >= 0, not {overlap}, {feather}")
    if tile is not None and tile < 1:
        raise ValueError(f"tile must be a positive number of pixels or None, not {tile}")
    multiple = _net_multiple(net)
    feather = overlap // 2 if feather is None else feather
    tile = None if tile is None else _round_up(tile, multiple)
    return tile, _round_up(overlap, multiple), _round_up(feather, multiple), multiple


def plan_windows(height: int, width: int, tile: int | None, *, multiple: int = 1) -> list[Window]:
    """The tiles a frame is cut into, row by row.

    Parameters
    ----------
    height, width : frame size (input pixels).
    tile : core size (input pixels); ``None`` or at least the frame size gives one window.
    multiple : the network's input multiple; the frame is first extended (by reflection at the
        bottom and right) to a multiple of it, and cores start on multiples of it.
    """
    padded = (_round_up(height, multiple), _round_up(width, multiple))
    axes = []
    for length in padded:
        if tile is None or tile >= length:
            axes.append(([0], length))
        else:
            axes.append((_axis_starts(length, tile, multiple), tile))
    (ys, th), (xs, tw) = axes
    return [Window(y, x, th, tw) for y in ys for x in xs]


def _ramp(length: int, start: int, size: int, feather: int, scale: int) -> np.ndarray:
    """Blend weights along one axis for the kept part of a window, in output pixels.

    The kept part runs from ``start - feather`` to ``start + size + feather`` (input pixels),
    clipped to ``[0, length)``. Towards a neighbouring core the weight rises linearly from 0 at
    ``start - feather`` to 1 at ``start + feather`` (and falls likewise at the far end), so
    two neighbours' weights add up to 1 across the band; at the frame border it stays 1.
    Output pixel ``X`` sits at input position ``(X + 0.5) / scale``.
    """
    lo, hi = max(0, start - feather), min(length, start + size + feather)
    t = (np.arange(lo * scale, hi * scale, dtype=np.float64) + 0.5) / scale
    weight = np.ones_like(t)
    if start > 0:
        weight *= (np.clip((t - (start - feather)) / (2 * feather), 0.0, 1.0) if feather
                   else (t >= start))
    end = start + size
    if end < length:
        weight *= (np.clip(((end + feather) - t) / (2 * feather), 0.0, 1.0) if feather
                   else (t < end))
    return weight.astype(np.float32)


def estimate_bytes_per_pixel(net: Any, scale: int, precision: str = "fp32") -> float:
    """Peak memory per input pixel of one window (bytes), for :func:`choose_tile`.

    Uses the network's own ``bytes_per_input_pixel`` when it has one (both of ours do),
    otherwise the RRDBNet-64 figure for ``scale``, the most demanding network we run.
    """
    dtype_bytes = 4 if precision == "fp32" else 2
    if hasattr(net, "bytes_per_input_pixel"):
        return float(net.bytes_per_input_pixel(dtype_bytes))
    return _rrdbnet64_bytes_per_pixel(scale, dtype_bytes)


def _rrdbnet64_bytes_per_pixel(scale: int, dtype_bytes: int = 4) -> float:
    """RRDBNet's estimate (:meth:`RRDBNet.bytes_per_input_pixel`) for 64 features, growth 32,
    without importing torch."""
    return float(dtype_bytes * (3 * scale * scale * 64 + 8 * 64 + 4 * 32))


def _available_bytes(device: torch.device | str) -> int:
    kind = str(device).split(":")[0]
    if kind == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free * _CUDA_BUDGET_FRACTION)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(int(line.split()[1]) * 1024 * _CPU_BUDGET_FRACTION)
    except OSError:
        pass
    pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return int(pages * _CPU_BUDGET_FRACTION)


def choose_tile(height: int, width: int, scale: int, device: torch.device | str, *,
                budget_bytes: int | None = None, bytes_per_pixel: float | None = None,
                overlap: int = 16, feather: int | None = None, batch: int = 1,
                multiple: int = 1) -> int:
    """The largest tile (input pixels, a multiple of 16) whose windows fit the memory budget.

    Parameters
    ----------
    height, width : frame size (input pixels).
    scale : the network's scale (used for the default memory estimate).
    device : where inference runs. Without ``budget_bytes`` the budget is half of the CPU's
        MemAvailable, or 80 % of ``torch.cuda.mem_get_info``'s free bytes.
    budget_bytes : memory the windows may use (bytes); given, the choice is deterministic.
    bytes_per_pixel : peak bytes per window pixel (:func:`estimate_bytes_per_pixel`); defaults
        to the RRDBNet-64 figure for ``scale`` in fp32.
    overlap, feather : context per side (input pixels); windows are ``tile + 2 (overlap +
        feather)`` wide. ``feather=None`` means ``overlap // 2``.
    batch : windows per forward pass.
    multiple : the network's input multiple.

    Returns
    -------
    int
        A tile of at least the frame's longer side when the whole frame fits (one window),
        otherwise the largest multiple of 16 that fits, never below :data:`MIN_TILE`.
    """
    feather = overlap // 2 if feather is None else feather
    budget = _available_bytes(device) if budget_bytes is None else int(budget_bytes)
    bpp = (_rrdbnet64_bytes_per_pixel(scale) if bytes_per_pixel is None
           else float(bytes_per_pixel))
    context = 2 * (overlap + feather)
    whole = _round_up(max(height, width), multiple)
    if (height + context) * (width + context) * bpp * batch <= budget:
        return whole
    side = math.isqrt(max(0, int(budget / (bpp * max(1, batch)))))
    step = math.lcm(TILE_STEP, multiple)
    tile = (side - context) // step * step
    if tile < MIN_TILE:
        log.warning("memory budget %d bytes fits no %d px tile (%.0f bytes/pixel, batch %d); "
                    "using %d", budget, MIN_TILE, bpp, batch, MIN_TILE)
        return _round_up(MIN_TILE, multiple)
    return min(tile, whole)


def _torch_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("fp16 is the CUDA fast mode; on the CPU use bf16")
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def _net_device(net: Any, device: torch.device | str | None) -> torch.device:
    import torch

    if device is not None:
        return torch.device(device)
    try:
        return next(net.parameters()).device
    except (StopIteration, AttributeError):
        return torch.device("cpu")


def _is_cuda_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError)


def _forward(net: Any, tiles: list[np.ndarray], scale: int, device: torch.device,
             precision: str) -> np.ndarray:
    """Run equally sized float32 ``(h, w, 3)`` tiles as one batch; float32 ``(B, h*s, w*s, 3)``."""
    import torch

    x = torch.from_numpy(np.stack(tiles)).permute(0, 3, 1, 2).to(device)
    x = x.contiguous(memory_format=torch.channels_last)
    dtype = _torch_dtype(precision, device)
    with torch.inference_mode():
        if dtype is None:
            y = net(x)
        else:
            with torch.autocast(device_type=device.type, dtype=dtype):
                y = net(x)
        y = y.float().permute(0, 2, 3, 1).cpu().numpy()
    expected = (x.shape[2] * scale, x.shape[3] * scale)
    if y.shape[1:3] != expected or y.shape[3] != 3:
        raise ValueError(f"the network turned {tuple(x.shape[2:])} into {y.shape[1:3]} with "
                         f"{y.shape[3]} channels; scale {scale} RGB expects {expected}")
    return y


# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_GLIBC_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # 64-bit glibc's largest (dynamic) threshold
_heap_lock = threading.Lock()
_heap_users = 0


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


@contextlib.contextmanager
def _reused_heap(device: torch.device) -> Iterator[None]:
    """On the CPU with glibc, keep freed memory in the heap while the network runs.

    glibc serves every allocation above 32 MiB with a fresh ``mmap`` and unmaps it on free, so
    each layer's output on a large window (88 MiB for 64 channels of a 720x480 frame) costs a
    page fault per 4 KiB, and the kernel zeroes every page: measured here, a third of the CPU
    time of SRVGGNetCompact on a whole 720x480 frame went to the kernel. Inside this block large
    allocations come from the heap and freed memory is not returned, so the next layer reuses
    the same pages; on leaving, glibc's thresholds are set to where its own dynamic adjustment
    ends (32 MiB mmap, 64 MiB trim) and the heap is trimmed, so the memory goes back to the
    system. The settings are process-wide: nested and concurrent calls share one block.
    """
    libc = _libc() if device.type == "cpu" else None
    global _heap_users
    if libc is None:
        yield
        return
    with _heap_lock:
        if _heap_users == 0:
            libc.mallopt(_M_MMAP_MAX, 0)
            libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
        _heap_users += 1
    try:
        yield
    finally:
        with _heap_lock:
            _heap_users -= 1
            if _heap_users == 0:
                libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_MMAP_THRESHOLD_MAX)
                libc.mallopt(_M_TRIM_THRESHOLD, 2 * _GLIBC_MMAP_THRESHOLD_MAX)
                libc.mallopt(_M_MMAP_MAX, 65536)
                libc.malloc_trim(0)


@dataclass(frozen=True)
class _Segment:
    """A stretch ``[lo, hi)`` of output pixels along one axis covered by the same windows.

    ``parts`` holds ``(window index along the axis, weights)``: one part with ``None`` where a
    single window covers the stretch (its result is kept as it is), otherwise each window's
    share, float64, normalised so that the shares add up to 1 at every pixel.
    """

    lo: int
    hi: int
    parts: tuple[tuple[int, np.ndarray | None], ...]


def _axis_segments(length: int, starts: list[int], size: int, feather: int,
                   scale: int) -> list[_Segment]:
    """Cut one axis of the (padded) output into stretches of constant window cover.

    Each window's weight is its :func:`_ramp`; a window takes part where its weight is
    positive, with its weight divided by the sum over the windows there (the cross-fade; the
    sum is 1 wherever cores do not overlap). Blending a frame is then separable: a pixel's
    value is ``sum over rows i and columns j of share_i(y) * share_j(x) * result_ij``.
    """
    n = len(starts)
    raw = np.zeros((n, length * scale), np.float64)
    for i, start in enumerate(starts):
        lo = max(0, start - feather) * scale
        weight = _ramp(length, start, size, feather, scale)
        raw[i, lo:lo + weight.size] = weight
    cover = raw > 0
    total = raw.sum(axis=0)
    if not (total > 0).all():  # pragma: no cover - the cores cover the frame by construction
        raise AssertionError("tiles leave output pixels uncovered")
    edges = [0, *(np.flatnonzero((cover[:, 1:] != cover[:, :-1]).any(axis=0)) + 1),
             length * scale]
    segments = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        members = np.flatnonzero(cover[:, lo])
        if members.size == 1:
            parts: tuple[tuple[int, np.ndarray | None], ...] = ((int(members[0]), None),)
        else:
            parts = tuple((int(i), raw[i, lo:hi] / total[lo:hi]) for i in members)
        segments.append(_Segment(int(lo), int(hi), parts))
    return segments


def _store(dst: np.ndarray, value: np.ndarray) -> None:
    """Write float results into the output: uint16 as :func:`restoration.io.from_float`
    (``round(clip(v, 0, 1) * 65535)``, NaN 0, half to even) or float32 clamped to 0..1.

    The uint16 conversion runs in torch, in place on one temporary and on all threads: on a
    whole 4x frame it is 17 M samples, and numpy's eight single-threaded passes over them cost
    a tenth of SRVGGNetCompact's own time."""
    import torch

    if dst.dtype != np.uint16:
        np.clip(value, 0.0, 1.0, out=dst)
        return
    work = torch.from_numpy(value).clamp(0.0, 1.0)  # a new tensor; NaN stays NaN
    work.nan_to_num_(nan=0.0).mul_(FULL_RANGE).round_()  # round_: half to even, as np.rint
    torch.from_numpy(dst).copy_(work)


class _Run:
    """One attempt at upscaling a set of frames with fixed settings."""

    def __init__(self, net: Any, rgb: np.ndarray, scale: int, tile: int | None, overlap: int,
                 feather: int, multiple: int, batch: int, device: torch.device,
                 precision: str, out_dtype: type) -> None:
        self.net, self.rgb, self.scale = net, rgb, scale
        self.overlap, self.feather, self.multiple = overlap, feather, multiple
        self.batch, self.device, self.precision = batch, device, precision
        self.out_dtype = out_dtype
        n, self.height, self.width, _ = rgb.shape
        self.ph, self.pw = _round_up(self.height, multiple), _round_up(self.width, multiple)
        self.windows = plan_windows(self.height, self.width, tile, multiple=multiple)
        self.spans = [self._span(w) for w in self.windows]
        self.pieces, self.needs = self._pieces()
        self.count = n

    def _span(self, w: Window) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the window the network sees, in input pixels of the
        frame extended to the input multiple: the core plus the context on each side, shifted
        inwards at the frame's border and never larger than the frame."""
        ctx = self.overlap + self.feather

        def axis(start: int, size: int, length: int) -> tuple[int, int]:
            extent = min(size + 2 * ctx, length)
            lo = min(max(0, start - ctx), length - extent)
            return lo, extent

        (top, height), (left, width) = axis(w.y0, w.height, self.ph), axis(w.x0, w.width, self.pw)
        return top, left, height, width

    def _pieces(self) -> tuple[list[list[tuple[int, slice, slice, slice, slice,
                                               np.ndarray | None]]], list[int]]:
        """What each window contributes to the output, in output pixels.

        The cropped output is cut into cells (a row stretch by a column stretch of constant
        window cover, :func:`_axis_segments`). Returns, per window, ``(cell, target rows,
        target cols, window rows, window cols, weights)`` for the cells it covers, with
        ``weights`` ``None`` where it alone covers the cell (its result is stored as it is:
        nearly every pixel) and 2-D float32 shares in the cross-fade bands; and per cell the
        number of windows that cover it.
        """
        s = self.scale
        ys = sorted({w.y0 for w in self.windows})
        xs = sorted({w.x0 for w in self.windows})
        first = self.windows[0]
        rows = _axis_segments(self.ph, ys, first.height, self.feather, s)
        cols = _axis_segments(self.pw, xs, first.width, self.feather, s)
        tops = [self.spans[i * len(xs)][0] * s for i in range(len(ys))]
        lefts = [self.spans[j][1] * s for j in range(len(xs))]
        pieces: list[list[tuple[int, slice, slice, slice, slice, np.ndarray | None]]] = [
            [] for _ in self.windows]
        needs: list[int] = []
        for row in rows:
            y_hi = min(row.hi, self.height * s)  # crop the reflected padding
            if row.lo >= y_hi:
                continue
            for col in cols:
                x_hi = min(col.hi, self.width * s)
                if col.lo >= x_hi:
                    continue
                cell = len(needs)
                needs.append(len(row.parts) * len(col.parts))
                ty, tx = slice(row.lo, y_hi), slice(col.lo, x_hi)
                for i, wy in row.parts:
                    for j, wx in col.parts:
                        weight = None
                        if wy is not None or wx is not None:
                            wy_ = np.ones(y_hi - row.lo) if wy is None else wy[:y_hi - row.lo]
                            wx_ = np.ones(x_hi - col.lo) if wx is None else wx[:x_hi - col.lo]
                            weight = np.outer(wy_, wx_).astype(np.float32)[..., None]
                        oy, ox = row.lo - tops[i], col.lo - lefts[j]
                        pieces[i * len(xs) + j].append(
                            (cell, ty, tx, slice(oy, oy + y_hi - row.lo),
                             slice(ox, ox + x_hi - col.lo), weight))
        return pieces, needs

    def _frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as float32 0..1, reflected to the input multiple at the bottom and
        right."""
        frame = to_float(self.rgb[index])
        if (self.ph, self.pw) == (self.height, self.width):
            return frame
        pad = ((0, self.ph - self.height), (0, self.pw - self.width), (0, 0))
        return np.pad(frame, pad, mode="reflect")

    def _jobs(self) -> Iterator[list[tuple[int, int]]]:
        jobs = [(f, k) for f in range(self.count) for k in range(len(self.windows))]
        for i in range(0, len(jobs), self.batch):
            yield jobs[i:i + self.batch]

    def _forward(self, tiles: list[np.ndarray]) -> np.ndarray:
        return _forward(self.net, tiles, self.scale, self.device, self.precision)

    def run(self) -> np.ndarray:
        """Every window's result goes straight into the output where it alone covers the
        pixels; only the cross-fade bands are accumulated (in float32, windows in a fixed
        order, so batching does not change the sums) and stored once their last window is in.
        """
        s = self.scale
        out = np.empty((self.count, self.height * s, self.width * s, 3), self.out_dtype)
        frames: dict[int, np.ndarray] = {}
        bands: dict[tuple[int, int], np.ndarray] = {}
        got: dict[tuple[int, int], int] = {}
        done: dict[int, int] = {}
        for jobs in self._jobs():
            tiles = []
            for f, k in jobs:
                if f not in frames:
                    frames[f] = self._frame(f)
                top, left, height, width = self.spans[k]
                tiles.append(frames[f][top:top + height, left:left + width])
            results = self._forward(tiles)
            for (f, k), result in zip(jobs, results, strict=True):
                for cell, ty, tx, wy, wx, weight in self.pieces[k]:
                    if weight is None:
                        _store(out[f, ty, tx], result[wy, wx])
                        continue
                    key = (f, cell)
                    share = result[wy, wx] * weight
                    if key in bands:
                        bands[key] += share
                    else:
                        bands[key] = share
                    got[key] = got.get(key, 0) + 1
                    if got[key] == self.needs[cell]:
                        _store(out[f, ty, tx], bands.pop(key))
                        del got[key]
                done[f] = done.get(f, 0) + 1
                if done[f] == len(self.windows):
                    del frames[f], done[f]
        return out


def upscale_rgb(net: Any, rgb: np.ndarray, scale: int, *, tile: int | None = None,
                overlap: int = 16, feather: int | None = None, batch: int = 1,
                device: torch.device | str | None = None,
                precision: str = "fp32") -> UpscaleReport:
    """Upscale RGB frames with a network, tiled and blended; the float core.

    Parameters
    ----------
    net : a torch module taking float32 ``(B, 3, h, w)`` RGB 0..1 and returning
        ``(B, 3, h * scale, w * scale)``; ``h`` and ``w`` multiples of its ``input_multiple``
        attribute (1 if absent). Its parameters must already be on ``device``.
    rgb : ``(N, H, W, 3)``, uint16 full range or float32 0..1, RGB.
    scale : output size / input size.
    tile : core size (input pixels), or ``None`` for whole frames.
    overlap : context per side that is computed and discarded (input pixels). Tiled equals
        untiled when it is at least the network's receptive radius.
    feather : cross-fade half-width per side (input pixels); ``None`` means ``overlap // 2``;
        0 gives hard seams.
    batch : windows per forward pass (tiles of one frame, or several frames).
    device : where to run; ``None`` means where the network's parameters are.
    precision : ``"fp32"``, ``"bf16"`` or ``"fp16"`` (CUDA only).

    Returns
    -------
    UpscaleReport
        ``pixels`` float32 ``(N, H * scale, W * scale, 3)`` clamped to 0..1.
    """
    return _upscale(net, rgb, scale, tile=tile, overlap=overlap, feather=feather, batch=batch,
                    device=device, precision=precision, out_dtype=np.float32)


def _upscale(net: Any, rgb: np.ndarray, scale: int, *, tile: int | None, overlap: int,
             feather: int | None, batch: int, device: torch.device | str | None,
             precision: str, out_dtype: type) -> UpscaleReport:
    """:func:`upscale_rgb` with the output dtype chosen: float32 0..1 or uint16 full range."""
    import torch

    started = time.perf_counter()
    rgb = np.asarray(rgb)
    if rgb.ndim != 4 or rgb.shape[3] != 3:
        raise ValueError(f"expected (N, H, W, 3) RGB frames, not shape {rgb.shape}")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, not {batch}")
    dev = _net_device(net, device)
    _torch_dtype(precision, dev)
    tile, overlap, feather, multiple = _settings(net, tile, overlap, feather)
    if hasattr(net, "to"):
        net.to(memory_format=torch.channels_last)
    retries = 0
    while True:
        run = _Run(net, rgb, scale, tile, overlap, feather, multiple, batch, dev, precision,
                   out_dtype)
        try:
            with _reused_heap(dev):
                pixels = run.run()
            break
        except Exception as exc:
            current = tile or max(run.ph, run.pw)
            smaller = _round_up(current // 2, multiple)
            if not _is_cuda_oom(exc) or current <= MIN_TILE or smaller >= current:
                raise
        # outside the except block, so the traceback no longer holds the failed batch
        log.warning("out of device memory with %d px tiles (batch %d); retrying with %d px",
                    current, batch, smaller)
        del run
        torch.cuda.empty_cache()
        tile, retries = smaller, retries + 1
    return UpscaleReport(pixels=pixels, tile=tile, overlap=overlap, feather=feather, batch=batch,
                         precision=precision, device=str(dev),
                         windows_per_frame=len(run.windows), oom_retries=retries,
                         seconds=time.perf_counter() - started)


def _bicubic(channel: np.ndarray, scale: int) -> np.ndarray:
    """One uint16 channel ``(N, H, W)`` upscaled bicubically (PyTorch's a = -0.75, half-pixel
    centres), clamped and rounded back to uint16."""
    import torch
    from torch.nn import functional as F

    x = torch.from_numpy(to_float(channel))[:, None]
    y = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
    return from_float(y[:, 0].numpy())


def upscale_frames_with_report(net: Any, frames: np.ndarray, scale: int, *,
                               tile: int | None = None, overlap: int = 16,
                               feather: int | None = None, batch: int = 1,
                               device: torch.device | str | None = None,
                               precision: str = "fp32") -> UpscaleReport:
    """Upscale uint16 frames; the settings used come back with the pixels.

    Parameters
    ----------
    net, scale, tile, overlap, feather, batch, device, precision : as :func:`upscale_rgb`.
    frames : uint16 full range, ``(N, H, W, C)`` with C = 3 (RGB), 1 (grey) or 4 (RGBA), or
        ``(N, H, W)`` grey.

        * Grey is copied into R, G and B, run through the network, and the mean of the three
          output channels is kept (an RGB network may tint a grey picture; the mean does not
          favour one channel).
        * RGBA: RGB goes through the network; alpha is upscaled bicubically (PyTorch's
          a = -0.75, clamped), so a matte follows the upscaled picture's soft edges without
          being invented by a network trained on pictures.

    Returns
    -------
    UpscaleReport
        ``pixels`` uint16 full range, ``(N, H * scale, W * scale, C)`` (or ``(N, H*s, W*s)``
        for 3-D grey input).
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint16:
        raise TypeError(f"expected uint16 full-range frames, not {frames.dtype}")
    squeeze = frames.ndim == 3
    if squeeze:
        frames = frames[..., None]
    if frames.ndim != 4 or frames.shape[3] not in (1, 3, 4):
        raise ValueError(f"expected (N, H, W) or (N, H, W, C) with C in 1, 3, 4; "
                         f"not shape {frames.shape}")
    channels = frames.shape[3]
    rgb = np.repeat(frames, 3, axis=3) if channels == 1 else frames[..., :3]
    as_float = channels == 1  # keep full precision until the grey mean is taken
    report = _upscale(net, rgb, scale, tile=tile, overlap=overlap, feather=feather,
                      batch=batch, device=device, precision=precision,
                      out_dtype=np.float32 if as_float else np.uint16)
    pixels = report.pixels
    if channels == 1:
        pixels = from_float(pixels.mean(axis=3, keepdims=True, dtype=np.float32))
    elif channels == 4:
        alpha = _bicubic(frames[..., 3], scale)
        pixels = np.concatenate([pixels, alpha[..., None]], axis=3)
    if squeeze:
        pixels = pixels[..., 0]
    return UpscaleReport(pixels=pixels, tile=report.tile, overlap=report.overlap,
                         feather=report.feather, batch=report.batch,
                         precision=report.precision, device=report.device,
                         windows_per_frame=report.windows_per_frame,
                         oom_retries=report.oom_retries, seconds=report.seconds)


def upscale_frames(net: Any, frames_uint16: np.ndarray, scale: int, *, tile: int | None = None,
                   overlap: int = 16, feather: int | None = None, batch: int = 1,
                   device: torch.device | str | None = None,
                   precision: str = "fp32") -> np.ndarray:
    """Upscale uint16 frames: :func:`upscale_frames_with_report` without the report.

    Returns
    -------
    numpy.ndarray
        uint16 full range, ``(N, H * scale, W * scale, C)``, same channel order as the input.
    """
    return upscale_frames_with_report(net, frames_uint16, scale, tile=tile, overlap=overlap,
                                      feather=feather, batch=batch, device=device,
                                      precision=precision).pixels


def calibrate_tile(net: Any, height: int, width: int, scale: int, *,
                   device: torch.device | str | None = None, overlap: int = 16,
                   feather: int | None = None, batch: int = 1, precision: str = "fp32",
                   budget_bytes: int | None = None) -> int:
    """Choose the run's tile once: :func:`choose_tile`, then on CUDA a trial batch of windows
    that halves the tile until it fits. Record the result and use it for every chunk.

    Returns
    -------
    int
        Tile size (input pixels); at least the frame's longer side means whole frames.
    """
    import torch

    dev = _net_device(net, device)
    _, overlap, feather, multiple = _settings(net, None, overlap, feather)
    tile = choose_tile(height, width, scale, dev, budget_bytes=budget_bytes,
                       bytes_per_pixel=estimate_bytes_per_pixel(net, scale, precision),
                       overlap=overlap, feather=feather, batch=batch, multiple=multiple)
    if dev.type != "cuda":
        return tile
    ctx = overlap + feather
    while True:
        h = min(tile + 2 * ctx, _round_up(height, multiple))
        w = min(tile + 2 * ctx, _round_up(width, multiple))
        try:
            _forward(net, [np.zeros((h, w, 3), np.float32)] * batch, scale, dev, precision)
            return tile
        except Exception as exc:
            if not _is_cuda_oom(exc) or tile <= MIN_TILE:
                raise
        torch.cuda.empty_cache()
        smaller = _round_up(max(MIN_TILE, tile // 2), multiple)
        log.warning("out of device memory calibrating %d px tiles; trying %d", tile, smaller)
        tile = smaller


def precision_deviation(net: Any, frames: np.ndarray, scale: int, *, precision: str,
                        tile: int | None = None, overlap: int = 16, feather: int | None = None,
                        batch: int = 1,
                        device: torch.device | str | None = None) -> PrecisionDeviation:
    """Measure a fast mode against fp32 on the same uint16 frames (e.g. a run's first chunk),
    so the provenance can state what the speed cost in accuracy.

    Returns
    -------
    PrecisionDeviation
        Differences in uint16 code values.
    """
    kwargs = {"tile": tile, "overlap": overlap, "feather": feather, "batch": batch,
              "device": device}
    exact = upscale_frames(net, frames, scale, precision="fp32", **kwargs).astype(np.int32)
    fast = upscale_frames(net, frames, scale, precision=precision, **kwargs).astype(np.int32)
    diff = np.abs(fast - exact)
    return PrecisionDeviation(precision=precision, max_abs=int(diff.max()),
                              mean_abs=float(diff.mean()),
                              rms=float(np.sqrt(np.mean(diff.astype(np.float64) ** 2))))
