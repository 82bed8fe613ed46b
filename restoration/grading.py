"""Grading: ASC CDL, a LUT file and a colour-space conversion, through one OpenColorIO processor.

A grade (:class:`GradeSpec`) has up to three steps, always in this order, each skipped when not
asked for:

1. **ASC CDL v1.2** (:class:`restoration.interchange.CDL`): per channel
   ``out = clamp(in * slope + offset) ** power``, then saturation about Rec. 709 luma
   (``0.2126 R + 0.7152 G + 0.0722 B``), on the frame's own encoding (code values 0..1).
   Clamping follows OpenColorIO's styles: ``"asc"`` (:data:`CDL_STYLES`, OCIO
   ``CDL_ASC``, the default) clamps to ``[0, 1]`` after slope/offset and again after
   saturation, as the ASC CDL v1.2 text specifies; ``"no-clamp"`` (OCIO ``CDL_NO_CLAMP``)
   clamps nothing and passes values ``<= 0`` through the power stage unchanged. Where
   OpenColorIO differs from the ASC text for a bare ``ASC_SOP``/``ASC_SAT`` (EDL comments,
   files read by :mod:`restoration.interchange`), the reading is that module's concern; here a
   CDL value is always applied in the style named, ASC clamping unless told otherwise.
2. **LUT file** (``.cube`` Iridas/Resolve, ``.spi3d``, ``.spi1d``, ``.3dl``, anything
   OpenColorIO's ``FileTransform`` reads), on the frame's own encoding, after the CDL.
   Interpolation (:data:`INTERPOLATIONS`): ``"tetrahedral"`` (default) or ``"linear"``
   (trilinear for 3D LUTs); 1D LUTs are always interpolated linearly. A Resolve ``.cube``
   whose ``TITLE`` line OpenColorIO 2.x's Resolve reader refuses ("Unsupported tag: 'TITLE'")
   is read again without that line (the only change; the recorded sha256 is the original
   file's).
3. **Conversion**: decode the scan's transfer (:data:`IN_TRANSFERS`), convert primaries, encode
   the deliverable's space (:data:`OUT_SPACES`), as colour-science defines them (its
   ``RGB_COLOURSPACES`` and transfer functions; not a display rendering: scene values above
   1.0 are clipped at the 16-bit output, not tone-mapped).

   ``in_transfer``:

   * ``"cineon"``: ``colour.models.log_decoding_Cineon`` (printing density, 10-bit code
     ``1023 * v``; black 95, white 685; default black offset ``10 ** ((95 - 685) / 300)``, so
     code 95 -> 0.0 and 685 -> 1.0). Exact in OCIO as an inverse ``LogAffineTransform``.
   * ``"adx10"``: colour-science (0.4.x) has **no ADX function** (no ``adx`` anywhere in the
     package), so the decoding is the Academy's ``ACEScsc.ADX10_to_ACES.ctl`` itself (ADX10
     code ``1023 v`` -> channel dependent density -> channel independent density -> relative
     log exposure by the CTL's 11-point table -> exposure -> ACES2065-1), built exactly from
     OCIO operators (:func:`_adx10_group`); OCIO's own ``ADX10_to_ACES2065-1`` builtin is a
     coarser approximation (3e-5 off the CTL). Tests check it against a separate numpy
     transcription of the CTL and against OCIO's builtin. The result is ACES2065-1 (AP0,
     linear). Densities above 2.25 (ADX code values above about 1.2, reachable only through
     an unclamped CDL or a LUT) are held at 2.25.
   * ``"linear"``: values are already linear; nothing done.
   * ``"rec709"``: ``colour.models.oetf_inverse_BT709`` (inverse ITU-R BT.709 OETF).

   Working primaries of the decoded scan: **ITU-R BT.709 (= sRGB) primaries, D65**, for
   ``cineon``, ``linear`` and ``rec709``; **ACES AP0 (ACES2065-1)** for ``adx10``.
   Primaries are converted with ``colour.matrix_RGB_to_RGB(working, target, "CAT02")``
   (colour-science's ``RGB_to_RGB`` default adaptation; only ACES' D60-ish white needs it).

   ``out_space`` (colour-science colourspace, then its ``cctf_encoding``):

   * ``"rec709"``: ``ITU-R BT.709``, ``colour.models.oetf_BT709``;
   * ``"p3-d65"``: ``P3-D65``, gamma ``1 / 2.6`` (colour's ``gamma_function``);
   * ``"rec2020"``: ``ITU-R BT.2020``, ``colour.models.oetf_BT2020`` (10-bit constants);
   * ``"aces2065-1"``: ``ACES2065-1``, linear (values above 1.0 clip at 16 bits).

   ``in_transfer`` without ``out_space`` decodes only (linear values in the working
   primaries); ``out_space`` without ``in_transfer`` takes the frame as linear BT.709.

   The BT.709/BT.2020 curves (a power law with a linear foot and a hard break at 0.018) have
   no exact OCIO operator: OCIO's ``ExponentWithLinearTransform`` derives its own break and
   is up to 2.5e-4 off. They are therefore a 65536-entry half-float-domain
   ``Lut1DTransform`` whose entries are colour-science's function evaluated at every half
   value; OCIO interpolates linearly between neighbouring half values: measured 1.5e-7 from
   colour-science's function, except within the one half step (1.5e-5 wide) around the
   break, where colour's curve jumps (by 2.5e-4 going forward, 5.4e-5 inverse). As the last
   step (encoding), the samples OCIO interpolated across the jump are recognised by their
   value and re-evaluated by colour-science's function (a numpy step after OCIO, on the same
   row blocks, :func:`_fix_break`; for uint16 frames the few pixels whose code falls in that
   band are graded again in float32 first); as a decoding (``rec709`` in) the 5.4e-5 stays.

Frames are graded by **one** OpenColorIO CPU processor built from a ``GroupTransform`` of the
steps above (``OPTIMIZATION_LOSSLESS``: the default optimisation's fast pow/log is up to 0.015
off), cached per spec, applied with ``PackedImageDesc`` over row blocks on every core
(threads: OpenColorIO releases the GIL). uint16 frames go in and come out as uint16
(``v / 65535``; OpenColorIO rounds to the nearest code and clips to 0..65535); float32 frames
are graded as float and written as :func:`restoration.io.from_float` does. RGB channel order;
an alpha channel passes through unchanged; a grey frame (``Y``, ``Y A``) is graded as
``R = G = B`` and stays grey (the channels' mean) when the result is neutral (channels
within one code of each other), else becomes RGB.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from restoration.derived import (
    DerivedReport,
    Writes,
    code_version,
    plan_frames,
    write_provenance,
)
from restoration.interchange import CDL

log = logging.getLogger(__name__)

INTERPOLATIONS = ("tetrahedral", "linear")
CDL_STYLES = ("asc", "no-clamp")
IN_TRANSFERS = ("cineon", "adx10", "linear", "rec709")
OUT_SPACES = ("rec709", "p3-d65", "rec2020", "aces2065-1")
DEFAULT_INTERPOLATION = "tetrahedral"

# out_space -> colour-science RGB_COLOURSPACES name
COLOURSPACE = {"rec709": "ITU-R BT.709", "p3-d65": "P3-D65", "rec2020": "ITU-R BT.2020",
               "aces2065-1": "ACES2065-1"}
# in_transfer -> working primaries of the decoded scan (colour-science name)
WORKING_PRIMARIES = {"cineon": "ITU-R BT.709", "linear": "ITU-R BT.709", "rec709": "ITU-R BT.709",
                     "adx10": "ACES2065-1"}
DECODING = {
    "cineon": "colour.models.log_decoding_Cineon (black_offset=10**((95-685)/300)), "
              "as an OpenColorIO LogAffineTransform (inverse)",
    "adx10": "Academy ACEScsc.ADX10_to_ACES.ctl (v0.2.2) in OpenColorIO operators (matrix, "
             "2501-point Lut1D holding the CTL's density table exactly, 10**x, matrix); "
             "colour-science has no ADX function",
    "linear": "none (already linear)",
    "rec709": "colour.models.oetf_inverse_BT709, as a half-domain OpenColorIO Lut1DTransform",
}
ENCODING = {
    "rec709": "colour.models.oetf_BT709, as a half-domain OpenColorIO Lut1DTransform",
    "p3-d65": "gamma 1/2.6 (colour RGB_COLOURSPACES['P3-D65'].cctf_encoding), as an "
              "OpenColorIO ExponentTransform (inverse of 2.6, negatives clamped to 0)",
    "rec2020": "colour.models.oetf_BT2020, as a half-domain OpenColorIO Lut1DTransform",
    "aces2065-1": "none (linear)",
}
CAT = "CAT02"
ORDER = ("cdl", "lut", "conversion")
FULL_RANGE = 65535
_ROWS_PER_BLOCK = 64


class GradeSpecError(ValueError):
    """A grade cannot be built as asked (unknown name, unreadable LUT file); the message says
    which and why."""


class GradingError(RuntimeError):
    """A frame could not be graded, read or written; the message names it."""


def file_sha256(path: Path | str) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class GradeSpec:
    """One grade: the steps to apply, in the fixed order CDL, LUT, conversion.

    Attributes
    ----------
    cdl : CDL, optional
        ASC CDL v1.2 values (slope, offset, power per R, G, B; saturation), on code values
        0..1 of the frame's own encoding. None: no CDL step.
    lut : str, optional
        Path of a LUT file OpenColorIO reads (``.cube``, ``.spi3d``, ``.spi1d``, ``.3dl``...);
        stored absolute. None: no LUT step.
    lut_sha256 : str, optional
        SHA-256 of the LUT file; computed when left None. A run refuses a file whose bytes no
        longer match.
    interpolation : {"tetrahedral", "linear"}
        3D LUT interpolation (default ``"tetrahedral"``; ``"linear"`` is trilinear). 1D LUTs
        are interpolated linearly either way.
    in_transfer : {"cineon", "adx10", "linear", "rec709"}, optional
        The scan's transfer, decoded in the conversion step (see the module docstring).
    out_space : {"rec709", "p3-d65", "rec2020", "aces2065-1"}, optional
        The deliverable's space, encoded last.
    cdl_style : {"asc", "no-clamp"}
        OpenColorIO's CDL style: ``"asc"`` (``CDL_ASC``, v1.2 clamping; default) or
        ``"no-clamp"`` (``CDL_NO_CLAMP``).

    Raises
    ------
    GradeSpecError
        An unknown name, or a LUT file that does not exist or cannot be read.
    """

    cdl: CDL | None = None
    lut: str | None = None
    lut_sha256: str | None = None
    interpolation: str = DEFAULT_INTERPOLATION
    in_transfer: str | None = None
    out_space: str | None = None
    cdl_style: str = "asc"

    def __post_init__(self) -> None:
        for value, allowed, what in ((self.interpolation, INTERPOLATIONS, "interpolation"),
                                     (self.cdl_style, CDL_STYLES, "CDL style")):
            if value not in allowed:
                raise GradeSpecError(f"{what} {value!r}; expected one of {', '.join(allowed)}")
        if self.in_transfer is not None and self.in_transfer not in IN_TRANSFERS:
            raise GradeSpecError(f"in_transfer {self.in_transfer!r}; expected one of "
                                 f"{', '.join(IN_TRANSFERS)}")
        if self.out_space is not None and self.out_space not in OUT_SPACES:
            raise GradeSpecError(f"out_space {self.out_space!r}; expected one of "
                                 f"{', '.join(OUT_SPACES)}")
        if self.cdl is not None and not isinstance(self.cdl, CDL):
            raise GradeSpecError(f"cdl must be a restoration.interchange.CDL, not "
                                 f"{type(self.cdl).__name__}")
        if self.lut is not None:
            path = Path(self.lut).expanduser()
            if not path.is_file():
                raise GradeSpecError(f"{self.lut}: no such LUT file")
            object.__setattr__(self, "lut", str(path.resolve()))
            if self.lut_sha256 is None:
                object.__setattr__(self, "lut_sha256", file_sha256(path))
        elif self.lut_sha256 is not None:
            raise GradeSpecError("lut_sha256 given without a lut")

    @property
    def is_identity(self) -> bool:
        """True when no step is asked for (frames are copied at 16 bits)."""
        return self.cdl is None and self.lut is None and not self.converts

    @property
    def converts(self) -> bool:
        """True when the conversion step runs (an in_transfer or an out_space is named)."""
        return self.in_transfer is not None or self.out_space is not None

    @property
    def working_primaries(self) -> str | None:
        """colour-science name of the decoded scan's primaries, None without conversion."""
        if not self.converts:
            return None
        return WORKING_PRIMARIES[self.in_transfer or "linear"]

    def to_json(self) -> dict[str, Any]:
        """The grade as plain JSON data for provenance, with the library versions."""
        import colour
        import PyOpenColorIO as ocio

        cdl = None
        if self.cdl is not None:
            cdl = {"slope": list(self.cdl.slope), "offset": list(self.cdl.offset),
                   "power": list(self.cdl.power), "saturation": self.cdl.saturation,
                   "id": self.cdl.id, "description": list(self.cdl.description),
                   "style": self.cdl_style, "luma": [0.2126, 0.7152, 0.0722]}
        lut = None
        if self.lut is not None:
            lut = {"file": self.lut, "sha256": self.lut_sha256,
                   "interpolation": self.interpolation}
        conversion = None
        if self.converts:
            in_transfer = self.in_transfer or "linear"
            matrix = _primaries_matrix(in_transfer, self.out_space)
            conversion = {
                "in_transfer": in_transfer,
                "decoding": DECODING[in_transfer],
                "working_primaries": self.working_primaries,
                "out_space": self.out_space,
                "out_colourspace": COLOURSPACE[self.out_space] if self.out_space else None,
                "chromatic_adaptation": CAT if matrix is not None else None,
                "matrix": None if matrix is None else [[round(v, 12) for v in row]
                                                       for row in matrix.tolist()],
                "encoding": ENCODING[self.out_space] if self.out_space else None,
            }
        return {
            "order": [s for s in ORDER if {"cdl": cdl, "lut": lut,
                                           "conversion": conversion}[s] is not None],
            "cdl": cdl, "lut": lut, "conversion": conversion,
            "engine": "OpenColorIO CPU processor (GroupTransform, OPTIMIZATION_LOSSLESS)",
            "versions": {"opencolorio": ocio.GetVersion(), "colour-science": colour.__version__,
                         "numpy": np.__version__},
        }


# ----------------------------------------------------------------------------- the processor


def _primaries_matrix(in_transfer: str, out_space: str | None) -> np.ndarray | None:
    """3x3 matrix from the decoded scan's primaries to `out_space`'s, None when the same."""
    if out_space is None:
        return None
    source, target = WORKING_PRIMARIES[in_transfer], COLOURSPACE[out_space]
    if source == target:
        return None
    import colour

    return np.asarray(colour.matrix_RGB_to_RGB(source, target, CAT), dtype=np.float64)


@functools.lru_cache(maxsize=8)
def _half_lut(name: str) -> np.ndarray:
    """colour-science's curve `name` at every half-float value, as OCIO Lut1D data
    (65536 x RGB float32, NaN/inf inputs -> 0)."""
    import warnings

    import colour

    function = {"oetf_BT709": colour.models.oetf_BT709,
                "oetf_inverse_BT709": colour.models.oetf_inverse_BT709,
                "oetf_BT2020": colour.models.oetf_BT2020}[name]
    x = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float64)
    finite = np.isfinite(x)
    y = np.zeros_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y[finite] = function(x[finite])
    y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
    return np.ascontiguousarray(np.repeat(y[:, None], 3, axis=1).ravel())


@functools.lru_cache(maxsize=8)
def _break_fixup(name: str) -> tuple[float, float, float, float]:
    """For a half-domain curve whose colour-science function has a jump (the BT.709/BT.2020
    OETF: ``4.5 x`` below 0.018, the power law from there on, 2.5e-4 apart), the half values
    ``a < b`` around the jump and the Lut1D's values ``ya, yb`` there.

    OpenColorIO interpolates linearly between ``ya`` and ``yb`` for inputs in ``(a, b)``,
    which no straight line can do right across a jump; an output strictly between them came
    from such an input, which is recovered from the interpolation and evaluated by
    colour-science's function itself (:func:`_fix_break`)."""
    data = _half_lut(name)[::3]
    x = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float64)
    positive = np.flatnonzero((x > 0) & np.isfinite(x) & (x < 1))
    linear = np.isclose(data[positive], 4.5 * x[positive], rtol=1e-6, atol=0)
    k = positive[np.argmin(linear)]  # first positive half value off the linear foot
    a, b = x[k - 1], x[k]
    return float(a), float(b), float(data[k - 1]), float(data[k])


def _fix_break(block: np.ndarray, name: str) -> None:
    """Re-evaluate, in place, the samples of float32 graded `block` (RGB first) that
    OpenColorIO interpolated across the jump of curve `name`."""
    import warnings

    import colour

    a, b, ya, yb = _break_fixup(name)
    rgb = block[..., :3]
    mask = (rgb > ya) & (rgb < yb)
    if not mask.any():
        return
    y = rgb[mask].astype(np.float64)
    x = a + (y - ya) * (b - a) / (yb - ya)
    function = {"oetf_BT709": colour.models.oetf_BT709,
                "oetf_BT2020": colour.models.oetf_BT2020}[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = np.asarray(function(x), dtype=np.float64)
    rgb[mask] = fixed.astype(np.float32)


def _fix_break_uint16(block: np.ndarray, source: np.ndarray, name: str, float_cpu) -> None:
    """uint16 version of :func:`_fix_break`: a code cannot tell which side of the break its
    value lay, so the pixels whose graded code lies in the jump's band (a few) are graded
    again from `source` (their input) in float32, mended there, and rounded."""
    _, _, ya, yb = _break_fixup(name)
    low, high = int(np.floor(ya * FULL_RANGE)), int(np.ceil(yb * FULL_RANGE))
    rgb = block[..., :3]
    where = ((rgb >= low) & (rgb <= high)).any(axis=-1)
    if not where.any():
        return
    values = np.ascontiguousarray(source[..., :3][where], dtype=np.float32) / FULL_RANGE
    values = np.ascontiguousarray(values.reshape(-1, 1, 3))
    float_cpu.applyRGB(values)
    _fix_break(values, name)
    rgb[where] = np.rint(np.clip(values.reshape(-1, 3), 0, 1) * FULL_RANGE).astype(np.uint16)


def _curve(name: str):
    import PyOpenColorIO as ocio

    t = ocio.Lut1DTransform()
    t.setLength(65536)
    t.setInputHalfDomain(True)
    t.setData(_half_lut(name))
    return t


def _decode_transform(in_transfer: str):
    import PyOpenColorIO as ocio

    if in_transfer == "cineon":
        black = 10 ** ((95 - 685) / 300)
        t = ocio.LogAffineTransform()
        t.setBase(10.0)
        t.setLogSideSlopeValue([300 / 1023] * 3)
        t.setLogSideOffsetValue([685 / 1023] * 3)
        t.setLinSideSlopeValue([1 - black] * 3)
        t.setLinSideOffsetValue([black] * 3)
        t.setDirection(ocio.TRANSFORM_DIR_INVERSE)
        return t
    if in_transfer == "adx10":
        return _adx10_group()
    if in_transfer == "rec709":
        return _curve("oetf_inverse_BT709")
    return None


# The Academy's ACEScsc.ADX10_to_ACES.ctl ("Universal ADX10 to ACES", aces-dev v0.2.2).
ADX_CDD_TO_CID = ((0.75573, 0.05901, 0.16134), (0.22197, 0.96928, 0.07406),
                  (0.02230, -0.02829, 0.76460))
ADX_EXP_TO_ACES = ((0.72286, 0.11923, 0.01427), (0.12630, 0.76418, 0.08213),
                   (0.15084, 0.11659, 0.90359))
ADX_LUT_1D = ((-0.19, -6.0), (0.01, -2.721718645), (0.028, -2.521718645),
              (0.054, -2.321718645), (0.095, -2.121718645), (0.145, -1.921718645),
              (0.22, -1.721718645), (0.3, -1.521718645), (0.4, -1.321718645),
              (0.5, -1.121718645), (0.6, -0.926545676714876))
ADX_CID_RANGE = (-0.25, 2.25)  # channel independent density held within this range
ADX_CID_STEP = 0.001  # every CTL table point lies on this grid


def _adx10_group():
    """ADX10 -> ACES2065-1 as the CTL computes it, in OpenColorIO operators.

    One matrix (code value -> channel dependent density ``(1023 v - 95) / 500`` -> channel
    independent density, rescaled from :data:`ADX_CID_RANGE` to 0..1); a 2501-point Lut1D of
    the CTL's density -> log exposure (its 11-point table, clamped below -0.19, and the line
    ``100/55 d - REF_PT`` above 0.6; all the table's points lie on the Lut1D's 0.001 grid, so
    linear interpolation reproduces the piecewise-linear curve exactly); ``10 ** x``
    (``LogTransform`` inverse); the exposure -> ACES matrix. OpenColorIO's own
    ``BuiltinTransform("ADX10_to_ACES2065-1")`` approximates the table with a coarser LUT (up
    to 3e-5 off the CTL, 1.6e-4 once encoded as BT.709), so it is not used.
    """
    import PyOpenColorIO as ocio

    cdd_to_cid = np.asarray(ADX_CDD_TO_CID).T  # the CTL multiplies row vectors
    lo, hi = ADX_CID_RANGE
    scale = 1.0 / (hi - lo)
    m = cdd_to_cid * (1023.0 / 500.0) * scale
    offset = (cdd_to_cid @ np.full(3, -95.0 / 500.0) - lo) * scale
    m44 = np.eye(4)
    m44[:3, :3] = m
    group = ocio.GroupTransform()
    group.appendTransform(ocio.MatrixTransform(m44.ravel().tolist(),
                                               [*offset.tolist(), 0.0]))
    size = int(round((hi - lo) / ADX_CID_STEP)) + 1
    density = lo + np.arange(size) * ADX_CID_STEP
    table = np.asarray(ADX_LUT_1D)
    ref_pt = (7120.0 - 1520.0) / 8000.0 * (100.0 / 55.0) - np.log10(0.18)
    log_e = np.where(density <= 0.6, np.interp(density, table[:, 0], table[:, 1]),
                     (100.0 / 55.0) * density - ref_pt)
    lut = ocio.Lut1DTransform()
    lut.setLength(size)
    lut.setData(np.ascontiguousarray(np.repeat(log_e.astype(np.float32)[:, None], 3, 1).ravel()))
    group.appendTransform(lut)
    group.appendTransform(ocio.LogTransform(10.0, ocio.TRANSFORM_DIR_INVERSE))
    e44 = np.eye(4)
    e44[:3, :3] = np.asarray(ADX_EXP_TO_ACES).T
    group.appendTransform(ocio.MatrixTransform(e44.ravel().tolist()))
    return group


def _encode_transform(out_space: str):
    import PyOpenColorIO as ocio

    if out_space == "rec709":
        return _curve("oetf_BT709")
    if out_space == "rec2020":
        return _curve("oetf_BT2020")
    if out_space == "p3-d65":
        t = ocio.ExponentTransform([2.6, 2.6, 2.6, 1.0])
        t.setDirection(ocio.TRANSFORM_DIR_INVERSE)
        return t
    return None


def _lut_for_ocio(path: str, sha256: str) -> str:
    """The path OpenColorIO should read for `path`: itself, or (a Resolve .cube with a
    TITLE line its Resolve reader refuses) a copy without that line, kept by content hash."""
    import PyOpenColorIO as ocio

    config = ocio.Config.CreateRaw()
    try:
        config.getProcessor(ocio.FileTransform(path))
        return path
    except Exception as exc:
        first = exc
    if path.lower().endswith(".cube"):
        lines = Path(path).read_text(errors="replace").splitlines(keepends=True)
        kept = [ln for ln in lines if not ln.lstrip().upper().startswith("TITLE")]
        if len(kept) != len(lines):
            folder = Path(tempfile.gettempdir()) / "reelkeeper-lut"
            folder.mkdir(parents=True, exist_ok=True)
            copy = folder / f"{sha256}.cube"
            if not copy.exists():
                tmp = copy.with_name(f".{copy.name}.{os.getpid()}")
                tmp.write_text("".join(kept))
                os.replace(tmp, copy)
            try:
                config.getProcessor(ocio.FileTransform(str(copy)))
                log.info("%s: read without its TITLE line (OpenColorIO's Resolve .cube reader "
                         "refuses it)", path)
                return str(copy)
            except Exception:
                pass
    reason = str(first).split("\n")[0]
    raise GradeSpecError(f"{path}: OpenColorIO cannot read this LUT file ({reason})")


def build_group(spec: GradeSpec):
    """The OpenColorIO ``GroupTransform`` for `spec`: CDL, LUT, decode, matrix, encode (the
    steps not asked for left out)."""
    import PyOpenColorIO as ocio

    group = ocio.GroupTransform()
    if spec.cdl is not None:
        c = ocio.CDLTransform()
        c.setSlope(list(spec.cdl.slope))
        c.setOffset(list(spec.cdl.offset))
        c.setPower(list(spec.cdl.power))
        c.setSat(float(spec.cdl.saturation))
        c.setStyle(ocio.CDL_ASC if spec.cdl_style == "asc" else ocio.CDL_NO_CLAMP)
        group.appendTransform(c)
    if spec.lut is not None:
        if file_sha256(spec.lut) != spec.lut_sha256:
            raise GradeSpecError(f"{spec.lut}: the file changed since the grade was set "
                                 f"(sha256 no longer {spec.lut_sha256})")
        source = _lut_for_ocio(spec.lut, spec.lut_sha256)
        interp = (ocio.INTERP_TETRAHEDRAL if spec.interpolation == "tetrahedral"
                  else ocio.INTERP_LINEAR)
        group.appendTransform(ocio.FileTransform(source, interpolation=interp))
    if spec.converts:
        in_transfer = spec.in_transfer or "linear"
        decode = _decode_transform(in_transfer)
        if decode is not None:
            group.appendTransform(decode)
        matrix = _primaries_matrix(in_transfer, spec.out_space)
        if matrix is not None:
            m44 = np.eye(4)
            m44[:3, :3] = matrix
            group.appendTransform(ocio.MatrixTransform(m44.ravel().tolist()))
        if spec.out_space is not None:
            encode = _encode_transform(spec.out_space)
            if encode is not None:
                group.appendTransform(encode)
    return group


@functools.lru_cache(maxsize=16)
def _processor(spec: GradeSpec, depth: str):
    """OpenColorIO CPU processor for `spec`, `depth` ``"uint16"`` (uint16 in and out) or
    ``"float32"`` (float32 in and out). Cached per spec."""
    import PyOpenColorIO as ocio

    if spec.lut is not None:
        ocio.ClearAllCaches()  # the file's bytes may have changed under the same path
    try:
        processor = ocio.Config.CreateRaw().getProcessor(build_group(spec))
    except GradeSpecError:
        raise
    except Exception as exc:
        raise GradeSpecError(f"OpenColorIO cannot build this grade: {exc}") from exc
    bits = ocio.BIT_DEPTH_UINT16 if depth == "uint16" else ocio.BIT_DEPTH_F32
    return processor.getOptimizedCPUProcessor(bits, bits, ocio.OPTIMIZATION_LOSSLESS)


def processor_for(spec: GradeSpec, depth: str = "float32"):
    """The cached OpenColorIO CPU processor that grades with `spec` (for benchmarks and
    tests): ``depth`` ``"uint16"`` or ``"float32"``, same depth in and out."""
    return _processor(spec, depth)


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max(1, os.cpu_count() or 1), thread_name_prefix="grade")


def _encoding_curve(spec: GradeSpec) -> str | None:
    """The half-domain curve that ends `spec`'s processor and has a jump to mend, if any."""
    return {"rec709": "oetf_BT709", "rec2020": "oetf_BT2020"}.get(spec.out_space or "")


def _apply_blocks(cpu, data: np.ndarray, mend: str | None = None,
                  source: np.ndarray | None = None, float_cpu=None) -> None:
    """Apply `cpu` in place to contiguous ``(H, W, 3 or 4)`` `data` in row blocks on all
    cores; `mend` names the final curve whose jump is mended (:func:`_fix_break`; for uint16
    `data` from `source`, the input, through `float_cpu`)."""
    import PyOpenColorIO as ocio

    height, width, channels = data.shape
    bits = ocio.BIT_DEPTH_UINT16 if data.dtype == np.uint16 else ocio.BIT_DEPTH_F32
    size = data.dtype.itemsize

    def run(r0: int) -> None:
        block = data[r0:r0 + _ROWS_PER_BLOCK]
        cpu.apply(ocio.PackedImageDesc(block, width, block.shape[0], channels, bits, size,
                                       size * channels, size * channels * width))
        if mend is not None and data.dtype == np.uint16:
            _fix_break_uint16(block, source[r0:r0 + _ROWS_PER_BLOCK], mend, float_cpu)
        elif mend is not None:
            _fix_break(block, mend)

    workers = max(1, os.cpu_count() or 1)
    starts = range(0, height, _ROWS_PER_BLOCK)
    if workers == 1 or height <= _ROWS_PER_BLOCK:
        for r0 in starts:
            run(r0)
    else:
        for future in [_pool().submit(run, r0) for r0 in starts]:
            future.result()


def grade_values(rgb: np.ndarray, spec: GradeSpec) -> np.ndarray:
    """Grade float RGB values without quantising: the processor :func:`grade_frame` uses,
    with its numpy mending of the final curve's jump, on float32.

    Parameters
    ----------
    rgb : array_like
        ``(..., 3)`` code values (0..1 nominal; others are graded as the steps define).

    Returns
    -------
    numpy.ndarray
        float32, same shape.
    """
    values = np.asarray(rgb, dtype=np.float32)
    shape = values.shape
    if shape[-1] != 3:
        raise ValueError(f"expected (..., 3) RGB values, not {shape}")
    work = np.array(values.reshape(-1, 1, 3), dtype=np.float32, order="C", copy=True)
    if not spec.is_identity:
        _apply_blocks(_processor(spec, "float32"), work, _encoding_curve(spec))
    return work.reshape(shape)


def grade_frame(pixels: np.ndarray, spec: GradeSpec) -> np.ndarray:
    """Grade one frame.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``(height, width, channels)`` or ``(height, width)``: uint16 full range (0..65535,
        read as ``v / 65535``) or float32 values as stored; channels ``R G B``, ``R G B A``,
        ``Y`` or ``Y A`` (alpha last).
    spec : GradeSpec
        The grade.

    Returns
    -------
    numpy.ndarray
        uint16 full range, same height and width; alpha unchanged; RGB(A), or grey (with its
        alpha) when the input was grey and the graded result is neutral.
    """
    from restoration.io import from_float

    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[..., np.newaxis]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"pixels must be (height, width, 1-4 channels), not {pixels.shape}")
    if pixels.dtype != np.uint16 and not np.issubdtype(pixels.dtype, np.floating):
        raise TypeError(f"pixels must be uint16 full range or float, not {pixels.dtype}")
    channels = pixels.shape[-1]
    grey = channels in (1, 2)
    if grey:
        rgb = np.repeat(pixels[..., :1], 3, axis=-1)
        pixels = np.concatenate([rgb, pixels[..., 1:]], axis=-1) if channels == 2 else rgb
    if pixels.dtype == np.uint16:
        work = np.array(pixels, dtype=np.uint16, order="C", copy=True)
        if not spec.is_identity:
            mend = _encoding_curve(spec)
            _apply_blocks(_processor(spec, "uint16"), work, mend, source=pixels,
                          float_cpu=_processor(spec, "float32") if mend else None)
        out = work
    else:
        work = np.array(pixels, dtype=np.float32, order="C", copy=True)
        if not spec.is_identity:
            _apply_blocks(_processor(spec, "float32"), work, _encoding_curve(spec))
        out = from_float(work)
    if grey:
        rgb = out[..., :3].astype(np.int32)
        if int((rgb.max(axis=-1) - rgb.min(axis=-1)).max()) <= 1:
            # neutral (channels within one code of each other: float rounding): stays grey
            y = ((rgb.sum(axis=-1) + 1) // 3).astype(np.uint16)[..., np.newaxis]
            out = np.ascontiguousarray(np.concatenate([y, out[..., 3:]], axis=-1))
    return out


def grade_preview(pixels: np.ndarray, spec: GradeSpec, width: int = 1024) -> np.ndarray:
    """A graded still for a screen: :func:`grade_frame`, then an area-average downscale by
    the integer factor that brings the width to at most `width` pixels. uint16 full range,
    ``(h, w, channels)``."""
    graded = grade_frame(pixels, spec)
    factor = max(1, -(-graded.shape[1] // width))
    if factor == 1:
        return graded
    h, w = graded.shape[0] // factor * factor, graded.shape[1] // factor * factor
    blocks = graded[:h, :w].reshape(h // factor, factor, w // factor, factor, -1)
    return np.rint(blocks.mean(axis=(1, 3), dtype=np.float32)).astype(np.uint16)


# ----------------------------------------------------------------------------- sequences


GradeReport = DerivedReport  # what a grading run wrote


def grade_sequence(in_dir: Path, out_dir: Path, spec: GradeSpec, *,
                   frames: tuple[int, int] | None = None, pattern: str | None = None,
                   on_progress: Callable[[int, int], None] | None = None,
                   provenance_path: Path | None | bool = True,
                   exclude: tuple[str, ...] | list[str] = ()) -> GradeReport:
    """Grade the frames of `in_dir` numbered within `frames` (inclusive, the files' own
    numbers; all when None) and write them, same names and format, 16-bit, into `out_dir`.

    Reading, grading and writing overlap (a reader thread keeps two frames ahead, a writer
    thread writes finished ones, the grade itself runs on all cores). TIFF output is
    uncompressed when the input frame is, else Adobe Deflate; DPX is never compressed.
    `provenance_path`: True writes ``out_dir/provenance.json``, a path writes it there,
    False or None writes none (the report's ``data`` holds it either way). Files named in
    `exclude` (unreadable frames) are left out, as if missing.

    Raises
    ------
    GradeSpecError
        The output is inside the input, no frame is in range, or the grade cannot be built.
    GradingError
        A frame cannot be read, graded or written (the message names it).
    restoration.inspect.UnusableSequence
        No sequence in `in_dir`, or `pattern` picks none.
    """

    from restoration.io import read_frame, write_frame

    started = time.perf_counter()
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    plan, names, all_frames, targets = plan_frames(in_dir, out_dir, pattern, frames,
                                                   GradeSpecError, exclude)
    order = [all_frames[i] for i in targets]
    if not spec.is_identity:
        _processor(spec, "uint16")  # build (and check) the grade before touching any frame
    grade = spec.to_json()
    out_dir.mkdir(parents=True, exist_ok=True)

    def read(f: int):
        try:
            return read_frame(in_dir / names[f])
        except Exception as exc:
            raise GradingError(f"frame {f} ({names[f]}): {exc}") from None

    def write(pixels: np.ndarray, f: int, like) -> None:
        compression = None if like.facts.get("compression") in ("none", None) and \
            like.format == "tiff" else "deflate"
        try:
            write_frame(pixels, out_dir / names[f], like=like, compression=compression)
        except Exception as exc:
            raise GradingError(f"frame {f} ({names[f]}): {exc}") from None

    names_written: list[str] = []
    ahead = 2
    with ThreadPoolExecutor(1, thread_name_prefix="grade-read") as reader, \
            ThreadPoolExecutor(1, thread_name_prefix="grade-write") as writer:
        writes = Writes(writer, len(order), on_progress, limit=ahead)
        reads = [reader.submit(read, f) for f in order[:ahead]]
        for k, f in enumerate(order):
            frame = reads[k].result()
            if k + ahead < len(order):
                reads.append(reader.submit(read, order[k + ahead]))
            reads[k] = None  # type: ignore[call-overload]  # let the frame go once written
            try:
                graded = grade_frame(frame.pixels, spec)
            except Exception as exc:
                raise GradingError(f"frame {f} ({names[f]}): {exc}") from None
            like = frame
            if graded.shape[-1] != frame.pixels.shape[-1]:  # a grey frame graded into colour
                like = None
            frame.pixels = None  # type: ignore[assignment]
            writes.submit(write, graded, f, like or _colour_like(frame))
            names_written.append(names[f])
        written = writes.finish()
    provenance = {
        "code": code_version(),
        "input": {"folder": str(in_dir), "pattern": plan.pattern, "left_out": sorted(exclude)},
        "frames": [order[0], order[-1]],
        "frames_written": written,
        "grade": grade,
        "identity": spec.is_identity,
        "threads": os.cpu_count() or 1,
        "output_bits": 16,
        "seconds": round(time.perf_counter() - started, 3),
    }
    prov_path = write_provenance(out_dir, provenance_path, provenance)
    return GradeReport(written, out_dir, prov_path, time.perf_counter() - started,
                       names=names_written, data=provenance)


def _colour_like(frame):
    """A frame like `frame` but with RGB(A) channel names, for a grey scan graded into
    colour (its facts still travel)."""
    from dataclasses import replace

    names = ("R", "G", "B", "A") if frame.channels[-1] == "A" else ("R", "G", "B")
    facts = dict(frame.facts)
    facts.pop("descriptor", None)
    return replace(frame, channels=names, pixels=None, facts=facts)
