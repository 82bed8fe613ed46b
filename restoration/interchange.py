"""Colour-decision interchange: ASC CDL (.cdl, .cc, .ccc), CMX3600 EDL comments, LUT files.

Nothing here knows about Django; files are read into plain values and written back. Every
reading problem raises :class:`InterchangeError`, whose message names the file, the line (where
known), the field and what was expected.

ASC CDL XML
    :func:`read_corrections` / :func:`read_cdl` read ColorCorrection (.cc),
    ColorCorrectionCollection (.ccc) and ColorDecisionList (.cdl) documents, with or without the
    ASC namespace (``urn:ASC:CDL:v1.01``, ``urn:ASC:CDL:v1.2`` or a prefix), CRLF or LF line
    ends. The format is recognised from the root element, not the extension: a bare
    ColorCorrection saved as .ccc or .cdl reads, and a CMX3600 EDL saved as .cdl is refused with a
    message pointing at :func:`read_edl`. DTDs and entity declarations are refused (no external
    or expanding entities can be reached). :func:`write_cc`, :func:`write_ccc` and
    :func:`write_cdl` write ASC CDL v1.2 XML whose numbers are Python ``repr`` strings, so a
    write followed by a read gives back identical floats.

    Values: slope, offset and power are per channel (R, G, B), unitless; slope and power are
    normally >= 0 and > 0, saturation >= 0. Values outside those ranges are read as written (a
    warning is logged): grading decides what to do with them, and real EDLs carry such values
    (``cmx_cdl.edl`` has a power of 0.0).

    **ASC_SOP / ASC_SAT elements (decision).** Inside a ColorCorrection, the ASC text names the
    nodes SOPNode and SatNode (older files SATNode). Some writers use the EDL/ALE field names
    ``ASC_SOP`` / ``ASC_SAT`` as element names instead. OpenColorIO (2.x) ignores those elements
    with a warning and returns the defaults (slope 1, offset 0, power 1, saturation 1). We read
    them as SOP and saturation nodes: the values are unambiguous, the names are the ASC's own
    names for the same numbers, and dropping a colourist's decision to identity without an error
    is the worse failure for an archive. A file holding both spellings of the same node is
    refused. So for such files our values differ from what an OCIO ``FileTransform`` of the same
    file would apply; grading builds its OCIO ``CDLTransform`` from our :class:`CDL` values, so
    the values read here are the ones applied. ``tests/unit/test_interchange.py`` pins this and
    shows the OCIO difference.

CMX3600 EDL
    :func:`read_edl` reads events (number, reel, channels, transition, source and record
    timecodes as text and as frame counts, clip name, source file, markers) and the
    ``* ASC_SOP (s s s)(o o o)(p p p)`` / ``* ASC_SAT s`` comments as a :class:`CDL` per event.
    Frame counts are counted from 00:00:00:00 at the EDL's nominal rate (24, 25, 30, ...);
    under ``FCM: DROP FRAME`` (29.97 / 59.94) the SMPTE drop-frame numbering is used. What a
    grade cannot simply follow (dissolves, wipes, keys, M2 speed changes and freeze frames,
    effect comments, split edits, source/record duration mismatches) is listed in
    ``Event.unsupported``; nothing is dropped silently.

LUT files
    :func:`read_lut_info` describes .cube (Iridas/Adobe and Resolve, 1D, 3D or 1D shaper + 3D),
    .spi3d and .3dl (Discreet/Lustre) files for checking; :func:`load_lut` / :func:`load_cube`
    return the tables as numpy arrays. Applying a LUT is done elsewhere, through OpenColorIO.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import tempfile
import xml.parsers.expat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

logger = logging.getLogger(__name__)

ASC_NAMESPACE = "urn:ASC:CDL:v1.2"
"""Namespace written by :func:`write_cc`, :func:`write_ccc` and :func:`write_cdl`."""


@dataclass(frozen=True)
class CDL:
    """One ASC CDL v1.2 colour correction.

    ``slope``, ``offset`` and ``power`` are per channel (R, G, B); ``saturation`` is applied
    after them with Rec. 709 luma weights. ``id`` is the ColorCorrection's id (``None`` when
    the source gave none); ``description`` the text of its Description elements.
    """

    slope: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    power: tuple[float, float, float] = (1.0, 1.0, 1.0)
    saturation: float = 1.0
    id: str | None = None
    description: tuple[str, ...] = field(default=())

    @property
    def is_identity(self) -> bool:
        return (self.slope, self.offset, self.power, self.saturation) == (
            (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), 1.0)


class InterchangeError(ValueError):
    """A colour-decision, EDL or LUT file that cannot be read or written as asked.

    Attributes
    ----------
    path : str
        The file concerned.
    line : int or None
        1-based line number where known.
    field : str or None
        The element, keyword or column concerned, where known.
    """

    def __init__(self, path: str | os.PathLike[str], message: str, *, line: int | None = None,
                 field: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", {field}"
        super().__init__(f"{where}: {message}")


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def _number(text: str, path, line: int | None, what: str) -> float:
    """Parse one decimal number (no underscores, nan or inf, unlike ``float``)."""
    if not _NUMBER.match(text):
        raise InterchangeError(path, f"expected a decimal number, found {text!r}", line=line,
                               field=what)
    return float(text)


def _triple(text: str, path, line: int | None, what: str) -> tuple[float, float, float]:
    parts = text.split()
    if len(parts) != 3:
        raise InterchangeError(path, f"expected 3 numbers (R G B), found {len(parts)}: {text.strip()!r}",
                               line=line, field=what)
    r, g, b = (_number(p, path, line, what) for p in parts)
    return (r, g, b)


def _read_bytes(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InterchangeError(path, f"cannot read the file: {exc.strerror or exc}") from exc


# --------------------------------------------------------------------------- ASC CDL XML

@dataclass
class _Node:
    tag: str
    attrib: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts).strip()


def _parse_xml(path, data: bytes) -> _Node:
    """Parse XML into :class:`_Node` trees with line numbers; no DTD, no entities."""
    head = data.lower()
    for forbidden in (b"<!doctype", b"<!entity"):
        pos = head.find(forbidden)
        if pos >= 0:
            line = data.count(b"\n", 0, pos) + 1
            raise InterchangeError(path, "DTDs and entity declarations are not accepted in CDL "
                                   "XML (refused for safety)", line=line)
    parser = xml.parsers.expat.ParserCreate()
    stack: list[_Node] = []
    roots: list[_Node] = []

    def start(name, attrs):
        node = _Node(name.rsplit(":", 1)[-1], dict(attrs), parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            roots.append(node)
        stack.append(node)

    def end(name):
        stack.pop()

    def chars(text):
        if stack:
            stack[-1].text_parts.append(text)

    def refuse(*args):
        raise InterchangeError(path, "DTDs and entity declarations are not accepted in CDL XML",
                               line=parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise InterchangeError(path, f"not well-formed XML ({exc})", line=exc.lineno) from exc
    return roots[0]


def _looks_like_edl(text: str) -> bool:
    for raw in text.splitlines():
        s = raw.strip()
        if not s:
            continue
        return bool(re.match(r"(TITLE:|FCM:|\d+\s)", s, re.I) or "ASC_SOP" in s.upper())
    return False


_SOP_NAMES = ("SOPNode", "ASC_SOP")
_SAT_NAMES = ("SatNode", "SATNode", "ASC_SAT")


def _parse_correction(path, cc: _Node) -> CDL:
    ident = cc.attrib.get("id")
    descriptions: list[str] = []
    sop: tuple | None = None
    sat: float | None = None
    sop_node = sat_node = None
    for child in cc.children:
        if child.tag == "Description":
            descriptions.append(child.text)
        elif child.tag in _SOP_NAMES:
            if sop_node is not None:
                raise InterchangeError(path, f"a second SOP node ({child.tag}) in ColorCorrection "
                                       f"{ident!r}; the first was {sop_node.tag} at line "
                                       f"{sop_node.line}", line=child.line, field=child.tag)
            sop_node = child
            if child.tag == "ASC_SOP":
                logger.warning("%s, line %d: <ASC_SOP> read as SOPNode (OpenColorIO ignores it)",
                               path, child.line)
            values: dict[str, tuple[float, float, float]] = {}
            for part in child.children:
                if part.tag == "Description":
                    descriptions.append(part.text)
                elif part.tag in ("Slope", "Offset", "Power"):
                    if part.tag in values:
                        raise InterchangeError(path, f"{part.tag} given twice", line=part.line,
                                               field=f"{child.tag}/{part.tag}")
                    values[part.tag] = _triple(part.text, path, part.line, f"{child.tag}/{part.tag}")
            missing = [k for k in ("Slope", "Offset", "Power") if k not in values]
            if missing:
                raise InterchangeError(path, f"expected Slope, Offset and Power; missing "
                                       f"{', '.join(missing)}", line=child.line, field=child.tag)
            sop = (values["Slope"], values["Offset"], values["Power"])
        elif child.tag in _SAT_NAMES:
            if sat_node is not None:
                raise InterchangeError(path, f"a second saturation node ({child.tag}) in "
                                       f"ColorCorrection {ident!r}; the first was {sat_node.tag} "
                                       f"at line {sat_node.line}", line=child.line, field=child.tag)
            sat_node = child
            if child.tag == "ASC_SAT":
                logger.warning("%s, line %d: <ASC_SAT> read as SatNode (OpenColorIO ignores it)",
                               path, child.line)
            found = None
            for part in child.children:
                if part.tag == "Description":
                    descriptions.append(part.text)
                elif part.tag == "Saturation":
                    if found is not None:
                        raise InterchangeError(path, "Saturation given twice", line=part.line,
                                               field=f"{child.tag}/Saturation")
                    found = _number(part.text, path, part.line, f"{child.tag}/Saturation")
            if found is None:
                raise InterchangeError(path, "expected a Saturation element", line=child.line,
                                       field=child.tag)
            sat = found
    slope, offset, power = sop if sop else ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    cdl = CDL(slope=slope, offset=offset, power=power,
              saturation=1.0 if sat is None else sat, id=ident,
              description=tuple(descriptions))
    _warn_ranges(path, cc.line, cdl)
    return cdl


def _warn_ranges(path, line, cdl: CDL) -> None:
    if min(cdl.slope) < 0 or min(cdl.power) <= 0 or cdl.saturation < 0:
        logger.warning("%s, line %s: CDL %r has values outside the ASC ranges (slope >= 0, "
                       "power > 0, saturation >= 0): slope %s power %s saturation %s", path, line,
                       cdl.id, cdl.slope, cdl.power, cdl.saturation)


def read_corrections(path: str | os.PathLike[str]) -> list[CDL]:
    """Read every colour correction of an ASC CDL XML file (.cc, .ccc or .cdl).

    Parameters
    ----------
    path : path-like
        A ColorCorrection, ColorCorrectionCollection or ColorDecisionList document; the root
        element decides, not the extension.

    Returns
    -------
    list of CDL
        In document order. Missing SOP or saturation nodes give the ASC defaults (slope 1,
        offset 0, power 1, saturation 1). ``id`` is the id attribute as written (``""`` stays
        ``""``; no attribute gives ``None``). ``description`` holds the Description texts of the
        ColorCorrection and of its SOP and saturation nodes, in document order.

    Raises
    ------
    InterchangeError
        Not XML (a CMX3600 EDL saved as .cdl is named as such), a DTD or entity, an unknown root
        element, a ColorCorrectionRef, or a node with missing or non-numeric values.
    """
    data = _read_bytes(path)
    text_start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text_start.startswith(b"<"):
        text = data.decode("latin-1")
        if _looks_like_edl(text):
            raise InterchangeError(path, "this is a CMX3600 EDL (TITLE/FCM/event lines), not ASC "
                                   "CDL XML; read it with read_edl()", line=1)
        raise InterchangeError(path, "expected ASC CDL XML starting with '<'", line=1)
    root = _parse_xml(path, data)
    if root.tag == "ColorCorrection":
        return [_parse_correction(path, root)]
    if root.tag == "ColorCorrectionCollection":
        ccs = []
        for child in root.children:
            if child.tag == "ColorCorrectionRef":
                raise InterchangeError(path, "ColorCorrectionRef (a reference to another file) is "
                                       "not supported", line=child.line, field=child.tag)
            if child.tag == "ColorCorrection":
                ccs.append(child)
    elif root.tag == "ColorDecisionList":
        ccs = []
        for decision in root.children:
            if decision.tag != "ColorDecision":
                continue
            found = [c for c in decision.children if c.tag in ("ColorCorrection", "ColorCorrectionRef")]
            if len(found) != 1:
                raise InterchangeError(path, f"expected one ColorCorrection in a ColorDecision, "
                                       f"found {len(found)}", line=decision.line,
                                       field="ColorDecision")
            if found[0].tag == "ColorCorrectionRef":
                raise InterchangeError(path, "ColorCorrectionRef (a reference to another file) is "
                                       "not supported", line=found[0].line, field=found[0].tag)
            ccs.append(found[0])
    else:
        raise InterchangeError(path, f"expected a ColorCorrection, ColorCorrectionCollection or "
                               f"ColorDecisionList root element, found <{root.tag}>",
                               line=root.line, field=root.tag)
    if not ccs:
        raise InterchangeError(path, f"<{root.tag}> holds no ColorCorrection", line=root.line,
                               field=root.tag)
    return [_parse_correction(path, cc) for cc in ccs]


def read_cdl(path: str | os.PathLike[str], id: str | None = None) -> CDL:  # noqa: A002
    """Read one colour correction from a .cc, .ccc or .cdl file.

    Parameters
    ----------
    path : path-like
        The ASC CDL XML file.
    id : str, optional
        The ColorCorrection id to pick. Needed when the file holds more than one correction;
        a file with a single correction returns it whatever its id.

    Raises
    ------
    InterchangeError
        As :func:`read_corrections`; also when ``id`` is not found, or is needed and not given
        (the message lists the ids the file has).
    """
    cdls = read_corrections(path)
    if id is None:
        if len(cdls) == 1:
            return cdls[0]
        raise InterchangeError(path, f"holds {len(cdls)} corrections; pass id= one of "
                               f"{_id_list(cdls)}", field="id")
    matches = [c for c in cdls if c.id == id]
    if not matches:
        raise InterchangeError(path, f"no ColorCorrection with id {id!r}; ids are {_id_list(cdls)}",
                               field="id")
    if len(matches) > 1:
        raise InterchangeError(path, f"{len(matches)} ColorCorrections share the id {id!r}",
                               field="id")
    return matches[0]


def _id_list(cdls: Sequence[CDL]) -> str:
    return ", ".join(repr(c.id) if c.id else f"<no id: correction {i + 1}>"
                     for i, c in enumerate(cdls))


def _fmt(value: float, path, what: str) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise InterchangeError(path, f"cannot write a non-finite value {value!r}", field=what)
    return repr(value)


def _cc_xml(cdl: CDL, path, indent: str) -> list[str]:
    attr = "" if cdl.id is None else f" id={quoteattr(cdl.id)}"
    i1, i2 = indent + "  ", indent + "    "
    lines = [f"{indent}<ColorCorrection{attr}>"]
    lines += [f"{i1}<Description>{escape(d)}</Description>" for d in cdl.description]
    lines.append(f"{i1}<SOPNode>")
    for name, values in (("Slope", cdl.slope), ("Offset", cdl.offset), ("Power", cdl.power)):
        if len(values) != 3:
            raise InterchangeError(path, f"expected 3 values, got {len(values)}", field=name)
        text = " ".join(_fmt(v, path, name) for v in values)
        lines.append(f"{i2}<{name}>{text}</{name}>")
    lines.append(f"{i1}</SOPNode>")
    lines.append(f"{i1}<SatNode>")
    lines.append(f"{i2}<Saturation>{_fmt(cdl.saturation, path, 'Saturation')}</Saturation>")
    lines.append(f"{i1}</SatNode>")
    lines.append(f"{indent}</ColorCorrection>")
    return lines


def _check_ids(cdls: Sequence[CDL], path) -> None:
    seen: set[str] = set()
    for c in cdls:
        if c.id:
            if c.id in seen:
                raise InterchangeError(path, f"two corrections share the id {c.id!r}", field="id")
            seen.add(c.id)


def _write_text(path, lines: list[str]) -> None:
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(lines) + "\n"
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_cc(cdl: CDL, path: str | os.PathLike[str]) -> None:
    """Write one correction as an ASC CDL v1.2 ColorCorrection (.cc) document.

    Numbers are written with ``repr`` so :func:`read_cdl` gives back identical floats.
    Descriptions are written as ColorCorrection-level Description elements. The file is
    replaced atomically.
    """
    lines = _cc_xml(cdl, path, "")
    lines[0] = lines[0].replace("<ColorCorrection", f'<ColorCorrection xmlns="{ASC_NAMESPACE}"', 1)
    _write_text(path, lines)


def write_ccc(cdls: Iterable[CDL], path: str | os.PathLike[str]) -> None:
    """Write corrections as an ASC CDL v1.2 ColorCorrectionCollection (.ccc) document.

    Raises
    ------
    InterchangeError
        No corrections, two corrections with the same non-empty id, or a non-finite value.
    """
    cdls = list(cdls)
    if not cdls:
        raise InterchangeError(path, "a ColorCorrectionCollection needs at least one correction")
    _check_ids(cdls, path)
    lines = [f'<ColorCorrectionCollection xmlns="{ASC_NAMESPACE}">']
    for c in cdls:
        lines += _cc_xml(c, path, "  ")
    lines.append("</ColorCorrectionCollection>")
    _write_text(path, lines)


def write_cdl(cdls: Iterable[CDL], path: str | os.PathLike[str]) -> None:
    """Write corrections as an ASC CDL v1.2 ColorDecisionList (.cdl), one ColorDecision each.

    Raises
    ------
    InterchangeError
        As :func:`write_ccc`.
    """
    cdls = list(cdls)
    if not cdls:
        raise InterchangeError(path, "a ColorDecisionList needs at least one correction")
    _check_ids(cdls, path)
    lines = [f'<ColorDecisionList xmlns="{ASC_NAMESPACE}">']
    for c in cdls:
        lines.append("  <ColorDecision>")
        lines += _cc_xml(c, path, "    ")
        lines.append("  </ColorDecision>")
    lines.append("</ColorDecisionList>")
    _write_text(path, lines)


# --------------------------------------------------------------------------- timecode

_TC = re.compile(r"(\d{1,2})[:;.,](\d{2})[:;.,](\d{2})([:;.,])(\d{2})\Z")


def _nominal_rate(fps: float) -> int:
    rate = round(fps)
    if rate <= 0 or abs(fps - rate) > 0.1 and abs(fps - rate * 1000 / 1001) > 1e-3:
        raise ValueError(f"unsupported frame rate {fps!r}")
    return rate


def timecode_to_frames(tc: str, rate: int, drop_frame: bool = False) -> int:
    """Frame count of a timecode ``HH:MM:SS:FF`` (``;`` or ``.`` also accepted), from 00:00:00:00.

    Parameters
    ----------
    tc : str
        The timecode.
    rate : int
        Nominal frames per second (24, 25, 30, 60 ...; 30 for 29.97).
    drop_frame : bool
        SMPTE drop-frame numbering (rate 30 or 60 only): labels ;00 and ;01 (;00-;03 at 60)
        are skipped at every minute except each tenth.

    Raises
    ------
    ValueError
        Malformed timecode, a field out of range, or a dropped label.
    """
    m = _TC.match(tc.strip())
    if not m:
        raise ValueError(f"expected a timecode HH:MM:SS:FF, found {tc!r}")
    hh, mm, ss, ff = int(m[1]), int(m[2]), int(m[3]), int(m[5])
    if mm > 59 or ss > 59:
        raise ValueError(f"minutes and seconds must be < 60 in {tc!r}")
    if ff >= rate:
        raise ValueError(f"frame field {ff} is not valid at {rate} frames per second in {tc!r}")
    frames = (hh * 3600 + mm * 60 + ss) * rate + ff
    if drop_frame:
        if rate % 30:
            raise ValueError(f"drop-frame timecode needs a 30 or 60 nominal rate, not {rate}")
        drop = rate // 15
        if ss == 0 and mm % 10 and ff < drop:
            raise ValueError(f"{tc!r} names a dropped frame (drop-frame skips frames 0-{drop - 1} "
                             "at minutes not divisible by 10)")
        minutes = hh * 60 + mm
        frames -= drop * (minutes - minutes // 10)
    return frames


def frames_to_timecode(frames: int, rate: int, drop_frame: bool = False) -> str:
    """Timecode text of a frame count (inverse of :func:`timecode_to_frames`).

    Drop-frame timecodes are written with ``;`` before the frames field.
    """
    if frames < 0:
        raise ValueError(f"negative frame count {frames}")
    sep = ":"
    if drop_frame:
        if rate % 30:
            raise ValueError(f"drop-frame timecode needs a 30 or 60 nominal rate, not {rate}")
        drop = rate // 15
        per_min = rate * 60 - drop
        per_10 = rate * 600 - drop * 9
        tens, rem = divmod(frames, per_10)
        frames += drop * 9 * tens
        if rem >= drop:
            frames += drop * ((rem - drop) // per_min)
        sep = ";"
    ff = frames % rate
    secs = frames // rate
    return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}{sep}{ff:02d}"


# --------------------------------------------------------------------------- EDL

@dataclass
class Transition:
    """How an edit starts: ``kind`` is ``"cut"``, ``"dissolve"``, ``"wipe"`` or ``"key"``.

    ``code`` is the field as written (``C``, ``D``, ``W001``, ``K B`` ...), ``duration`` in
    frames (0 for a cut), ``name`` from an ``EFFECTS NAME IS`` line where given.
    """

    kind: str
    code: str
    duration: int = 0
    wipe_code: str | None = None
    name: str | None = None


@dataclass
class Edit:
    """One edit line of an EDL event.

    Timecodes are kept as written (``source_in`` ...) and as frame counts from 00:00:00:00 at
    the EDL's nominal rate (``source_in_frame`` ...); ``drop_frame`` says which numbering the
    line was read with (the ``FCM`` in force). ``channels`` is the field as written; ``video``
    and ``audio`` (1-based channel numbers, ``AUD`` lines included) decode it.
    """

    line: int
    reel: str
    channels: str
    video: bool
    audio: tuple[int, ...]
    transition: Transition
    source_in: str
    source_out: str
    record_in: str
    record_out: str
    source_in_frame: int
    source_out_frame: int
    record_in_frame: int
    record_out_frame: int
    drop_frame: bool
    clip_name: str | None = None
    source_file: str | None = None

    @property
    def source_duration(self) -> int:
        """Frames."""
        return self.source_out_frame - self.source_in_frame

    @property
    def record_duration(self) -> int:
        """Frames."""
        return self.record_out_frame - self.record_in_frame


@dataclass
class Event:
    """One numbered EDL event: its edit lines and the comments that follow them.

    A cut has one edit; a dissolve, wipe or key has two (the outgoing edit, often of zero
    length, then the incoming one). ``reel``, ``channels``, ``transition``, the timecodes and
    ``clip_name`` are those of the last (incoming) edit. ``cdl`` holds the event's ASC_SOP /
    ASC_SAT comments (``None`` when it has neither; a missing half takes the ASC default).
    ``unsupported`` says, in words, what in this event a grade cannot simply follow.
    ``speed`` is the M2 speed in frames per second (0.0 = freeze frame), ``None`` when absent.
    ``frame_counts`` is ``*FRMC START/END/DURATION`` where given.
    """

    number: int
    number_text: str
    line: int
    edits: list[Edit] = field(default_factory=list)
    cdl: CDL | None = None
    unsupported: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    speed: float | None = None
    frame_counts: tuple[int, int, int] | None = None

    @property
    def primary(self) -> Edit:
        return self.edits[-1]

    reel = property(lambda self: self.primary.reel)
    channels = property(lambda self: self.primary.channels)
    video = property(lambda self: self.primary.video)
    audio = property(lambda self: self.primary.audio)
    transition = property(lambda self: self.primary.transition)
    source_in = property(lambda self: self.primary.source_in)
    source_out = property(lambda self: self.primary.source_out)
    record_in = property(lambda self: self.primary.record_in)
    record_out = property(lambda self: self.primary.record_out)
    source_in_frame = property(lambda self: self.primary.source_in_frame)
    source_out_frame = property(lambda self: self.primary.source_out_frame)
    record_in_frame = property(lambda self: self.primary.record_in_frame)
    record_out_frame = property(lambda self: self.primary.record_out_frame)
    clip_name = property(lambda self: self.primary.clip_name)
    source_file = property(lambda self: self.primary.source_file)


@dataclass
class Edl:
    """A CMX3600 edit decision list.

    ``rate`` is the nominal frame rate the frame counts use (30 for 29.97 drop frame);
    ``rate_assumed`` is true when the caller gave no ``fps`` and 24 was used (or 30 for a
    drop-frame list). ``fcm`` is the first FCM line's value (``None`` when the list has none);
    ``drop_frame`` whether any event was read as drop frame. ``comments`` holds comment lines
    before the first event.
    """

    path: str
    title: str | None
    fcm: str | None
    rate: int
    rate_assumed: bool
    drop_frame: bool
    encoding: str
    events: list[Event] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


_CHANNELS = re.compile(r"(?:(V)|(B)|(AA)|A(\d*)|(NONE))\Z")


def _decode_channels(text: str) -> tuple[bool, tuple[int, ...]] | None:
    video = False
    audio: list[int] = []
    for part in text.upper().split("/"):
        m = _CHANNELS.match(part)
        if not m:
            return None
        if m[1]:
            video = True
        elif m[2]:
            video = True
            audio.append(1)
        elif m[3]:
            audio += [1, 2]
        elif m[5]:
            pass
        else:
            audio.append(int(m[4]) if m[4] else 1)
    return video, tuple(sorted(set(audio)))


def _parse_transition(tokens: list[str]) -> Transition | None:
    code = " ".join(tokens)
    t = [x.upper() for x in tokens]
    if t == ["C"] or (len(t) == 2 and t[0] == "C" and t[1].isdigit() and int(t[1]) == 0):
        return Transition("cut", code)
    if len(t) == 2 and t[0] == "D" and t[1].isdigit():
        return Transition("dissolve", code, int(t[1]))
    m = re.match(r"W(\d{3})\Z", t[0])
    if m and len(t) == 2 and t[1].isdigit():
        return Transition("wipe", code, int(t[1]), wipe_code=m[1])
    if len(t) == 3 and t[0] == "W" and t[1].isdigit() and t[2].isdigit():
        return Transition("wipe", code, int(t[2]), wipe_code=t[1])
    if t and t[0] in ("K", "KB", "KO") and t[-1].isdigit():
        mid = t[1:-1]
        if mid in ([], ["B"], ["O"]) and not (t[0] != "K" and mid):
            return Transition("key", code, int(t[-1]))
    if t in (["K"], ["KB"], ["KO"], ["K", "B"], ["K", "O"]):
        return Transition("key", code, 0)
    return None


_COMMENT_KEYS = re.compile(
    r"(FROM CLIP NAME|TO CLIP NAME|FROM CLIP|FROM FILE|SOURCE FILE|ASC_SOP|ASC_SAT|LOC|FRMC START)"
    r"\s*:?\s*(.*)\Z", re.I)
_EFFECT_COMMENT = re.compile(r"(AVX\d*|.*\bEFFECT\b|.*\bRESIZE\b|.*\bREPOSITION\b)", re.I)


def _parse_sop(body: str, path, line: int) -> tuple:
    groups = re.findall(r"\(([^()]*)\)", body)
    leftover = re.sub(r"\([^()]*\)", "", body).strip()
    if len(groups) != 3 or leftover:
        raise InterchangeError(path, f"expected ASC_SOP (s s s)(o o o)(p p p), found {body!r}",
                               line=line, field="ASC_SOP")
    return tuple(_triple(g, path, line, "ASC_SOP") for g in groups)


def _decode_edl(path, data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        logger.info("%s is not UTF-8; read as ISO-8859-1", path)
        return data.decode("latin-1"), "iso-8859-1"


def read_edl(path: str | os.PathLike[str], fps: float | None = None, *,
             strict: bool = True) -> Edl:
    """Read a CMX3600 EDL (any extension; the content decides).

    Parameters
    ----------
    path : path-like
        The EDL, UTF-8 or (failing that) ISO-8859-1, LF or CRLF.
    fps : float, optional
        Frame rate for the frame counts (24, 25, 29.97, 30 ...; 23.976 counts as 24). ``None``
        uses 24, or 30 (29.97) when the list says ``FCM: DROP FRAME``. A frame field at or above
        the rate is an error naming the line, so a 25 fps list read at 24 does not pass
        unnoticed.
    strict : bool
        ``False`` reads timecodes whose frame field is out of range for the rate (some
        real-world lists hold a stray ``00:00:37:42`` at 24 fps) by carrying into the seconds,
        and lists each one in its event's ``unsupported`` instead of raising.

    Returns
    -------
    Edl
        Events in file order; consecutive edit lines with the same number form one event.

    Raises
    ------
    InterchangeError
        XML content, an edit line without four timecodes or with an unknown channel or
        transition field, a timecode out of range for the rate, a dissolve/wipe/key not preceded by its outgoing edit of the same event number
        ("transition and event id mismatch"), a malformed M2, AUD, ASC_SOP or ASC_SAT line, or a
        drop-frame list at a rate other than 29.97/59.94.
    """
    data = _read_bytes(path)
    text, encoding = _decode_edl(path, data)
    if text.lstrip().startswith("<"):
        raise InterchangeError(path, "this is XML (ASC CDL?), not a CMX3600 EDL; read it with "
                               "read_corrections()", line=1)
    lines = text.splitlines()
    has_df = any(re.match(r"\s*FCM\s*:\s*DROP\s+FRAME", x, re.I) for x in lines)
    if fps is None:
        rate, assumed = (30 if has_df else 24), True
    else:
        try:
            rate = _nominal_rate(float(fps))
        except ValueError as exc:
            raise InterchangeError(path, str(exc), field="fps") from exc
        assumed = False
    edl = Edl(path=str(path), title=None, fcm=None, rate=rate, rate_assumed=assumed,
              drop_frame=False, encoding=encoding)
    drop = False
    seen_fcm = False
    event: Event | None = None
    sops: dict[int, tuple] = {}  # id(event) -> (slope, offset, power)
    sats: dict[int, float] = {}  # id(event) -> saturation
    last_edit_number: str | None = None

    problems: list[str] = []  # strict=False: timecode range problems of the current line

    def tc_frames(tc: str, lineno: int, what: str) -> int:
        df = drop or (not seen_fcm and ";" in tc)
        try:
            return timecode_to_frames(tc, rate, df)
        except ValueError as exc:
            m = _TC.match(tc.strip())
            if not strict and m and int(m[3]) < 60 and int(m[2]) < 60:
                problems.append(f"{what} {tc} (line {lineno}): {exc}; counted with carry")
                return (int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])) * rate + int(m[5])
            hint = " (pass fps= the list's rate)" if "not valid at" in str(exc) and assumed else ""
            raise InterchangeError(path, f"{exc}{hint}", line=lineno, field=what) from exc

    def note(msg: str, lineno: int) -> None:
        target = event.comments if event else edl.comments
        target.append(msg)

    for lineno, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s:
            continue
        upper = s.upper()
        if upper.startswith("TITLE:"):
            if edl.title is None:
                edl.title = s[6:].strip()
            continue
        if upper.startswith("FCM"):
            m = re.match(r"FCM\s*:\s*(NON[- ]DROP\s+FRAME|DROP\s+FRAME)", s, re.I)
            if not m:
                raise InterchangeError(path, f"expected 'FCM: NON-DROP FRAME' or 'FCM: DROP "
                                       f"FRAME', found {s!r}", line=lineno, field="FCM")
            value = re.sub(r"\s+", " ", m[1].upper()).replace("NON DROP", "NON-DROP")
            if s[m.end():].strip():
                note(f"line {lineno}: text after the FCM value ignored: {s[m.end():].strip()!r}",
                     lineno)
            drop = value == "DROP FRAME"
            seen_fcm = True
            if drop and rate % 30:
                raise InterchangeError(path, f"FCM: DROP FRAME needs 29.97 or 59.94 fps, not "
                                       f"{fps}", line=lineno, field="FCM")
            if edl.fcm is None:
                edl.fcm = value
            edl.drop_frame |= drop
            continue
        if s[0].isdigit():
            tokens = s.split()
            if not tokens[0].isdigit():
                raise InterchangeError(path, f"expected an event number, found {tokens[0]!r}",
                                       line=lineno, field="event number")
            tcs = tokens[-4:]
            if len(tokens) < 8 or not all(_TC.match(t) for t in tcs):
                raise InterchangeError(path, "expected an edit line: number, reel, channels, "
                                       "transition, source in/out and record in/out timecodes",
                                       line=lineno, field="edit")
            reel, channels = tokens[1], tokens[2]
            decoded = _decode_channels(channels)
            if decoded is None:
                raise InterchangeError(path, f"unknown channel field {channels!r} (expected V, A, "
                                       "A2, AA, B, NONE or combinations with /)", line=lineno,
                                       field="channels")
            transition = _parse_transition(tokens[3:-4])
            if transition is None:
                raise InterchangeError(path, f"unknown transition {' '.join(tokens[3:-4])!r} "
                                       "(expected C, D nnn, Wxxx nnn or K[B|O] nnn)", line=lineno,
                                       field="transition")
            number_text = tokens[0]
            if transition.kind != "cut" and last_edit_number != number_text:
                raise InterchangeError(path, f"transition and event id mismatch: {transition.kind} "
                                       f"of event {number_text} follows event "
                                       f"{last_edit_number}; the outgoing edit must be the "
                                       "previous line with the same event number",
                                       line=lineno, field="event number")
            names = ("source in", "source out", "record in", "record out")
            frames = [tc_frames(t, lineno, n) for t, n in zip(tcs, names, strict=True)]
            edit = Edit(lineno, reel, channels, decoded[0], decoded[1], transition, *tcs, *frames,
                        drop_frame=drop or (not seen_fcm and ";" in tcs[0]))
            if event is None or last_edit_number != number_text:
                event = Event(int(number_text), number_text, lineno)
                edl.events.append(event)
            event.edits.append(edit)
            event.unsupported += problems
            problems.clear()
            last_edit_number = number_text
            continue
        if upper.startswith("M2"):
            m = re.match(r"M2\s+(\S+)\s+(-?\d+(?:\.\d*)?)\s+(\S+)\s*\Z", s)
            if not m or not _TC.match(m[3]):
                raise InterchangeError(path, f"expected 'M2 reel speed timecode', found {s!r}",
                                       line=lineno, field="M2")
            if event is None:
                raise InterchangeError(path, "M2 line before any event", line=lineno, field="M2")
            tc_frames(m[3], lineno, "M2 timecode")
            speed = float(m[2])
            event.speed = speed
            what = "freeze frame" if speed == 0 else (
                f"{speed:g} fps ({speed / rate:.6g} x the {rate} fps list)")
            event.unsupported.append(f"speed change (M2, line {lineno}): reel {m[1]} plays at "
                                     f"{what} from {m[3]}; grade per source frame needs a retime")
            continue
        if upper.startswith("AUD"):
            m = re.match(r"AUD\s+((?:\d\s*)+)\Z", s, re.I)
            if not m or event is None:
                raise InterchangeError(path, f"expected 'AUD 3', 'AUD 4' or 'AUD 3 4' after an "
                                       f"edit line, found {s!r}", line=lineno, field="AUD")
            edit = event.edits[-1]
            edit.audio = tuple(sorted({*edit.audio, *(int(x) for x in m[1].split())}))
            continue
        if upper.startswith("EFFECTS NAME IS"):
            name = s[len("EFFECTS NAME IS"):].strip()
            if event is not None:
                event.edits[-1].transition.name = name
            note(s, lineno)
            continue
        if upper.startswith("SPLIT"):
            if event is not None:
                event.unsupported.append(f"split edit (line {lineno}): {s}")
            note(s, lineno)
            continue
        # comments: '*' lines, plus bare 'FROM CLIP NAME:'-style lines some tools write
        body = s.lstrip("*").strip() if s.startswith("*") else s
        m = _COMMENT_KEYS.match(body)
        if m and (s.startswith("*") or upper.startswith(("FROM ", "TO ", "SOURCE FILE"))):
            key, value = m[1].upper(), m[2].strip()
            if key == "ASC_SOP":
                if event is None:
                    raise InterchangeError(path, "ASC_SOP before any event", line=lineno,
                                           field="ASC_SOP")
                if id(event) in sops:
                    raise InterchangeError(path, "a second ASC_SOP in the same event",
                                           line=lineno, field="ASC_SOP")
                sops[id(event)] = _parse_sop(value, path, lineno)
                _set_event_cdl(event, sops.get(id(event)), sats.get(id(event)), path, lineno)
                continue
            if key == "ASC_SAT":
                if event is None:
                    raise InterchangeError(path, "ASC_SAT before any event", line=lineno,
                                           field="ASC_SAT")
                parts = value.split()
                if len(parts) != 1:
                    raise InterchangeError(path, f"expected one saturation number, found "
                                           f"{value!r}", line=lineno, field="ASC_SAT")
                if id(event) in sats:
                    raise InterchangeError(path, "a second ASC_SAT in the same event",
                                           line=lineno, field="ASC_SAT")
                sats[id(event)] = _number(parts[0], path, lineno, "ASC_SAT")
                _set_event_cdl(event, sops.get(id(event)), sats.get(id(event)), path, lineno)
                continue
            if event is None:
                edl.comments.append(s)
                continue
            if key == "FROM CLIP NAME":
                event.edits[0].clip_name = value
            elif key == "TO CLIP NAME":
                event.edits[-1].clip_name = value
            elif key in ("FROM CLIP", "FROM FILE", "SOURCE FILE"):
                target = event.edits[0] if len(event.edits) == 1 or key != "SOURCE FILE" else event.edits[-1]
                if target.source_file is None:
                    target.source_file = value
            elif key == "LOC":
                event.markers.append(value)
            elif key == "FRMC START":
                fm = re.match(r"(\d+)\s+FRMC END\s*:\s*(\d+)\s+FRMC DURATION\s*:\s*(\d+)\Z",
                              value, re.I)
                if not fm:
                    raise InterchangeError(path, f"expected 'FRMC START: n FRMC END: n FRMC "
                                           f"DURATION: n', found {s!r}", line=lineno, field="FRMC")
                event.frame_counts = (int(fm[1]), int(fm[2]), int(fm[3]))
            event.comments.append(s)
            continue
        if event is not None and s.startswith("*") and _EFFECT_COMMENT.match(body):
            event.unsupported.append(f"effect (line {lineno}): {body}")
        note(s, lineno)

    for ev in edl.events:
        _finish_event(ev, rate)
        if ev.cdl is not None:
            _warn_ranges(path, ev.line, ev.cdl)
    return edl


def _set_event_cdl(event: Event, sop_v: tuple | None, sat_v: float | None, path,
                   lineno: int) -> None:
    edit = event.edits[-1]
    desc = f"{Path(path).name} event {event.number_text} (line {event.line}), reel {edit.reel}"
    slope, offset, power = sop_v if sop_v else ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    event.cdl = CDL(slope=slope, offset=offset, power=power,
                    saturation=1.0 if sat_v is None else sat_v, id=None, description=(desc,))


def _finish_event(ev: Event, rate: int) -> None:
    for i, edit in enumerate(ev.edits):
        t = edit.transition
        if t.kind != "cut":
            prev = ev.edits[i - 1]
            label = {"dissolve": "dissolve", "wipe": f"wipe {t.wipe_code}", "key": "key"}[t.kind]
            ev.unsupported.append(
                f"{label} ({t.code}, {t.duration} frames, line {edit.line}) from reel "
                f"{prev.reel} to reel {edit.reel}: two sources are mixed over the transition")
        if edit.source_duration < 0 or edit.record_duration < 0:
            ev.unsupported.append(
                f"an out point is before its in point (line {edit.line}): source "
                f"{edit.source_in}-{edit.source_out}, record {edit.record_in}-{edit.record_out}")
        elif ev.speed is None and edit.source_duration != edit.record_duration:
            ev.unsupported.append(
                f"source duration {edit.source_duration} frames differs from record duration "
                f"{edit.record_duration} frames at {rate} fps (line {edit.line}) with no M2 speed "
                "line: timecodes do not add up")


# --------------------------------------------------------------------------- LUT files

@dataclass
class LutTables:
    """Tables of a LUT file, as numpy float64 arrays.

    ``table_1d`` has shape (N, 3) (R, G, B columns), ``table_3d`` shape (N, N, N, 3) indexed
    ``[r][g][b]`` -> output (R, G, B), whatever the file's row order (.cube lists red fastest,
    .3dl blue fastest, .spi3d names the indices). ``domain_1d`` / ``domain_3d`` are
    ``[[min R, min G, min B], [max R, max G, max B]]`` input ranges. .3dl values stay integer
    code values of ``bit_depth`` bits (divide by ``2**bit_depth - 1`` for 0..1); the other
    formats hold floats as written.
    """

    format: str
    table_1d: np.ndarray | None
    table_3d: np.ndarray | None
    domain_1d: list[list[float]] | None
    domain_3d: list[list[float]] | None
    title: str | None
    comments: list[str]
    bit_depth: int | None = None
    shaper: list[int] | None = None
    notes: list[str] = field(default_factory=list)


def _rows(path, lines: list[tuple[int, str]], what: str) -> np.ndarray:
    out = np.empty((len(lines), 3), dtype=np.float64)
    for i, (lineno, s) in enumerate(lines):
        out[i] = _triple(s, path, lineno, what)
    return out


def _parse_cube(path, text: str) -> LutTables:
    title = None
    comments: list[str] = []
    notes: list[str] = []
    size_1d = size_3d = None
    dmin = dmax = None
    range_1d = range_3d = None
    data: list[tuple[int, str]] = []
    last_line = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        last_line = lineno
        s = raw.strip()
        if not s:
            continue
        if s.startswith("#"):
            comments.append(s[1:].strip())
            continue
        first = s.split()[0]
        if _NUMBER.match(first):
            data.append((lineno, s))
            continue
        key = first.upper()
        if data:
            raise InterchangeError(path, f"expected 3 numbers (R G B) in the table, found {s!r}",
                                   line=lineno, field="table")
        rest = s[len(first):].strip()
        if key == "TITLE":
            m = re.match(r'"(.*)"\Z', rest)
            title = m[1] if m else rest
        elif key in ("LUT_1D_SIZE", "LUT_3D_SIZE"):
            if not re.fullmatch(r"\d+", rest) or int(rest) < 2:
                raise InterchangeError(path, f"expected a size >= 2, found {rest!r}", line=lineno,
                                       field=key)
            if key == "LUT_1D_SIZE":
                size_1d = int(rest)
            else:
                size_3d = int(rest)
        elif key in ("DOMAIN_MIN", "DOMAIN_MAX"):
            v = list(_triple(rest, path, lineno, key))
            if key == "DOMAIN_MIN":
                dmin = v
            else:
                dmax = v
        elif key in ("LUT_1D_INPUT_RANGE", "LUT_3D_INPUT_RANGE"):
            parts = rest.split()
            if len(parts) != 2:
                raise InterchangeError(path, f"expected 2 numbers (min max), found {rest!r}",
                                       line=lineno, field=key)
            lo, hi = (_number(p, path, lineno, key) for p in parts)
            if key == "LUT_1D_INPUT_RANGE":
                range_1d = [[lo] * 3, [hi] * 3]
            else:
                range_3d = [[lo] * 3, [hi] * 3]
        else:
            notes.append(f"line {lineno}: unknown keyword {first!r} ignored")
            logger.warning("%s, line %d: unknown .cube keyword %r ignored", path, lineno, first)
    if size_1d is None and size_3d is None:
        raise InterchangeError(path, "expected LUT_1D_SIZE or LUT_3D_SIZE before the table; "
                               "neither is given", line=data[0][0] if data else last_line,
                               field="LUT size")
    expected = (size_1d or 0) + (size_3d or 0) ** 3
    if len(data) != expected:
        parts = []
        if size_1d:
            parts.append(f"{size_1d} (LUT_1D_SIZE)")
        if size_3d:
            parts.append(f"{size_3d}^3 = {size_3d ** 3} (LUT_3D_SIZE)")
        line = data[expected][0] if len(data) > expected else last_line
        raise InterchangeError(path, f"expected {expected} table entries = {' + '.join(parts)}, "
                               f"found {len(data)}", line=line, field="table")
    if (dmin is None) != (dmax is None):
        raise InterchangeError(path, "DOMAIN_MIN and DOMAIN_MAX must be given together",
                               field="DOMAIN_MIN/DOMAIN_MAX")
    domain = [dmin, dmax] if dmin is not None else None
    for name, d in (("DOMAIN", domain), ("LUT_1D_INPUT_RANGE", range_1d),
                    ("LUT_3D_INPUT_RANGE", range_3d)):
        if d is not None and any(lo >= hi for lo, hi in zip(d[0], d[1], strict=True)):
            raise InterchangeError(path, f"minimum must be below maximum: {d}", field=name)
    if range_1d is not None and size_1d is None:
        notes.append("LUT_1D_INPUT_RANGE given but the file has no 1D table; ignored (as "
                     "colour-science does)")
        range_1d = None
    if range_3d is not None and size_3d is None:
        notes.append("LUT_3D_INPUT_RANGE given but the file has no 3D table; ignored")
        range_3d = None
    unit = [[0.0] * 3, [1.0] * 3]
    table = _rows(path, data, "table")
    t1 = t3 = None
    d1 = d3 = None
    if size_1d:
        t1 = table[:size_1d]
        d1 = range_1d or domain or unit
    if size_3d:
        n = size_3d
        # file rows: index = r + n*g + n*n*b (red fastest) -> reshape gives [b][g][r]
        t3 = table[(size_1d or 0):].reshape(n, n, n, 3).transpose(2, 1, 0, 3).copy()
        d3 = range_3d or (domain if not size_1d else None) or unit
    return LutTables("cube", t1, t3, d1, d3, title, comments, notes=notes)


def _parse_spi3d(path, text: str) -> LutTables:
    lines = [(i, raw.strip()) for i, raw in enumerate(text.splitlines(), 1)]
    content = [(i, s) for i, s in lines if s and not s.startswith("#")]
    if not content or not content[0][1].upper().startswith("SPILUT"):
        raise InterchangeError(path, "expected 'SPILUT 1.0' on the first line",
                               line=content[0][0] if content else 1, field="header")
    if len(content) < 3:
        raise InterchangeError(path, "expected the '3 3' and size lines after SPILUT",
                               line=content[-1][0], field="header")
    sizes = content[2][1].split()
    if len(sizes) != 3 or not all(x.isdigit() for x in sizes):
        raise InterchangeError(path, f"expected three sizes 'N N N', found {content[2][1]!r}",
                               line=content[2][0], field="size")
    nr, ng, nb = (int(x) for x in sizes)
    if not (nr == ng == nb) or nr < 2:
        raise InterchangeError(path, f"expected equal sizes >= 2, found {nr} {ng} {nb}",
                               line=content[2][0], field="size")
    n = nr
    table = np.full((n, n, n, 3), np.nan)
    count = 0
    for lineno, s in content[3:]:
        parts = s.split()
        if len(parts) != 6:
            raise InterchangeError(path, f"expected 'r g b R G B' (6 columns), found {len(parts)}",
                                   line=lineno, field="table")
        idx = []
        for p in parts[:3]:
            if not p.isdigit() or int(p) >= n:
                raise InterchangeError(path, f"expected an index 0..{n - 1}, found {p!r}",
                                       line=lineno, field="index")
            idx.append(int(p))
        r, g, b = idx
        if not np.isnan(table[r, g, b, 0]):
            raise InterchangeError(path, f"entry ({r}, {g}, {b}) given twice", line=lineno,
                                   field="index")
        table[r, g, b] = _triple(" ".join(parts[3:]), path, lineno, "table")
        count += 1
    if count != n ** 3:
        raise InterchangeError(path, f"expected {n ** 3} entries ({n}^3), found {count}",
                               line=lines[-1][0] if lines else None, field="table")
    unit = [[0.0] * 3, [1.0] * 3]
    return LutTables("spi3d", None, table, None, unit, None,
                     [s[1:].strip() for _, s in lines if s.startswith("#")])


def _bits_for(max_value: int) -> int:
    for bits in (8, 10, 12, 14, 16):
        if max_value <= 2 ** bits - 1:
            return bits
    return 32


def _parse_3dl(path, text: str) -> LutTables:
    comments: list[str] = []
    shaper: list[int] | None = None
    shaper_line = None
    mesh_bits: tuple[int, int] | None = None
    rows: list[tuple[int, list[int]]] = []
    last_line = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        last_line = lineno
        s = raw.strip()
        if not s:
            continue
        if s.startswith("#"):
            comments.append(s[1:].strip())
            continue
        parts = s.split()
        key = parts[0].upper()
        if key in ("3DMESH", "LUT8", "GAMMA"):
            continue
        if key == "MESH":
            if len(parts) != 3 or not all(p.isdigit() for p in parts[1:]):
                raise InterchangeError(path, f"expected 'Mesh <input bits> <output bits>', found "
                                       f"{s!r}", line=lineno, field="Mesh")
            mesh_bits = (int(parts[1]), int(parts[2]))
            continue
        values = []
        for p in parts:
            if not re.fullmatch(r"[+-]?\d+", p):
                raise InterchangeError(path, f"expected integer code values, found {p!r}",
                                       line=lineno,
                                       field="table" if shaper is not None or rows else "shaper")
            values.append(int(p))
        if shaper is None and not rows and len(values) != 3:
            shaper, shaper_line = values, lineno
            continue
        if len(values) != 3:
            raise InterchangeError(path, f"expected 3 integers (R G B), found {len(values)}",
                                   line=lineno, field="table")
        rows.append((lineno, values))
    if shaper is not None:
        n = len(shaper)
        if any(b <= a for a, b in zip(shaper, shaper[1:], strict=False)):
            raise InterchangeError(path, "shaper (input) values must increase", line=shaper_line,
                                   field="shaper")
    else:
        n = round(len(rows) ** (1 / 3)) if rows else 0
    if mesh_bits is not None and n != 2 ** mesh_bits[0] + 1:
        raise InterchangeError(path, f"Mesh input bits {mesh_bits[0]} mean a grid of "
                               f"{2 ** mesh_bits[0] + 1}, the shaper line has {n} entries",
                               line=shaper_line, field="shaper")
    if n < 2 or len(rows) != n ** 3:
        why = (f"the {n}-entry shaper line (line {shaper_line}) needs {n ** 3} entries ({n}^3)"
               if shaper is not None else f"{len(rows)} entries are not a cube of a size >= 2")
        raise InterchangeError(path, f"cannot infer the 3D LUT size: {why}, found {len(rows)} "
                               "(truncated file?)", line=last_line, field="table")
    table = np.array([v for _, v in rows], dtype=np.float64)
    max_out = int(table.max()) if table.size else 0
    bits = mesh_bits[1] if mesh_bits else _bits_for(max_out)
    if max_out > 2 ** bits - 1:
        raise InterchangeError(path, f"value {max_out} exceeds the {bits}-bit output range",
                               field="table")
    # .3dl rows: blue fastest -> index = b + n*g + n*n*r, reshape gives [r][g][b] directly
    t3 = table.reshape(n, n, n, 3)
    in_max = 2 ** _bits_for(shaper[-1]) - 1 if shaper else n - 1
    in_bits = _bits_for(shaper[-1]) if shaper else None
    lo = (shaper[0] / in_max) if shaper else 0.0
    hi = (shaper[-1] / in_max) if shaper else 1.0
    lut = LutTables("3dl", None, t3, None, [[lo] * 3, [hi] * 3], None, comments, bit_depth=bits,
                    shaper=shaper)
    if in_bits is not None:
        lut.notes.append(f"input (shaper) code values are {in_bits}-bit, output {bits}-bit")
    return lut


_LUT_READERS = {".cube": _parse_cube, ".spi3d": _parse_spi3d, ".3dl": _parse_3dl}


def load_lut(path: str | os.PathLike[str]) -> LutTables:
    """Read a .cube, .spi3d or .3dl file into numpy tables (see :class:`LutTables`).

    Raises
    ------
    InterchangeError
        Unknown extension, wrong entry count, non-numeric value, missing size, bad header.
    """
    suffix = Path(path).suffix.lower()
    reader = _LUT_READERS.get(suffix)
    if reader is None:
        raise InterchangeError(path, f"expected a .cube, .spi3d or .3dl LUT, not {suffix or 'no extension'!r}")
    text = _read_bytes(path).decode("utf-8", errors="replace")
    return reader(path, text)


def load_cube(path: str | os.PathLike[str]) -> LutTables:
    """Read a .cube file into numpy tables.

    The 3D table is read in file order, where red changes fastest (row ``r + N*g + N*N*b``),
    and returned reshaped to ``table_3d[r][g][b] -> (R, G, B)``, shape (N, N, N, 3). A
    Resolve-style file with a shaper gives both ``table_1d`` (N1, 3) and ``table_3d``.
    """
    if Path(path).suffix.lower() != ".cube":
        raise InterchangeError(path, "expected a .cube file")
    return load_lut(path)


def read_lut_info(path: str | os.PathLike[str]) -> dict:
    """Describe a LUT file for checking before OpenColorIO applies it.

    Returns
    -------
    dict
        ``format`` ("cube", "spi3d", "3dl"); ``kind`` ("1D", "3D" or "1D+3D" for a shaper and
        cube); ``size`` (the 3D grid size, else the 1D length); ``size_1d``, ``size_3d``;
        ``domain`` (input range ``[[min R, G, B], [max R, G, B]]`` of the 3D table, else of the
        1D table); ``domain_1d``, ``domain_3d``; ``title``; ``comments``; ``bit_depth`` (.3dl
        output code-value bits, else ``None``); ``shaper`` (.3dl input values); ``notes``
        (quirks met, e.g. an input range that applies to nothing); ``sha256`` of the file bytes.

    Raises
    ------
    InterchangeError
        As :func:`load_lut`, naming the file and line.
    """
    lut = load_lut(path)
    size_1d = None if lut.table_1d is None else int(lut.table_1d.shape[0])
    size_3d = None if lut.table_3d is None else int(lut.table_3d.shape[0])
    kind = "1D+3D" if size_1d and size_3d else ("3D" if size_3d else "1D")
    return {
        "path": str(path),
        "format": lut.format,
        "kind": kind,
        "size": size_3d if size_3d else size_1d,
        "size_1d": size_1d,
        "size_3d": size_3d,
        "domain": lut.domain_3d if size_3d else lut.domain_1d,
        "domain_1d": lut.domain_1d,
        "domain_3d": lut.domain_3d,
        "title": lut.title,
        "comments": lut.comments,
        "bit_depth": lut.bit_depth,
        "shaper": lut.shaper,
        "notes": lut.notes,
        "sha256": hashlib.sha256(_read_bytes(path)).hexdigest(),
    }
