"""DPX headers, read from bytes as SMPTE ST 268 lays them out (versions V1.0 and V2.0).

A DPX file starts with fixed-size headers, all numbers in the file's byte order (the magic
number tells which: ``b"SDPX"`` big-endian, ``b"XPDS"`` little-endian):

======  =====  ===========================================================
offset  bytes  header
======  =====  ===========================================================
0       768    generic file information (magic, offsets, version, creator...)
768     640    generic image information (orientation, size, 8 image elements)
1408    256    generic orientation information (offsets, source, input device)
1664    256    industry: motion-picture film (key code, frame position, rate)
1920    128    industry: television (time code, interlace, rates)
2048    ...    user data, then image data at the image offset
======  =====  ===========================================================

The two industry headers are optional: a writer that leaves them out (FFmpeg does) starts the
image data at byte 1664. They are read only when the image data starts at or after byte 2048
(or, when no offset is set, when the industry header size field says they are there).

ST 268 marks a field "undefined" by setting all its bits: 0xFF.. for integers and the bit
pattern 0xFFFFFFFF (a NaN) for floats. Those read as ``None`` here; so does any non-finite
float. Text fields end at the first NUL; a field of 0xFF bytes is empty.

Nothing here decodes pixels. :func:`check_frame` checks that a frame's header is sound and
that the image data it describes is in the file, and looks at the padding bits of filled
10- and 12-bit data. Functions take bytes; only :func:`read_dpx_header` opens a file.
"""
from __future__ import annotations

import logging
import math
import os
import struct
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

MAGIC_BIG = b"SDPX"
MAGIC_LITTLE = b"XPDS"
HEADER_SIZE = 2048  # generic + industry headers, bytes
CORE_HEADER_SIZE = 1664  # generic headers only (file, image, orientation), bytes
ELEMENT_OFFSET = 780  # first image element structure, bytes from the start of the file
ELEMENT_SIZE = 72  # bytes per image element structure
MAX_ELEMENTS = 8
KNOWN_VERSIONS = ("V1.0", "V2.0")
BIT_DEPTHS = (1, 8, 10, 12, 16, 32, 64)

_U8_UNDEFINED = 0xFF
_U16_UNDEFINED = 0xFFFF
_U32_UNDEFINED = 0xFFFFFFFF

DESCRIPTORS: dict[int, str] = {
    0: "user defined",
    1: "red (R)",
    2: "green (G)",
    3: "blue (B)",
    4: "alpha (A)",
    6: "luma (Y)",
    7: "colour difference (CbCr)",
    8: "depth (Z)",
    9: "composite video",
    50: "RGB",
    51: "RGBA",
    52: "ABGR",
    100: "CbYCrY (4:2:2)",
    101: "CbYaCrYa (4:2:2:4)",
    102: "CbYCr (4:4:4)",
    103: "CbYCrA (4:4:4:4)",
    **{150 + n - 2: f"user defined {n}-component" for n in range(2, 9)},
}

# Samples stored per pixel for each descriptor. 4:2:2 data holds 2 samples a pixel (CbY, CrY),
# 4:2:2:4 holds 3 (CbYa, CrYa); colour difference (CbCr) alternates Cb and Cr, one a pixel.
SAMPLES_PER_PIXEL: dict[int, int] = {
    0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 6: 1, 7: 1, 8: 1, 9: 1,
    50: 3, 51: 4, 52: 4,
    100: 2, 101: 3, 102: 3, 103: 4,
    **{150 + n - 2: n for n in range(2, 9)},
}

# Transfer characteristic and colorimetric specification share one table in ST 268.
CHARACTERISTICS: dict[int, str] = {
    0: "user defined",
    1: "printing density",
    2: "linear",
    3: "logarithmic",
    4: "unspecified video",
    5: "SMPTE 274M",
    6: "ITU-R 709-4",
    7: "ITU-R 601-5 B/G",
    8: "ITU-R 601-5 M",
    9: "NTSC composite",
    10: "PAL composite",
    11: "Z linear",
    12: "Z homogeneous",
    13: "ADX",
    255: "undefined",
}

PACKINGS: dict[int, str] = {0: "packed", 1: "filled, method A", 2: "filled, method B"}


class DpxError(ValueError):
    """A header that cannot be read; the message starts with the file's name, says what is
    wrong and what was expected."""


@dataclass(frozen=True)
class Keycode:
    """A film key code (edge code) from the film industry header, each part as stored (ASCII
    digits normally)."""

    manufacturer: str  # film manufacturer id, 2 characters
    film_type: str  # 2 characters
    perf_offset: str  # offset of the frame from the key, in perforations, 2 characters
    prefix: str  # 6 characters
    count: str  # 4 characters

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.film_type} {self.prefix} {self.count} +{self.perf_offset}"


@dataclass(frozen=True)
class ImageElement:
    """One of the (up to 8) image element structures of the image information header.

    Code values (``low_data``, ``high_data``) are in the element's sample units; quantities are
    whatever the writer's reference is (``None`` when undefined). Offsets and paddings are bytes.
    """

    data_sign: int  # 0 unsigned, 1 signed
    low_data: int
    low_quantity: float | None
    high_data: int
    high_quantity: float | None
    descriptor: int
    transfer: int
    colorimetric: int
    bit_depth: int  # bits per sample
    packing: int  # 0 packed, 1 filled method A, 2 filled method B
    encoding: int  # 0 none, 1 run-length
    data_offset: int  # bytes from the start of the file
    eol_padding: int  # bytes at the end of each line
    eoi_padding: int  # bytes at the end of the element
    description: str

    @property
    def channels(self) -> int:
        """Samples per pixel for this element's descriptor; 0 when the descriptor is unknown."""
        return SAMPLES_PER_PIXEL.get(self.descriptor, 0)

    @property
    def descriptor_name(self) -> str:
        return DESCRIPTORS.get(self.descriptor, f"unknown ({self.descriptor})")

    @property
    def transfer_name(self) -> str:
        return CHARACTERISTICS.get(self.transfer, f"unknown ({self.transfer})")

    @property
    def colorimetric_name(self) -> str:
        return CHARACTERISTICS.get(self.colorimetric, f"unknown ({self.colorimetric})")

    @property
    def packing_name(self) -> str:
        return PACKINGS.get(self.packing, f"unknown ({self.packing})")


@dataclass(frozen=True)
class DpxHeader:
    """Everything in a DPX file's headers. Sizes and offsets are bytes; rates are frames per
    second; angles are degrees. ``None`` means undefined (or, for the film and television
    fields, that the file has no industry headers)."""

    # generic file information
    byte_order: str  # "big" | "little"
    version: str  # as stored, without NULs: "V2.0", "V1.0", "v2.0"...; "" if empty
    image_offset: int
    file_size_field: int  # the total file size the header claims
    ditto_key: int
    generic_size: int
    industry_size: int
    user_size: int
    filename: str
    creation_time: str  # as stored, "YYYY:MM:DD:hh:mm:ssLTZ"
    creator: str
    project: str
    copyright: str
    encryption_key: int  # 0xFFFFFFFF = not encrypted
    # generic image information
    orientation: int  # 0 = left to right, top to bottom
    element_count: int
    width: int  # pixels per line
    height: int  # lines per element
    elements: tuple[ImageElement, ...]
    # generic orientation information
    x_offset: int | None
    y_offset: int | None
    x_center: float | None
    y_center: float | None
    x_original_size: int | None
    y_original_size: int | None
    source_filename: str
    source_time: str
    input_device: str
    input_serial: str
    border: tuple[int | None, int | None, int | None, int | None]  # XL, XR, YT, YB validity, px
    aspect_ratio: tuple[int | None, int | None]  # horizontal, vertical
    # industry headers present at all (bytes 1664-2047 are header, not image data)
    has_industry_headers: bool
    # motion-picture film information
    keycode: Keycode | None
    film_format: str
    frame_position: int | None
    sequence_length: int | None
    held_count: int | None
    film_frame_rate: float | None
    shutter_angle: float | None
    frame_id: str
    slate: str
    # television information
    timecode: str | None  # "HH:MM:SS:FF" (";" before FF when the drop-frame flag is set)
    user_bits: int | None
    interlace: int | None
    field_number: int | None
    video_signal: int | None
    horizontal_sample_rate: float | None  # Hz
    vertical_sample_rate: float | None  # Hz
    tv_frame_rate: float | None  # temporal sampling rate
    time_offset: float | None  # ms from sync to first pixel
    gamma: float | None
    black_level: float | None  # code value
    black_gain: float | None
    break_point: float | None
    white_level: float | None  # code value
    integration_time: float | None  # s

    @property
    def fps(self) -> float | None:
        """Frames per second: the film frame rate if set (positive, finite), else the
        television temporal rate if set, else ``None``."""
        for rate in (self.film_frame_rate, self.tv_frame_rate):
            if rate is not None and rate > 0 and math.isfinite(rate):
                return rate
        return None

    @property
    def channels(self) -> int:
        """Samples per pixel of the first image element; 0 when its descriptor is unknown."""
        return self.elements[0].channels

    @property
    def descriptor_name(self) -> str:
        """ST 268 name of the first element's descriptor."""
        return self.elements[0].descriptor_name

    @property
    def transfer_name(self) -> str:
        """ST 268 name of the first element's transfer characteristic."""
        return self.elements[0].transfer_name

    @property
    def colorimetric_name(self) -> str:
        """ST 268 name of the first element's colorimetric specification."""
        return self.elements[0].colorimetric_name


@dataclass(frozen=True)
class FrameCheck:
    """What :func:`check_frame` found. ``errors``: the frame cannot be trusted; ``warnings``:
    usable but noteworthy. Every message starts with the file's name."""

    header: DpxHeader | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.header is not None and not self.errors


class _Reader:
    """Fixed-offset fields of one header buffer in one byte order."""

    def __init__(self, buf: bytes, order: str) -> None:
        self.buf = buf
        self.prefix = ">" if order == "big" else "<"

    def u8(self, offset: int) -> int:
        return self.buf[offset]

    def u16(self, offset: int) -> int:
        return int(struct.unpack_from(self.prefix + "H", self.buf, offset)[0])

    def u32(self, offset: int) -> int:
        return int(struct.unpack_from(self.prefix + "I", self.buf, offset)[0])

    def r32(self, offset: int) -> float | None:
        """A 32-bit float; ``None`` for the undefined pattern, any NaN or an infinity."""
        if self.u32(offset) == _U32_UNDEFINED:
            return None
        value = float(struct.unpack_from(self.prefix + "f", self.buf, offset)[0])
        return value if math.isfinite(value) else None

    def opt_u8(self, offset: int) -> int | None:
        value = self.u8(offset)
        return None if value == _U8_UNDEFINED else value

    def opt_u16(self, offset: int) -> int | None:
        value = self.u16(offset)
        return None if value == _U16_UNDEFINED else value

    def opt_u32(self, offset: int) -> int | None:
        value = self.u32(offset)
        return None if value == _U32_UNDEFINED else value

    def text(self, offset: int, size: int) -> str:
        return _text(self.buf[offset:offset + size])


def _text(raw: bytes) -> str:
    """An ASCII field: up to the first NUL, 0xFF fill dropped, surrounding whitespace stripped.
    Not-ASCII bytes are read as UTF-8 if they are valid UTF-8, else as Latin-1."""
    raw = raw.split(b"\0", 1)[0].rstrip(b"\xff")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.strip()


def decode_timecode(value: int) -> str | None:
    """An SMPTE 12M time code word (as ST 268 stores it: BCD hours, minutes, seconds, frames
    from the most significant byte down) as ``"HH:MM:SS:FF"``.

    The flag bits 12M keeps in the tens digits (drop frame and colour frame in the frames
    byte, field mark in the seconds byte, binary group flags in minutes and hours) are masked;
    a set drop-frame flag gives ``"HH:MM:SS;FF"``. ``None`` for 0xFFFFFFFF (undefined) and for
    a word that is not BCD or is out of range (hours > 23, minutes or seconds > 59).
    """
    if value == _U32_UNDEFINED:
        return None
    hours, minutes, seconds, frames = value.to_bytes(4, "big")
    drop_frame = bool(frames & 0x40)
    digits = []
    for byte, tens_mask in ((hours, 0x30), (minutes, 0x70), (seconds, 0x70), (frames, 0x30)):
        tens, units = (byte & tens_mask) >> 4, byte & 0x0F
        if units > 9:
            return None
        digits.append(tens * 10 + units)
    hh, mm, ss, ff = digits
    if hh > 23 or mm > 59 or ss > 59:
        return None
    return f"{hh:02d}:{mm:02d}:{ss:02d}{';' if drop_frame else ':'}{ff:02d}"


def _keycode(raw: bytes) -> Keycode | None:
    """The 16-byte key code area of the film header; ``None`` when every part is empty."""
    parts = [_text(raw[a:b]) for a, b in ((0, 2), (2, 4), (4, 6), (6, 12), (12, 16))]
    if not any(parts):
        return None
    manufacturer, film_type, perf_offset, prefix, count = parts
    return Keycode(manufacturer=manufacturer, film_type=film_type, perf_offset=perf_offset,
                   prefix=prefix, count=count)


def _element(r: _Reader, offset: int) -> ImageElement:
    return ImageElement(
        data_sign=r.u32(offset),
        low_data=r.u32(offset + 4),
        low_quantity=r.r32(offset + 8),
        high_data=r.u32(offset + 12),
        high_quantity=r.r32(offset + 16),
        descriptor=r.u8(offset + 20),
        transfer=r.u8(offset + 21),
        colorimetric=r.u8(offset + 22),
        bit_depth=r.u8(offset + 23),
        packing=r.u16(offset + 24),
        encoding=r.u16(offset + 26),
        data_offset=r.u32(offset + 28),
        eol_padding=r.u32(offset + 32),
        eoi_padding=r.u32(offset + 36),
        description=r.text(offset + 40, 32),
    )


def _set(offset: int) -> bool:
    """An offset field that holds a value (neither 0 nor undefined)."""
    return offset not in (0, _U32_UNDEFINED)


def _byte_order(buf: bytes, name: str) -> str:
    magic = bytes(buf[:4])
    if magic == MAGIC_BIG:
        return "big"
    if magic == MAGIC_LITTLE:
        return "little"
    raise DpxError(f"{name}: not a DPX file: magic {magic!r}, expected {MAGIC_BIG!r} or "
                   f"{MAGIC_LITTLE!r}")


def _industry_expected(image_offset: int, data_offset: int | None, industry_size: int) -> bool:
    """Whether bytes 1664-2047 are industry headers rather than image data."""
    offsets = [o for o in (image_offset, data_offset) if o is not None and _set(o)]
    if offsets:
        return min(offsets) >= HEADER_SIZE
    return _set(industry_size)


def parse_header(buf: bytes | memoryview, *, name: str) -> DpxHeader:
    """Read a DPX file's headers.

    Parameters
    ----------
    buf : bytes or memoryview
        At least the first 2048 bytes of the file, or the whole file when it is shorter
        (a file without industry headers may be as short as 1664 bytes plus its image data).
    name : str
        How to name the file in error messages.

    Returns
    -------
    DpxHeader
        Sizes and offsets in bytes, width and height in pixels, rates in frames per second.

    Raises
    ------
    DpxError
        When the bytes are too short for the headers, do not start with a DPX magic number,
        give an element count other than 1 to 8, or a width or height of 0.
    """
    data = bytes(buf[:HEADER_SIZE])
    if len(data) < 4:
        raise DpxError(f"{name}: truncated header: {len(data)} of {HEADER_SIZE} bytes")
    order = _byte_order(data, name)
    r = _Reader(data, order)
    if len(data) < CORE_HEADER_SIZE:
        needed = HEADER_SIZE
        if len(data) >= 32 and not _industry_expected(r.u32(4), None, r.u32(28)):
            needed = CORE_HEADER_SIZE
        raise DpxError(f"{name}: truncated header: {len(data)} of {needed} bytes")

    element_count = r.u16(770)
    if not 1 <= element_count <= MAX_ELEMENTS:
        raise DpxError(f"{name}: element count {element_count}; expected 1 to {MAX_ELEMENTS} "
                       "image elements")
    width, height = r.u32(772), r.u32(776)
    if width == 0 or height == 0:
        raise DpxError(f"{name}: image size {width} x {height} pixels; expected a width and a "
                       "height of at least 1")
    elements = tuple(_element(r, ELEMENT_OFFSET + i * ELEMENT_SIZE) for i in range(element_count))

    image_offset, industry_size = r.u32(4), r.u32(28)
    industry = _industry_expected(image_offset, elements[0].data_offset, industry_size)
    if industry and len(data) < HEADER_SIZE:
        raise DpxError(f"{name}: truncated header: {len(data)} of {HEADER_SIZE} bytes")

    film: dict[str, Any] = dict(
        keycode=None, film_format="", frame_position=None, sequence_length=None,
        held_count=None, film_frame_rate=None, shutter_angle=None, frame_id="", slate="")
    tv: dict[str, Any] = dict(
        timecode=None, user_bits=None, interlace=None, field_number=None, video_signal=None,
        horizontal_sample_rate=None, vertical_sample_rate=None, tv_frame_rate=None,
        time_offset=None, gamma=None, black_level=None, black_gain=None, break_point=None,
        white_level=None, integration_time=None)
    if industry:
        film = dict(
            keycode=_keycode(data[1664:1680]),
            film_format=r.text(1680, 32),
            frame_position=r.opt_u32(1712),
            sequence_length=r.opt_u32(1716),
            held_count=r.opt_u32(1720),
            film_frame_rate=r.r32(1724),
            shutter_angle=r.r32(1728),
            frame_id=r.text(1732, 32),
            slate=r.text(1764, 100),
        )
        tv = dict(
            timecode=decode_timecode(r.u32(1920)),
            user_bits=r.opt_u32(1924),
            interlace=r.opt_u8(1928),
            field_number=r.opt_u8(1929),
            video_signal=r.opt_u8(1930),
            horizontal_sample_rate=r.r32(1932),
            vertical_sample_rate=r.r32(1936),
            tv_frame_rate=r.r32(1940),
            time_offset=r.r32(1944),
            gamma=r.r32(1948),
            black_level=r.r32(1952),
            black_gain=r.r32(1956),
            break_point=r.r32(1960),
            white_level=r.r32(1964),
            integration_time=r.r32(1968),
        )

    return DpxHeader(
        byte_order=order,
        version=data[8:16].split(b"\0", 1)[0].rstrip(b"\xff").decode("latin-1"),
        image_offset=image_offset,
        file_size_field=r.u32(16),
        ditto_key=r.u32(20),
        generic_size=r.u32(24),
        industry_size=industry_size,
        user_size=r.u32(32),
        filename=r.text(36, 100),
        creation_time=r.text(136, 24),
        creator=r.text(160, 100),
        project=r.text(260, 200),
        copyright=r.text(460, 200),
        encryption_key=r.u32(660),
        orientation=r.u16(768),
        element_count=element_count,
        width=width,
        height=height,
        elements=elements,
        x_offset=r.opt_u32(1408),
        y_offset=r.opt_u32(1412),
        x_center=r.r32(1416),
        y_center=r.r32(1420),
        x_original_size=r.opt_u32(1424),
        y_original_size=r.opt_u32(1428),
        source_filename=r.text(1432, 100),
        source_time=r.text(1532, 24),
        input_device=r.text(1556, 32),
        input_serial=r.text(1588, 32),
        border=(r.opt_u16(1620), r.opt_u16(1622), r.opt_u16(1624), r.opt_u16(1626)),
        aspect_ratio=(r.opt_u32(1628), r.opt_u32(1632)),
        has_industry_headers=industry,
        **film,
        **tv,
    )


def read_dpx_header(path: str | os.PathLike[str]) -> DpxHeader:
    """Read the headers of the DPX file at ``path`` (its first 2048 bytes).

    Raises
    ------
    DpxError
        As :func:`parse_header`; the message names the path.
    OSError
        When the file cannot be read.
    """
    with open(path, "rb") as f:
        buf = f.read(HEADER_SIZE)
    return parse_header(buf, name=os.fspath(path))


def line_size(width: int, channels: int, bit_depth: int, packing: int) -> int:
    """Bytes of one line of image data, before any end-of-line padding.

    Lines start on 32-bit word boundaries. Packed data (packing 0) runs its samples together
    bit after bit; filled 10-bit data holds three samples a 32-bit word; filled 12-bit data one
    sample a 16-bit word. 1, 8, 16, 32 and 64-bit samples fill words the same either way.
    """
    samples = width * channels
    if bit_depth == 10 and packing in (1, 2):
        words = -(-samples // 3)
    elif bit_depth == 12 and packing in (1, 2):
        words = -(-samples // 2)
    else:
        words = -(-(samples * bit_depth) // 32)
    return words * 4


def continuous_size(width: int, height: int, channels: int, bit_depth: int, packing: int) -> int:
    """Bytes of image data stored as one stream with no padding at the ends of lines (a
    layout some writers use, e.g. for 10-bit luma), rounded up to a whole byte, or to a whole
    32-bit word for filled 10-bit data."""
    samples = width * height * channels
    if bit_depth == 10 and packing in (1, 2):
        return -(-samples // 3) * 4
    if bit_depth == 12 and packing in (1, 2):
        return samples * 2
    return -(-(samples * bit_depth) // 8)


def image_data_size(width: int, height: int, channels: int, bit_depth: int, packing: int,
                    eol_padding: int = 0) -> int:
    """Bytes of one image element's data laid out as ST 268 describes: ``height`` lines, each
    word-aligned (:func:`line_size`) and followed by ``eol_padding`` bytes."""
    if eol_padding == _U32_UNDEFINED:
        eol_padding = 0
    return height * (line_size(width, channels, bit_depth, packing) + eol_padding)


def _padding_problem(buf: bytes | memoryview, offset: int, element: ImageElement, width: int,
                     height: int, order: str, aligned: bool) -> str | None:
    """Count words of filled 10/12-bit data whose padding bits are not zero.

    Only the image data in ``buf`` is looked at (nothing when it is not all there).
    Returns a description of the problem, or ``None``.
    """
    import numpy as np

    depth, packing, channels = element.bit_depth, element.packing, element.channels
    if depth == 10:
        word_bytes, mask = 4, (0x3 if packing == 1 else 0xC0000000)
        bits = "low 2 bits" if packing == 1 else "top 2 bits"
    else:
        word_bytes, mask = 2, (0xF if packing == 1 else 0xF000)
        bits = "low 4 bits" if packing == 1 else "top 4 bits"
    dtype = np.dtype(("<" if order == "little" else ">") + f"u{word_bytes}")
    if aligned:
        eol = 0 if element.eol_padding == _U32_UNDEFINED else element.eol_padding
        line = line_size(width, channels, depth, packing)
        total = height * (line + eol)
        if offset + total > len(buf):
            return None
        rows = np.frombuffer(buf, dtype=np.uint8, count=total, offset=offset)
        words = np.ascontiguousarray(rows.reshape(height, line + eol)[:, :line]).view(dtype)
    else:
        total = continuous_size(width, height, channels, depth, packing)
        total -= total % word_bytes
        if offset + total > len(buf):
            return None
        words = np.frombuffer(buf, dtype=dtype, count=total // word_bytes, offset=offset)
    # Fast path for the usual, clean frame: OR every word together in native byte order (no
    # byte swapping, no temporary array) and look at the padding bits of the result once.
    native = words.view(dtype.newbyteorder("="))
    swapped_mask = mask if dtype.isnative else int(
        np.array(mask, dtype=native.dtype).byteswap())
    if not int(np.bitwise_or.reduce(native, axis=None)) & swapped_mask:
        return None
    bad = int(np.count_nonzero(words & dtype.type(mask)))
    if not bad:
        return None
    method = "A" if packing == 1 else "B"
    return (f"padding bits are not zero in {bad} of {words.size} {word_bytes * 8}-bit words "
            f"({depth}-bit filled method {method} keeps them in the {bits}); the samples are "
            "usable but the file does not follow ST 268")


def check_frame(buf: bytes | memoryview, *, name: str, file_size: int) -> FrameCheck:
    """Check one DPX frame: its headers, and that the first element's image data is there.

    Parameters
    ----------
    buf : bytes or memoryview
        The whole file (a shorter buffer is checked as far as it goes: sizes are judged by
        ``file_size``, padding bits only where the image data is all in ``buf``).
    name : str
        How to name the file in messages.
    file_size : int
        The file's real size in bytes (normally ``len(buf)``).

    Returns
    -------
    FrameCheck
        Never raises for a bad file: what makes the frame untrustworthy is in ``errors``,
        what is usable but noteworthy in ``warnings``.
    """
    errors: list[str] = []
    warnings: list[str] = []

    def done(header: DpxHeader | None) -> FrameCheck:
        for message in errors:
            log.debug("DPX error: %s", message)
        for message in warnings:
            log.debug("DPX warning: %s", message)
        return FrameCheck(header, tuple(errors), tuple(warnings))

    try:
        h = parse_header(buf, name=name)
    except DpxError as exc:
        errors.append(str(exc))
        return done(None)
    el = h.elements[0]

    if h.version == "":
        warnings.append(f"{name}: version field is empty; expected V1.0 or V2.0")
    elif h.version not in KNOWN_VERSIONS:
        warnings.append(f"{name}: version field {h.version!r} is unusual; expected V1.0 or V2.0")
    if h.element_count > 1:
        warnings.append(f"{name}: {h.element_count} image elements: the first is read")
    if h.file_size_field != file_size:
        warnings.append(f"{name}: header total file size field says {h.file_size_field} bytes, "
                        f"the file is {file_size} bytes")
    if h.encryption_key not in (0, _U32_UNDEFINED):
        warnings.append(f"{name}: encryption key field is set (0x{h.encryption_key:08X}); "
                        "expected 0xFFFFFFFF (not encrypted)")

    # Where the first element's data starts.
    offset: int | None = None
    for label, value in (("image offset", h.image_offset),
                         ("first element data offset", el.data_offset)):
        if _set(value) and value >= file_size:
            errors.append(f"{name}: {label} {value} is beyond the end of the file "
                          f"({file_size} bytes)")
    if not errors:
        if _set(el.data_offset) and _set(h.image_offset):
            offset = el.data_offset
            if el.data_offset != h.image_offset:
                warnings.append(f"{name}: image offset {h.image_offset} differs from the first "
                                f"element's data offset {el.data_offset}; using {el.data_offset}")
        elif _set(el.data_offset):
            offset = el.data_offset
            warnings.append(f"{name}: image offset field is {h.image_offset}; using the first "
                            f"element's data offset {el.data_offset}")
        elif _set(h.image_offset):
            offset = h.image_offset
            warnings.append(f"{name}: first element's data offset field is {el.data_offset}; "
                            f"using the image offset {h.image_offset}")
        else:
            errors.append(f"{name}: no image data offset: image offset {h.image_offset} and "
                          f"first element data offset {el.data_offset}; expected a byte offset")
    header_end = HEADER_SIZE if h.has_industry_headers else CORE_HEADER_SIZE
    if offset is not None and offset < header_end:
        errors.append(f"{name}: image data offset {offset} lies inside the {header_end}-byte "
                      "header")
        offset = None
    if offset is not None:
        sizes = [s for s in (h.generic_size, h.industry_size, h.user_size)
                 if s != _U32_UNDEFINED]
        if sum(sizes) > offset:
            warnings.append(f"{name}: header sizes (generic {h.generic_size}, industry "
                            f"{h.industry_size}, user data {h.user_size}) add up past the image "
                            f"data offset {offset}")
    for index, other in enumerate(h.elements[1:], start=2):
        if _set(other.data_offset) and other.data_offset >= file_size:
            warnings.append(f"{name}: image element {index} data offset {other.data_offset} is "
                            f"beyond the end of the file ({file_size} bytes)")

    # The first element's format.
    usable = True
    if el.encoding != 0:
        errors.append(f"{name}: run-length encoded image data is not supported (encoding "
                      f"{el.encoding}); expected 0 (no encoding)")
        usable = False
    if el.bit_depth not in BIT_DEPTHS:
        errors.append(f"{name}: unsupported bit depth {el.bit_depth}; expected one of "
                      f"{', '.join(map(str, BIT_DEPTHS))}")
        usable = False
    elif el.packing not in PACKINGS:
        if el.bit_depth in (10, 12):
            errors.append(f"{name}: packing {el.packing} for {el.bit_depth}-bit data; expected "
                          "0 (packed), 1 (filled method A) or 2 (filled method B)")
            usable = False
        else:
            warnings.append(f"{name}: packing field {el.packing} is not defined by ST 268 "
                            f"(ignored for {el.bit_depth}-bit data)")
    if el.channels == 0:
        errors.append(f"{name}: image descriptor {el.descriptor} is not one ST 268 defines; "
                      "cannot tell the samples per pixel")
        usable = False

    if usable and offset is not None:
        packing = el.packing if el.packing in PACKINGS else 0
        needed = image_data_size(h.width, h.height, el.channels, el.bit_depth, packing,
                                 el.eol_padding)
        aligned = True
        if offset + needed > file_size:
            stream = continuous_size(h.width, h.height, el.channels, el.bit_depth, packing)
            if h.height > 1 and offset + stream <= file_size < offset + needed:
                aligned = False
                warnings.append(f"{name}: lines are not padded to 32-bit words: image data of "
                                f"{file_size - offset} bytes from offset {offset} holds the "
                                f"{stream} bytes of one continuous stream, not the {needed} "
                                "bytes of word-aligned lines")
            else:
                errors.append(f"{name}: truncated: image data needs {needed} bytes from offset "
                              f"{offset}, file has {file_size}")
                usable = False
        if usable and el.bit_depth in (10, 12) and el.packing in (1, 2):
            problem = _padding_problem(buf, offset, el, h.width, h.height, h.byte_order, aligned)
            if problem:
                warnings.append(f"{name}: {problem}")
    return done(h)
