"""Inspecting a scan: find the sequence, read every frame once, check it, digest it, report.

This is what `python -m restoration inspect` prints and what the scan import records. The
report's JSON form is a contract (README, issue 3): counts and frame numbers are integers,
header facts come from the first good frame, DPX-only facts are null for TIFF.
"""
from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restoration import dpx, fixity
from restoration.sequence import Discovery, Sequence, find_sequences, pick

log = logging.getLogger(__name__)

TIFF_SUFFIXES = (".tif", ".tiff")
DPX_SUFFIXES = (".dpx",)


@dataclass
class FrameFacts:
    """The facts that must agree across a sequence, and the ones reported from its first frame."""

    width: int
    height: int
    bit_depth: int
    channels: int
    kind: str  # "dpx" | "tiff"
    descriptor: dict[str, Any] | None = None
    transfer: dict[str, Any] | None = None
    colorimetric: dict[str, Any] | None = None
    fps: float | None = None
    timecode: str | None = None
    keycode: dict[str, str] | None = None
    creator: str = ""
    scanner: str = ""

    def shape(self) -> tuple[int, int, int, int]:
        return (self.width, self.height, self.bit_depth, self.channels)

    def describe(self) -> str:
        return f"{self.width}x{self.height} {self.bit_depth}-bit {self.channels}-channel"


@dataclass
class FrameOutcome:
    facts: FrameFacts | None
    errors: list[str]
    warnings: list[str]


def _code(code: int, name: str) -> dict[str, Any]:
    return {"code": code, "name": name}


def inspect_dpx_frame(buf: memoryview, name: str, size: int) -> FrameOutcome:
    check = dpx.check_frame(buf, name=name, file_size=size)
    h = check.header
    if h is None or check.errors:
        return FrameOutcome(None, list(check.errors), list(check.warnings))
    el = h.elements[0]
    kc = h.keycode
    facts = FrameFacts(
        width=h.width, height=h.height, bit_depth=el.bit_depth, channels=h.channels, kind="dpx",
        descriptor=_code(el.descriptor, h.descriptor_name),
        transfer=_code(el.transfer, h.transfer_name),
        colorimetric=_code(el.colorimetric, h.colorimetric_name),
        fps=h.fps, timecode=h.timecode,
        keycode=None if kc is None else {
            "manufacturer": kc.manufacturer, "film_type": kc.film_type, "prefix": kc.prefix,
            "count": kc.count, "perf_offset": kc.perf_offset},
        creator=h.creator, scanner=" ".join(filter(None, [h.input_device, h.input_serial])),
    )
    return FrameOutcome(facts, [], list(check.warnings))


def inspect_tiff_frame(buf: memoryview, name: str, size: int) -> FrameOutcome:
    import io

    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(buf)) as tif:
            page = tif.pages.first
            errors = []
            for offset, count in zip(page.dataoffsets, page.databytecounts, strict=False):
                if offset + count > size:
                    errors.append(f"{name}: truncated: image data needs {offset + count} bytes, "
                                  f"file has {size}")
                    break
            samples = int(page.samplesperpixel)
            facts = FrameFacts(width=int(page.imagewidth), height=int(page.imagelength),
                               bit_depth=int(page.bitspersample), channels=samples, kind="tiff",
                               creator=str(page.software or ""))
            if errors:
                return FrameOutcome(None, errors, [])
            return FrameOutcome(facts, [], [])
    except Exception as exc:  # tifffile raises several kinds for broken files
        return FrameOutcome(None, [f"{name}: not a readable TIFF ({exc})"], [])


INSPECTORS: dict[str, Callable[[memoryview, str, int], FrameOutcome]] = {
    **{s: inspect_dpx_frame for s in DPX_SUFFIXES},
    **{s: inspect_tiff_frame for s in TIFF_SUFFIXES},
}


@dataclass
class InspectReport:
    folder: Path
    pattern: str
    frames: int
    first: int
    last: int
    missing: list[int]
    duplicates: list[list[str]]
    bad_frames: list[dict[str, Any]]
    warnings: list[str]
    facts: FrameFacts | None
    bytes: int
    manifest: fixity.Manifest | None
    algorithms: list[str]
    others: list[str] = field(default_factory=list)
    seconds: float = 0.0
    keycode_last: dict[str, str] | None = None  # the last good frame's KeyKode

    @property
    def usable(self) -> bool:
        return self.facts is not None

    def as_dict(self) -> dict[str, Any]:
        f = self.facts
        return {
            "folder": str(self.folder), "pattern": self.pattern,
            "frames": self.frames, "first": self.first, "last": self.last,
            "missing": self.missing, "duplicates": self.duplicates,
            "bad_frames": self.bad_frames, "warnings": self.warnings,
            "width": f.width if f else None, "height": f.height if f else None,
            "bit_depth": f.bit_depth if f else None, "channels": f.channels if f else None,
            "descriptor": f.descriptor if f else None, "transfer": f.transfer if f else None,
            "colorimetric": f.colorimetric if f else None, "fps": f.fps if f else None,
            "timecode": f.timecode if f else None, "keycode": f.keycode if f else None,
            "creator": f.creator if f else None, "scanner": (f.scanner or None) if f else None,
            "bytes": self.bytes,
            "manifest": str(self.manifest.path) if self.manifest else None,
            "manifest_digest": self.manifest.digest if self.manifest else None,
            "algorithms": self.algorithms, "others": self.others,
            "keycode_last": self.keycode_last,
        }


class UnusableSequence(ValueError):
    """No sequence, several and none picked, or no frame that can be read."""


def _summarise(per_frame: dict[str, list[tuple[int, str]]]) -> list[str]:
    """One line per distinct warning, however many frames share it."""
    lines = []
    for message, frames in per_frame.items():
        frames.sort()
        if len(frames) == 1:
            lines.append(f"{frames[0][1]}: {message}")
        else:
            lines.append(f"{len(frames)} frames ({frames[0][1]} … {frames[-1][1]}): {message}")
    return lines


def _strip_name(message: str, name: str) -> str:
    prefix = f"{name}: "
    return message[len(prefix):] if message.startswith(prefix) else message


@dataclass
class Plan:
    """What was found when an import began; the whole import works from it, so files that
    appear in the folder later are not silently taken in."""

    folder: Path
    pattern: str
    prefix: str
    suffix: str
    entries: list[tuple[int, str]]  # every file of the sequence, duplicates included, frame order
    count: int  # distinct frame numbers
    first: int
    last: int
    missing: list[int]
    duplicates: list[list[str]]
    others: list[str]

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["folder"] = str(self.folder)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Plan:
        return cls(**{**d, "folder": Path(d["folder"]),
                      "entries": [tuple(e) for e in d["entries"]]})


def plan_sequence(folder: Path, pattern: str | None = None) -> Plan:
    """Find the sequence to import in `folder`. Raises UnusableSequence when there is none,
    or several and `pattern` picks none of them (the message lists the choices)."""
    discovery: Discovery = find_sequences(folder)
    if pattern is None:
        # Only image sequences are candidates: a numbered WAV beside the frames is not a choice.
        images = [s for s in discovery.sequences if s.suffix.lower() in INSPECTORS]
        others = sorted(discovery.others + [n for s in discovery.sequences if s not in images
                                            for n in s.all_names()])
        discovery = Discovery(folder=discovery.folder, sequences=images, others=others)
    try:
        seq: Sequence = pick(discovery, pattern)
    except Exception as exc:
        raise UnusableSequence(str(exc)) from exc
    if seq.suffix.lower() not in INSPECTORS:
        raise UnusableSequence(f"{seq.pattern}: {seq.suffix or 'no extension'} frames cannot "
                               f"be imported; expected {', '.join(sorted(INSPECTORS))}")
    listed = {name for _, name in seq.frames}
    entries = sorted(list(seq.frames) + [(frame_of(seq, n), n) for group in seq.duplicates
                                         for n in group if n not in listed])
    others = sorted(discovery.others + [n for s in discovery.sequences if s is not seq
                                        for n in s.all_names()])
    return Plan(folder=folder, pattern=seq.pattern, prefix=seq.prefix, suffix=seq.suffix,
                entries=entries, count=seq.count, first=seq.first, last=seq.last,
                missing=seq.missing, duplicates=seq.duplicates, others=others)


@dataclass
class FrameRecord:
    """One file's outcome as plain data (it is what a chunk job stores)."""

    frame: int
    name: str
    size: int
    digests: dict[str, str]
    errors: list[str]
    warnings: list[str]
    facts: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FrameRecord:
        return cls(**d)


def read_frames(plan: Plan, entries: list[tuple[int, str]] | None = None, *,
                algorithms: tuple[str, ...] = ("sha256",), workers: int | None = None,
                on_progress: Callable[[int, int], None] | None = None) -> list[FrameRecord]:
    """Read, check and digest `entries` (default: all of the plan's), once each, in order."""
    from dataclasses import asdict

    entries = plan.entries if entries is None else entries
    inspector = INSPECTORS[plan.suffix.lower()]
    records = []
    results = fixity.digest_files(
        (plan.folder / name for _, name in entries), algorithms, inspect=inspector,
        workers=workers, on_progress=on_progress, names=[name for _, name in entries])
    for (frame, name), result in zip(entries, results, strict=True):
        if result.error:
            records.append(FrameRecord(frame, name, 0, {}, [_strip_name(result.error, name)],
                                       [], None))
            continue
        outcome: FrameOutcome = result.extra
        records.append(FrameRecord(
            frame, name, result.size, result.digests,
            [_strip_name(e, name) for e in outcome.errors],
            [_strip_name(w, name) for w in outcome.warnings],
            asdict(outcome.facts) if outcome.facts is not None else None))
    return records


def summarise(plan: Plan, records: list[FrameRecord], *, algorithms: tuple[str, ...] = ("sha256",),
              manifest_dir: Path | None = None, bag_info: dict[str, str] | None = None,
              seconds: float = 0.0) -> InspectReport:
    """Turn per-frame records into the report; write the manifest when `manifest_dir` is given.

    Frames whose size, bit depth or channel count differ from the sequence's most common ones
    are bad frames; header facts are the first frame's when it is good.
    """
    bad: list[dict[str, Any]] = []
    warned: dict[str, list[tuple[int, str]]] = defaultdict(list)
    good: list[tuple[int, str, FrameFacts]] = []
    for r in records:
        for w in r.warnings:
            warned[w].append((r.frame, r.name))
        if r.errors or r.facts is None:
            bad.append({"frame": r.frame, "file": r.name, "error": "; ".join(r.errors)})
        else:
            good.append((r.frame, r.name, FrameFacts(**r.facts)))

    facts = None
    if good:
        common = Counter(f.shape() for _, _, f in good).most_common(1)[0][0]
        reference = next(f for _, _, f in good if f.shape() == common)
        for frame, name, f in good:
            if f.shape() != common:
                bad.append({"frame": frame, "file": name,
                            "error": f"{f.describe()}, unlike the rest of the sequence "
                                     f"({reference.describe()})"})
        # timecode and keycode are the first frame's (the first frame of the sequence, if good)
        facts = good[0][2] if good[0][2].shape() == common else reference
    bad.sort(key=lambda b: (b["frame"], b["file"]))

    manifest = None
    readable = [r for r in records if r.digests]
    if manifest_dir is not None and readable:
        info = {
            "Bagging-Software": "Reelkeeper restoration.inspect",
            "Sequence-Pattern": plan.pattern,
            "Frame-Count": str(plan.count), "First-Frame": str(plan.first),
            "Last-Frame": str(plan.last), "Missing-Frames": str(len(plan.missing)),
            "Bad-Frames": str(len(bad)),
            **({"Image-Size": f"{facts.width}x{facts.height}", "Bit-Depth": str(facts.bit_depth)}
               if facts else {}),
            **(bag_info or {}),
        }
        manifest = fixity.write_manifest(
            manifest_dir, [fixity.FileResult(r.name, r.size, r.digests) for r in readable],
            algorithm=algorithms[0], bag_info=info)

    return InspectReport(
        folder=plan.folder, pattern=plan.pattern, frames=plan.count, first=plan.first,
        last=plan.last, missing=plan.missing, duplicates=plan.duplicates, bad_frames=bad,
        warnings=_summarise(warned), facts=facts, bytes=sum(r.size for r in records),
        manifest=manifest, algorithms=list(algorithms), others=plan.others, seconds=seconds,
        keycode_last=good[-1][2].keycode if good else None)


def inspect_sequence(folder: Path, pattern: str | None = None, *,
                     manifest_dir: Path | None = None, algorithms: tuple[str, ...] = ("sha256",),
                     workers: int | None = None,
                     on_progress: Callable[[int, int], None] | None = None,
                     bag_info: dict[str, str] | None = None) -> InspectReport:
    """Find the sequence in `folder`, read and check every frame once, and digest it.

    Raises UnusableSequence when there is nothing to import. The source files are only read.
    """
    started = time.perf_counter()
    plan = plan_sequence(folder, pattern)
    records = read_frames(plan, algorithms=algorithms, workers=workers, on_progress=on_progress)
    return summarise(plan, records, algorithms=algorithms, manifest_dir=manifest_dir,
                     bag_info=bag_info, seconds=time.perf_counter() - started)


def frame_of(seq: Sequence, name: str) -> int:
    """The frame number a file name of `seq` carries."""
    digits = name[len(seq.prefix):len(name) - len(seq.suffix)]
    return int(digits)
