"""Pixel I/O: read a frame into one in-memory convention, write it back as 16-bit.

Readers are chosen by name from :data:`BACKENDS`: ``"oiio"`` (OpenImageIO) reads DPX, Cineon
and OpenEXR; ``"tifffile"`` (tifffile with imagecodecs) reads TIFF, including the LZW that film
scanners usually write. Without a backend name the file's extension picks one
(:data:`BACKEND_BY_EXTENSION`).

The convention, the same whatever the file or the library:

* ``Frame.pixels`` is ``(height, width, channels)``, rows top to bottom as the picture is meant
  to be seen (a file's orientation flag is applied), channels in the order stored: RGB, RGBA,
  or one grey (``Y``) or alpha channel.
* Integer sources become **uint16 at full range**: a b-bit code is widened to 16 bits by bit
  replication (:func:`widen`; 1023 -> 65535, 512 -> 32800 for 10-bit). OpenImageIO does this
  for most 10-bit data but hands over 12-bit filled DPX shifted (``v << 4``) and 10-bit TIFF
  scaled and truncated; tifffile hands over raw 10/12-bit codes and leaves MinIsWhite
  uninverted. Both are normalised here, so every backend gives the same numbers.
* Float sources (EXR half or float, float TIFF) become **float32**, values as stored (scene
  values may lie outside 0..1).
* ``Frame.bit_depth`` is the file's bits per sample (8, 10, 12, 16, or 16/32/64 for float),
  taken from the file, never guessed from pixel values; ``Frame.facts`` carries the colour
  facts (DPX transfer and colorimetric, TIFF photometric, ...) and time code and key code.
* As floats, integer pixels are ``value / 65535`` (:func:`to_float`, :func:`from_float`).

Everything written is 16-bit integer (:func:`write_frame`): DPX through OpenImageIO, TIFF
through tifffile (Adobe Deflate or uncompressed). A file is written under a temporary name
beside its target and renamed into place, so a reader never sees half a file.

A library's failure (OpenImageIO answering ``None`` and leaving its reason in ``geterror()``,
tifffile raising) becomes :class:`FrameReadError` or :class:`FrameWriteError`, whose message
starts with the file's path.
"""
from __future__ import annotations

import logging
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FULL_RANGE = 65535  # the largest uint16 value: full scale for integer frames
SOFTWARE = "Reelkeeper"
TIFF_COMPRESSIONS = ("deflate", None)

_OIIO_FORMATS = {"openexr": "exr"}  # OpenImageIO format name -> ours, where they differ

# OpenImageIO attribute -> fact name. Only facts about colour, time code and key code travel;
# the rest of the header stays in the file.
_OIIO_FACTS = {
    "dpx:Transfer": "transfer",
    "dpx:Colorimetric": "colorimetric",
    "dpx:ImageDescriptor": "descriptor",
    "dpx:Packing": "packing",
    "dpx:TimeCode": "timecode",
    "dpx:FramePosition": "frame_position",
    "dpx:FrameRate": "frame_rate",
    "smpte:KeyCode": "keycode",
    "cineon:ImageDescriptor": "descriptor",
    "cineon:Packing": "packing",
    "oiio:ColorSpace": "colorspace",  # OpenImageIO's reading of the header, not a header field
    "compression": "compression",
}
_INDUSTRY_FACTS = ("timecode", "frame_position", "frame_rate", "keycode")
_DEFAULT_CHANNELS = {1: ("Y",), 2: ("Y", "A"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "A")}


class FramePathError(OSError):
    """A frame could not be read or written. The message starts with the file's path, then
    says why.

    Parameters
    ----------
    path : Path or str
        The file concerned (kept as ``.path``).
    what : str
        What failed, including the library's own words where it gave any.
    """

    def __init__(self, path: Path | str, what: str) -> None:
        self.path = Path(path)
        self.what = what
        super().__init__(f"{path}: {what}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.what))


class FrameReadError(FramePathError):
    """A frame could not be read."""


class FrameWriteError(FramePathError):
    """A frame could not be written."""


@dataclass
class Frame:
    """One picture in the in-memory convention.

    Attributes
    ----------
    pixels : numpy.ndarray
        ``(height, width, channels)``, rows top to bottom, channels in stored order (see
        `channels`). uint16 at full range 0..65535 for integer sources (b-bit codes widened by
        bit replication); float32 with values as stored for float sources.
    bit_depth : int
        Bits per sample in the source file (8, 10, 12, 16 for integers; 16, 32, 64 for half,
        float, double).
    channels : tuple of str
        Channel names in array order, e.g. ``("R", "G", "B")``, ``("R", "G", "B", "A")``,
        ``("Y",)``.
    source : Path
        The file read (or, for a frame built in memory, where it is meant to go).
    format : str
        ``"dpx"``, ``"cineon"``, ``"exr"`` or ``"tiff"`` (another OpenImageIO format name when
        OpenImageIO was asked to read something else).
    facts : dict
        Facts that travel with the pixels: ``stored`` (sample type in the file, e.g.
        ``"uint10"``, ``"half"``), ``orientation`` (the file's flag, already applied); for DPX
        ``transfer``, ``colorimetric``, ``descriptor``, ``packing``, ``timecode``,
        ``frame_position``, ``frame_rate``, ``keycode`` (the last four only when the file has
        industry headers); ``colorspace`` (OpenImageIO's reading of the header, where it
        offers one); for TIFF ``photometric``,
        ``inverted`` (MinIsWhite turned into MinIsBlack), ``planar``, ``compression``,
        ``alpha`` (``"associated"``/``"unassociated"``), ``icc_profile`` (bytes); for EXR
        ``compression``, ``data_window`` and ``display_window`` as ``(x, y, width, height)``.
    """

    pixels: np.ndarray
    bit_depth: int
    channels: tuple[str, ...]
    source: Path
    format: str
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def is_float(self) -> bool:
        """True when the pixels are float32 values as stored, False for uint16 full range."""
        return bool(np.issubdtype(self.pixels.dtype, np.floating))


# ----------------------------------------------------------------------------- conversions


def widen(codes: np.ndarray, bits: int) -> np.ndarray:
    """Widen `bits`-bit integer codes to 16 bits by bit replication.

    The code is repeated from the top bit down until 16 bits are filled, so 0 stays 0, the top
    code becomes 65535 and the steps stay as even as 16 bits allow. For ``bits >= 8`` this is
    ``(v << (16 - bits)) | (v >> (2 * bits - 16))``: 10-bit 512 -> 32800, 1023 -> 65535;
    12-bit 4095 -> 65535; 8-bit v -> v * 257.

    Parameters
    ----------
    codes : numpy.ndarray
        Unsigned (or bool) integer codes in ``0 .. 2**bits - 1``, any shape.
    bits : int
        Bits per code, 1 to 16.

    Returns
    -------
    numpy.ndarray
        uint16, same shape, full range 0..65535 (a new array).
    """
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be 1 to 16, not {bits}")
    codes = np.asarray(codes)
    if codes.dtype != np.bool_ and not np.issubdtype(codes.dtype, np.unsignedinteger):
        raise TypeError(f"codes must be unsigned integers, not {codes.dtype}")
    if codes.size and int(codes.max()) >> bits:
        raise ValueError(f"codes go up to {int(codes.max())}, beyond {bits}-bit range")
    if bits == 16:
        return codes.astype(np.uint16)
    v = codes.astype(np.uint32)
    out = np.zeros(v.shape, np.uint32)
    shift = 16 - bits
    while shift > -bits:
        out |= (v << shift) if shift >= 0 else (v >> -shift)
        shift -= bits
    return out.astype(np.uint16)


def to_float(pixels: np.ndarray) -> np.ndarray:
    """Integer pixels as floats: uint16 ``v`` -> float32 ``v / 65535`` (0.0 .. 1.0).

    Float input is returned as float32, values unchanged.
    """
    pixels = np.asarray(pixels)
    if np.issubdtype(pixels.dtype, np.floating):
        return pixels.astype(np.float32, copy=False)
    if pixels.dtype != np.uint16:
        raise TypeError(f"expected uint16 full-range or float pixels, not {pixels.dtype}")
    return pixels.astype(np.float32) / np.float32(FULL_RANGE)


def from_float(pixels: np.ndarray) -> np.ndarray:
    """Float pixels as uint16 full range: ``round(clip(v, 0, 1) * 65535)``; NaN becomes 0,
    +inf 65535 and -inf 0.

    Rounding is to nearest (ties to even), so ``from_float(to_float(x)) == x`` for uint16 x.
    """
    pixels = np.asarray(pixels)
    if not np.issubdtype(pixels.dtype, np.floating):
        raise TypeError(f"expected float pixels, not {pixels.dtype}")
    work = pixels.astype(np.float64 if pixels.dtype == np.float64 else np.float32)
    work = np.nan_to_num(work, nan=0.0, posinf=1.0, neginf=0.0)
    np.clip(work, 0.0, 1.0, out=work)
    work *= FULL_RANGE
    return np.rint(work).astype(np.uint16)


def orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn pixels stored with an EXIF/TIFF `orientation` flag (1-8) into display order.

    1 is already top-to-bottom, left-to-right; 4 (DPX "bottom to top") is flipped vertically.
    Returns a view where possible.
    """
    steps: dict[int, Callable[[np.ndarray], np.ndarray]] = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    if orientation not in steps:
        log.warning("unknown orientation %r, pixels left as stored", orientation)
        return pixels
    return steps[orientation](pixels)


def _plain(value: Any) -> Any:
    """A header value as a fact, or None where the header leaves it undefined or unreadable."""
    if isinstance(value, str):
        text = value.strip()
        # ST 268 fills an undefined text field with 0xFF bytes (surrogates once decoded)
        if not text or any(not ch.isprintable() for ch in text):
            return None
        return text
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return None if value == 0xFFFFFFFF else value
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return value
    return None


# ----------------------------------------------------------------------------- reading


def _has_industry_headers(path: Path) -> bool:
    """Whether a DPX file holds the film and TV headers (a writer may leave them out: FFmpeg
    starts its image data at byte 1664, where OpenImageIO still looks for a time code)."""
    from restoration.dpx import HEADER_SIZE, DpxError, parse_header

    with open(path, "rb") as fh:
        head = fh.read(HEADER_SIZE)
    try:
        return parse_header(head, name=str(path)).has_industry_headers
    except DpxError:
        return True  # OpenImageIO read the file; leave its reading of the header alone


def _fill_luma10_line_ends(path: Path, subimage: int, pixels: np.ndarray) -> np.ndarray:
    """Decode a 1-channel filled 10-bit DPX element whose width is not a multiple of 3.

    OpenImageIO 3.2 returns 0 for the samples in the last, partly filled 32-bit word of each
    line of such files (big-endian scanner output: Lasergraphics, Scanity), so a 2048-wide
    luma scan would lose its last two columns. Here the element is decoded from its bytes:
    lines start on word boundaries, three samples a word, the first sample in the low bits,
    above 2 padding bits for method A, below them for method B. The columns OpenImageIO does
    decode must agree exactly with this reading, or the frame is refused.
    """
    from restoration.dpx import DpxError, line_size, read_dpx_header

    try:
        header = read_dpx_header(path)
        element = header.elements[subimage]
    except (DpxError, IndexError) as exc:
        raise FrameReadError(path, f"cannot check the line ends of its 10-bit luma: {exc}") from exc
    height, width = pixels.shape[:2]
    words = -(-width // 3)
    padding = element.eol_padding if element.eol_padding != 0xFFFFFFFF else 0
    stride = line_size(width, 1, 10, element.packing) + padding
    with open(path, "rb") as fh:
        fh.seek(element.data_offset)
        raw = fh.read((height - 1) * stride + words * 4)
    if len(raw) < (height - 1) * stride + words * 4:
        raise FrameReadError(path, "10-bit luma data ends before its last line")
    order = ">" if header.byte_order == "big" else "<"
    lines = np.stack([np.frombuffer(raw, f"{order}u4", count=words, offset=row * stride)
                      for row in range(height)]).astype(np.uint32)
    low = 2 if element.packing == 1 else 0
    codes = np.stack([(lines >> (low + 10 * k)) & 0x3FF for k in range(3)], axis=-1)
    codes = codes.reshape(height, words * 3)[:, :width].astype(np.uint16)
    done = width - width % 3  # the columns OpenImageIO decodes
    if not np.array_equal(codes[:, :done], pixels[:, :done, 0] >> 6):
        raise FrameReadError(path, "OpenImageIO leaves the line ends of this 10-bit luma DPX "
                             "empty, and decoding them here does not agree with the rest")
    log.debug("%s: decoded the last %d columns of 10-bit luma outside OpenImageIO", path,
              width - done)
    return widen(codes, 10)[..., np.newaxis]


def _read_oiio(path: Path, subimage: int) -> Frame:
    import OpenImageIO as oiio

    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        reason = oiio.geterror() or "no reason given"
        raise FrameReadError(path, f"OpenImageIO cannot open it: {reason}")
    try:
        if subimage and not inp.seek_subimage(subimage, 0):
            raise FrameReadError(path, f"has no subimage {subimage}: {inp.geterror()}")
        spec = inp.spec()
        fmt = _OIIO_FORMATS.get(inp.format_name(), inp.format_name())
        if spec.depth > 1 or spec.deep:
            raise FrameReadError(path, "is a volume or deep image, not a frame")
        formats = list(spec.channelformats) or [spec.format]
        floats = [f.basetype in (oiio.HALF, oiio.FLOAT, oiio.DOUBLE) for f in formats]
        if any(floats):
            bit_depth = max(f.size() for f in formats) * 8
            stored = str(spec.format)
            request = "float"
        else:
            if any(f.basetype not in (oiio.UINT8, oiio.UINT16) for f in formats):
                raise FrameReadError(path, f"has {spec.format} samples; only unsigned integers "
                                     "up to 16 bits or floats are read")
            bit_depth = spec.get_int_attribute("oiio:BitsPerSample", 0) or spec.format.size() * 8
            stored = f"uint{bit_depth}"
            request = "uint16"
        pixels = inp.read_image(subimage, 0, 0, spec.nchannels, request)
        if pixels is None:
            raise FrameReadError(path, "OpenImageIO could not read the pixels: "
                                 f"{inp.geterror() or oiio.geterror() or 'no reason given'}")
        orientation = spec.get_int_attribute("Orientation", 1)
        facts: dict[str, object] = {"stored": stored, "orientation": orientation}
        for attr, key in _OIIO_FACTS.items():
            raw = spec.getattribute(attr)
            value = tuple(raw) if isinstance(raw, list) else raw
            if key == "descriptor" and isinstance(value, tuple):  # Cineon: one per channel
                value = ", ".join(v for v in value if isinstance(v, str)) or None
            value = _plain(value)
            if value is not None:
                facts[key] = value
        if fmt == "dpx" and not _has_industry_headers(path):
            for key in _INDUSTRY_FACTS:  # OpenImageIO read them from image data
                facts.pop(key, None)
        if fmt == "exr":
            facts["data_window"] = (spec.x, spec.y, spec.width, spec.height)
            facts["display_window"] = (spec.full_x, spec.full_y, spec.full_width, spec.full_height)
        channels = tuple(spec.channelnames)
    finally:
        inp.close()

    pixels = pixels.reshape(spec.height, spec.width, spec.nchannels)
    if (fmt == "dpx" and len(channels) == 1 and bit_depth == 10 and spec.width % 3
            and str(facts.get("packing", "")).startswith("Filled")):
        pixels = _fill_luma10_line_ends(path, subimage, pixels)
    if request == "uint16" and bit_depth < 16:
        # OpenImageIO widens 12-bit filled DPX by a plain shift and 10-bit TIFF by truncated
        # scaling; the top `bit_depth` bits are the file's codes either way: replicate them.
        pixels = widen(pixels >> (16 - bit_depth), bit_depth)
    pixels = np.ascontiguousarray(orient(pixels, orientation))
    return Frame(pixels, bit_depth, channels, path, fmt, facts)


def _tiff_extent(page: Any) -> int:
    """Byte just past the last strip or tile the page refers to."""
    return max((o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n),
               default=0)


def _read_tifffile(path: Path, subimage: int) -> Frame:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            if subimage >= len(tif.pages):
                raise FrameReadError(path, f"has no image {subimage} (it holds {len(tif.pages)})")
            page = tif.pages[subimage]
            size = path.stat().st_size
            end = _tiff_extent(page)
            if end > size:
                raise FrameReadError(path, f"is truncated: its image data runs to byte {end} "
                                     f"but the file has {size} bytes")
            data = page.asarray()
            info = {
                "bits": page.bitspersample,
                "sampleformat": int(page.sampleformat),
                "photometric": int(page.photometric),
                "planar": int(page.planarconfig),
                "compression": tifffile.COMPRESSION(page.compression).name.lower(),
                "extrasamples": tuple(int(e) for e in page.extrasamples),
                "axes": page.axes,
                "colormap": page.colormap,
                "orientation": int(page.tags[274].value) if 274 in page.tags else 1,
                "icc_profile": page.iccprofile,
            }
    except FrameReadError:
        raise
    except Exception as exc:  # tifffile and imagecodecs raise many kinds; all mean "unreadable"
        raise FrameReadError(path, f"tifffile could not read it: {exc}") from exc
    return _tiff_frame(path, data, info)


def _tiff_frame(path: Path, data: np.ndarray, info: dict[str, Any]) -> Frame:
    """Normalise what tifffile decoded into the frame convention."""
    import tifffile

    ph = tifffile.PHOTOMETRIC
    bits, photometric = info["bits"], info["photometric"]
    if info["axes"] == "SYX":  # planar (separate) samples
        data = np.moveaxis(data, 0, -1)
    elif info["axes"] == "YX":
        data = data[..., np.newaxis]
    elif info["axes"] != "YXS":
        raise FrameReadError(path, f"has an image layout tifffile calls {info['axes']!r}, "
                             "not a frame")
    extras = info["extrasamples"]
    facts: dict[str, object] = {
        "photometric": ph(photometric).name.lower(),
        "planar": "separate" if info["planar"] == 2 else "contig",
        "compression": info["compression"],
        "orientation": info["orientation"],
    }
    if info["icc_profile"]:
        facts["icc_profile"] = bytes(info["icc_profile"])
    if 1 in extras or 2 in extras:
        facts["alpha"] = "associated" if 1 in extras else "unassociated"

    if photometric in (ph.MINISBLACK, ph.MINISWHITE, ph.PALETTE):
        base: tuple[str, ...] = ("Y",)
    elif photometric == ph.RGB or (photometric == ph.YCBCR and info["compression"] == "jpeg"):
        base = ("R", "G", "B")  # the JPEG codec hands YCbCr over as RGB
    else:
        raise FrameReadError(path, f"has photometric {facts['photometric']}; only grey, RGB "
                             "and palette TIFF are read")
    names = [("A" if e in (1, 2) else f"X{i}") for i, e in enumerate(extras)]
    channels = (base + tuple(names))[: data.shape[-1]]
    channels += tuple(f"X{i}" for i in range(len(channels), data.shape[-1]))

    if info["sampleformat"] == 3:  # IEEE float
        facts["stored"] = f"float{bits}"
        if photometric == ph.MINISWHITE:
            log.warning("%s: float MinIsWhite TIFF read as stored, not inverted", path)
            facts["inverted"] = False
        pixels = data.astype(np.float32)
        bit_depth = bits
    elif info["sampleformat"] == 1 and bits <= 16:
        facts["stored"] = f"uint{bits}"
        codes = data.astype(np.uint16) if data.dtype == np.bool_ else data
        if photometric == ph.PALETTE:
            # a palette holds 16-bit RGB; the index is not a sample value
            pixels = np.ascontiguousarray(np.asarray(info["colormap"]).T[codes[..., 0]])
            channels, bit_depth = ("R", "G", "B"), 16
        else:
            if photometric == ph.MINISWHITE:
                codes = ((1 << bits) - 1) - codes.astype(np.uint16)
                facts["inverted"] = True
            pixels = widen(codes, bits)
            bit_depth = bits
    else:
        kind = {2: "signed integer", 1: "unsigned integer"}.get(info["sampleformat"], "unknown")
        raise FrameReadError(path, f"has {bits}-bit {kind} samples; only unsigned integers up "
                             "to 16 bits or floats are read")
    pixels = np.ascontiguousarray(orient(pixels, info["orientation"]))
    return Frame(pixels, bit_depth, channels, path, "tiff", facts)


BACKENDS: Mapping[str, Callable[[Path, int], Frame]] = {
    "oiio": _read_oiio,
    "tifffile": _read_tifffile,
}
BACKEND_BY_EXTENSION = {
    ".dpx": "oiio", ".cin": "oiio", ".exr": "oiio", ".tif": "tifffile", ".tiff": "tifffile",
}


def read_frame(path: Path | str, backend: str | None = None, *, subimage: int = 0) -> Frame:
    """Read one frame into the in-memory convention (see :class:`Frame`).

    Parameters
    ----------
    path : Path or str
        DPX, Cineon, OpenEXR or TIFF file.
    backend : str, optional
        ``"oiio"`` or ``"tifffile"``; by default chosen from the extension
        (``.dpx``/``.cin``/``.exr`` -> oiio, ``.tif``/``.tiff`` -> tifffile).
    subimage : int
        Which image of a multi-image file (a stereo DPX's element, a TIFF's page); 0 is the
        first.

    Returns
    -------
    Frame
        Pixels ``(height, width, channels)``: uint16 full range for integer sources (b-bit
        codes widened by bit replication), float32 for float sources; with bit depth,
        channel names and colour facts from the file.

    Raises
    ------
    FrameReadError
        The file is missing, not an image, truncated or in a form we do not read; the message
        starts with the path.
    ValueError
        `backend` is not one of :data:`BACKENDS`.
    """
    path = Path(path)
    name = backend or BACKEND_BY_EXTENSION.get(path.suffix.lower())
    if name is None:
        raise FrameReadError(path, f"no reader for {path.suffix or 'files without an extension'}"
                             f"; name a backend ({', '.join(BACKENDS)})")
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
    if not path.exists():
        raise FrameReadError(path, "no such file")
    if not path.is_file():
        raise FrameReadError(path, "is not a regular file")
    frame = BACKENDS[name](path, subimage)
    log.debug("%s: read %s %s %d-bit %s with %s", path, frame.format,
              "x".join(map(str, frame.pixels.shape)), frame.bit_depth, "".join(frame.channels),
              name)
    return frame


# ----------------------------------------------------------------------------- writing


def _timecode_word(text: object) -> int | None:
    """``"HH:MM:SS:FF"`` (``;`` before FF for drop frame) as the SMPTE 12M BCD word DPX
    stores, drop-frame flag included; None for anything else."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"(\d\d):(\d\d):(\d\d)([:;])(\d\d)", text)
    if match is None:
        return None
    word = 0
    for group in (1, 2, 3, 5):
        tens, units = divmod(int(match.group(group)), 10)
        word = (word << 8) | (tens << 4) | units
    return word | (0x40 if match.group(4) == ";" else 0)


def _write_dpx(data: np.ndarray, tmp: Path, target: Path, channels: tuple[str, ...],
               facts: Mapping[str, object], compression: str | None) -> None:
    import OpenImageIO as oiio

    height, width, nchannels = data.shape
    if nchannels not in (1, 3, 4):
        raise ValueError(f"{target}: DPX takes 1, 3 or 4 channels, not {nchannels}")
    spec = oiio.ImageSpec(width, height, nchannels, "uint16")
    spec.channelnames = channels
    spec.attribute("oiio:BitsPerSample", 16)
    spec.attribute("Software", SOFTWARE)
    for key, attr in (("transfer", "dpx:Transfer"), ("colorimetric", "dpx:Colorimetric")):
        if isinstance(facts.get(key), str):
            spec.attribute(attr, str(facts[key]))
    word = _timecode_word(facts.get("timecode"))
    if word is not None:  # as a word: OpenImageIO drops the drop-frame ";" of a string
        spec.attribute("smpte:TimeCode", oiio.TypeTimeCode, (word, 0))
    if isinstance(facts.get("frame_position"), int):
        spec.attribute("dpx:FramePosition", oiio.TypeDesc("uint"), int(facts["frame_position"]))
    if isinstance(facts.get("frame_rate"), float):
        spec.attribute("dpx:FrameRate", float(facts["frame_rate"]))
    keycode = facts.get("keycode")
    if isinstance(keycode, tuple) and len(keycode) == 7:
        spec.attribute("smpte:KeyCode", oiio.TypeKeyCode, keycode)
    out = oiio.ImageOutput.create("dpx")
    if out is None:
        raise FrameWriteError(target, f"OpenImageIO has no DPX writer: {oiio.geterror()}")
    if not out.open(str(tmp), spec):
        raise FrameWriteError(target, f"OpenImageIO cannot create {tmp.name}: {out.geterror()}")
    written = out.write_image(data)
    closed = out.close()
    if not (written and closed):
        raise FrameWriteError(target, f"OpenImageIO could not write {tmp.name}: {out.geterror()}")
    _set_dpx_filename(tmp, target.name)


DPX_FILENAME = slice(36, 136)  # ST 268 file information header: image file name, 100 bytes


def _set_dpx_filename(path: Path, name: str) -> None:
    """Put the final name in the header (the writer put the temporary one there), so the same
    pixels always give the same bytes, whatever temporary name was used."""
    field = name.encode("utf-8")[: DPX_FILENAME.stop - DPX_FILENAME.start - 1]
    with open(path, "r+b") as fh:
        fh.seek(DPX_FILENAME.start)
        fh.write(field.ljust(DPX_FILENAME.stop - DPX_FILENAME.start, b"\0"))


def _write_tiff(data: np.ndarray, tmp: Path, target: Path, channels: tuple[str, ...],
                facts: Mapping[str, object], compression: str | None) -> None:
    import tifffile

    nchannels = data.shape[-1]
    grey = nchannels < 3  # 1 or 2 channels: grey (and alpha); 3 or 4: RGB (and alpha)
    base = 1 if grey else 3
    alpha = 1 if facts.get("alpha") == "associated" else 2  # TIFF ExtraSamples values
    extras = [alpha if name == "A" else 0 for name in channels[base:]]
    icc = facts.get("icc_profile")
    try:
        tifffile.imwrite(
            tmp, data if nchannels > 1 else data[..., 0],
            photometric="minisblack" if grey else "rgb",
            planarconfig="contig" if nchannels > 1 else None,
            extrasamples=extras or None,
            compression=tifffile.COMPRESSION.ADOBE_DEFLATE if compression == "deflate" else None,
            predictor=compression == "deflate",
            iccprofile=icc if isinstance(icc, bytes) else None,
            software=SOFTWARE,
            metadata=None,
        )
    except Exception as exc:  # tifffile/imagecodecs/OS errors: name the target
        raise FrameWriteError(target, f"tifffile could not write {tmp.name}: {exc}") from exc


_WRITERS = {".dpx": _write_dpx, ".tif": _write_tiff, ".tiff": _write_tiff}


def _sync(path: Path, directory: bool = False) -> None:
    """Flush a file (or a directory entry) to disk; best effort for directories."""
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def write_frame(frame_or_pixels: Frame | np.ndarray, path: Path | str, *,
                like: Frame | None = None, facts: Mapping[str, object] | None = None,
                compression: str | None = "deflate") -> None:
    """Write a frame as a 16-bit integer DPX or TIFF (chosen by `path`'s extension).

    The file is written under a hidden temporary name in the target's folder, flushed, then
    renamed over `path`; if anything fails the temporary file is removed and `path` is left as
    it was.

    Parameters
    ----------
    frame_or_pixels : Frame or numpy.ndarray
        ``(height, width, channels)`` or ``(height, width)``. uint16 is written as is (full
        range); float is converted by :func:`from_float` (``round(clip(v, 0, 1) * 65535)``;
        clipped samples are logged). Channels in order: grey ``Y``, ``Y A``, ``R G B`` or
        ``R G B A`` (a Frame's own names are used; bare arrays take `like`'s names or these).
    path : Path or str
        Target ``.dpx``, ``.tif`` or ``.tiff``.
    like : Frame, optional
        Source of colour facts and channel names (default: the frame being written).
    facts : mapping, optional
        Facts that override `like`'s: ``transfer``, ``colorimetric``, ``timecode``,
        ``frame_position``, ``frame_rate``, ``keycode`` (DPX); ``alpha``, ``icc_profile``
        (TIFF).
    compression : {"deflate", None}
        TIFF only: Adobe Deflate with horizontal predictor, or uncompressed. DPX is never
        compressed.

    Raises
    ------
    FrameWriteError
        The library could not write the file; the message starts with the target path.
    ValueError, TypeError
        Unknown extension or compression, or pixels of a shape or dtype we do not write.
    """
    path = Path(path)
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ValueError(f"{path}: we write .dpx, .tif or .tiff, "
                         f"not {path.suffix or 'no extension'}")
    if compression not in TIFF_COMPRESSIONS:
        raise ValueError(f"compression must be one of {TIFF_COMPRESSIONS}, not {compression!r}")
    own = frame_or_pixels if isinstance(frame_or_pixels, Frame) else None
    pixels = np.asarray(own.pixels if own else frame_or_pixels)
    if pixels.ndim == 2:
        pixels = pixels[..., np.newaxis]
    if pixels.ndim != 3 or pixels.shape[-1] not in _DEFAULT_CHANNELS or 0 in pixels.shape:
        raise ValueError(f"{path}: pixels must be (height, width, 1-4 channels), "
                         f"not {pixels.shape}")
    if np.issubdtype(pixels.dtype, np.floating):
        outside = int(np.count_nonzero(~((pixels >= 0) & (pixels <= 1))))
        if outside:
            log.warning("%s: %d float samples outside 0..1 clipped (NaN written as 0)", path,
                        outside)
        data = from_float(pixels)
    elif pixels.dtype == np.uint16:
        data = np.ascontiguousarray(pixels)
    else:
        raise TypeError(f"{path}: pixels must be uint16 full range or float, not {pixels.dtype}; "
                        "widen integer codes first")
    ref = like or own
    merged: dict[str, object] = {**(ref.facts if ref else {}), **(facts or {})}
    nchannels = data.shape[-1]
    if own is not None and len(own.channels) == nchannels:
        channels = own.channels
    elif like is not None and len(like.channels) == nchannels:
        channels = like.channels
    else:
        channels = _DEFAULT_CHANNELS[nchannels]

    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.part{path.suffix}")
    try:
        writer(data, tmp, path, channels, merged, compression)
        _sync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync(path.parent, directory=True)
    log.debug("%s: wrote 16-bit %s %s", path, "".join(channels), "x".join(map(str, data.shape)))
