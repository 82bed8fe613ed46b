"""DPX headers (restoration.dpx): the external test files, OpenImageIO as a reference, and
headers built here byte by byte.

The expectations in EXPECTED are written by hand from /work/shared/external/PROVENANCE.md
("Exercises", "Expectation", "Collector check"); where a reason is inferred rather than stated
there, the comment says so. The header layout used by `build` is written from SMPTE ST 268.
"""
from __future__ import annotations

import dataclasses
import math
import struct
from typing import Any

import numpy as np
import OpenImageIO as oiio
import pytest

from fixtures.external import external
from restoration import dpx

EXTERNAL = external()
GLOBS = ("dpx/*.dpx", "malformed/*.dpx", "sequence/dpx_wav_pair/*.dpx")

# Substrings of check_frame's warnings, one per kind of problem.
SIZE_FIELD = "total file size field"
PADDING = "padding bits are not zero"
VERSION = "version field"
ELEMENTS = "2 image elements: the first is read"
NO_IMAGE_OFFSET = "image offset field is 0"
NO_LINE_PADDING = "lines are not padded to 32-bit words"

AE = "Adobe After Effects Cineon Format"
LAVC_FRAME = dict(outcome="read", order="little", version="V1.0", size=(176, 144), descriptor=50,
                  depth=8, offset=1664, creator="Lavc58.25.100")
NUCODA = dict(order="big", version="V2.0", descriptor=50, depth=12, packing=0, transfer=3,
              colorimetric=3, creator="nucoda", input_device="master")
NUKE_CHECKER = dict(size=(1920, 4), packing=1, offset=8192, creator="Nuke")
SCANITY = dict(order="big", version="V2.0", size=(4, 4), descriptor=6, depth=10, packing=2,
               transfer=1, colorimetric=1, input_device="Scanity V3.0.4")

# file (relative to EXTERNAL) -> expected outcome, the warnings ("warns") or the refusal reason
# ("because"), and header facts. Every warning check_frame gives must be listed.
EXPECTED: dict[str, dict[str, Any]] = {
    "dpx/oiio_dpx_nuke_10bits_rgb.dpx": dict(
        outcome="read", order="big", version="V1.0", size=(512, 512), elements=1, descriptor=50,
        depth=10, packing=1, transfer=0, colorimetric=0, creator="Nuke",
        created="2011:03:08:14:47:25", frame_position=32895, timecode="00:00:00:00",
        orientation=0),
    "dpx/oiio_dpx_nuke_16bits_rgba.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), order="big", version="V1.0", size=(512, 512),
        descriptor=51, depth=10, packing=1, creator="Nuke", created="2011:03:08:14:47:01",
        file_size_field=1050624),
    "dpx/oiio_L.dpx": dict(
        outcome="read", order="little", version="V2.0", size=(80, 60), descriptor=50, depth=10,
        packing=1, transfer=255, creator_starts="OpenImageIO 1.3.2dev",
        description="view angle: left"),
    "dpx/oiio_R.dpx": dict(
        outcome="read", order="little", version="V2.0", size=(80, 60), descriptor=50, depth=10,
        packing=1, transfer=255, creator_starts="OpenImageIO 1.3.2dev",
        description="view angle: right"),
    "dpx/oiio_stereo.dpx": dict(
        outcome="warn", warns=(ELEMENTS,), order="little", size=(80, 60), elements=2, depth=10,
        packing=1, second_offset=21248),
    "dpx/rawcooked_AE_8bit.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), order="big", version="V1.0", size=(600, 402),
        descriptor=50, depth=8, creator=AE, file_size_field=966848),
    "dpx/rawcooked_AE_10bit.dpx": dict(  # the one whose real size is 966848
        outcome="read", order="big", version="V1.0", size=(600, 402), descriptor=50, depth=10,
        packing=1, creator=AE, file_size_field=966848),
    "dpx/rawcooked_AE_12bit.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), order="big", version="V1.0", size=(600, 402),
        descriptor=50, depth=12, packing=0, creator=AE, file_size_field=966848),
    "dpx/rawcooked_AE_16bit.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), order="big", version="V1.0", size=(600, 402),
        descriptor=50, depth=16, creator=AE, file_size_field=966848),
    "dpx/rawcooked_AE_8bit_a.dpx": dict(  # 966,848 bytes: the size field is right here
        outcome="read", order="big", version="V1.0", size=(600, 402), descriptor=51, depth=8,
        creator=AE, file_size_field=966848),
    "dpx/rawcooked_AE_10bit_a.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), order="big", version="V1.0", size=(600, 402),
        descriptor=51, depth=10, packing=1, creator=AE),
    "dpx/rawcooked_AE_12bit_a.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), order="big", version="V1.0", size=(600, 402),
        descriptor=51, depth=12, packing=0, creator=AE),
    "dpx/rawcooked_AE_16bit_a.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), order="big", version="V1.0", size=(600, 402),
        descriptor=51, depth=16, creator=AE),
    "dpx/rawcooked_AE_10bit_600x4_padbits.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD, PADDING), order="big", size=(600, 4), depth=10,
        packing=1, file_size_field=966848, padding_words=1),
    "dpx/rawcooked_nuke_checker_LE_10bit_rgba_1920x4.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD, PADDING), order="little", descriptor=51, depth=10,
        padding_words=1, **NUKE_CHECKER),
    "dpx/rawcooked_nuke_checker_BE_12bit_rgb_1920x4.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD, PADDING), order="big", descriptor=50, depth=12,
        padding_words=1, **NUKE_CHECKER),
    "dpx/rawcooked_nuke_checker_LE_12bit_rgb_1920x4.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD, PADDING), order="little", descriptor=50, depth=12,
        padding_words=1, **NUKE_CHECKER),
    "dpx/rawcooked_nuke_checker_LE_12bit_rgba_1920x4.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD, PADDING), order="little", descriptor=51, depth=12,
        padding_words=1, **NUKE_CHECKER),
    "dpx/rawcooked_TCS_Scan_LE_10bit_printing_density_1920x4.dpx": dict(
        # size field: inferred (a 1920x4 crop of a full frame)
        outcome="warn", warns=(SIZE_FIELD, PADDING), order="little", size=(1920, 4),
        descriptor=50, depth=10, packing=1, colorimetric=1, offset=4096, creator="TCS Scan V1.0",
        padding_words=1),
    "dpx/rawcooked_FFmpeg_gray_Y8_LE.dpx": dict(
        outcome="read", order="little", size=(80, 60), descriptor=6, depth=8, offset=1664,
        transfer=2, colorimetric=2, creator="Lavc58.54.100", industry=False),
    "dpx/rawcooked_FFmpeg_gray16be.dpx": dict(
        outcome="read", order="big", size=(80, 60), descriptor=6, depth=16, offset=1664,
        industry=False),
    "dpx/rawcooked_FFmpeg_gray16le.dpx": dict(
        outcome="read", order="little", size=(80, 60), descriptor=6, depth=16, offset=1664,
        industry=False),
    "dpx/rawcooked_Lavc_version_V1.0i.dpx": dict(
        outcome="warn", warns=(VERSION,), version="V1.0i", order="little", size=(16, 16),
        descriptor=50, depth=8),
    "dpx/rawcooked_Lavc_version_v2.0_lowercase.dpx": dict(
        outcome="warn", warns=(VERSION,), version="v2.0", order="little", size=(16, 16),
        descriptor=50, depth=8),
    "dpx/rawcooked_conf_0004_OffsetToImageData_zero.dpx": dict(
        outcome="warn", warns=(NO_IMAGE_OFFSET,), image_offset=0, offset=1664, size=(8, 8),
        order="little", descriptor=50, depth=8),
    "dpx/rawcooked_conf_0008_VersionNumber_null.dpx": dict(
        outcome="warn", warns=(VERSION,), version="", size=(8, 8), order="little",
        descriptor=50, depth=8),
    "dpx/rawcooked_conf_0016_TotalImageFileSize_zero.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), file_size_field=0, size=(8, 8), order="little",
        descriptor=50, depth=8),
    # nucoda, Lasergraphics, Scanity: 4-line crops made by editing a real frame's header;
    # the size field still describing the full frame is inferred, not stated.
    "dpx/rawcooked_nucoda_12bit_packed_08x4_orient2.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), size=(8, 4), orientation=2, **NUCODA),
    "dpx/rawcooked_nucoda_12bit_packed_08x4_orient0.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), size=(8, 4), orientation=0, **NUCODA),
    "dpx/rawcooked_nucoda_12bit_packed_09x4_orient2.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), size=(9, 4), orientation=2, **NUCODA),
    "dpx/rawcooked_Lasergraphics_Y10_filledA_4x4.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), order="big", version="V1.0", size=(4, 4),
        descriptor=6, depth=10, packing=1, transfer=6, colorimetric=1,
        creator="Lasergraphics Inc.", input_device="13910_MOVIE-NIGHT_PIM16",
        created="2020:01:01:00:00:00:UTC"),
    "dpx/rawcooked_Scanity_Y10_filledB_4x4.dpx": dict(
        outcome="warn", warns=(SIZE_FIELD,), **SCANITY),
    "dpx/rawcooked_Scanity_Y10_filledB_4x4_no_frame_padding.dpx": dict(
        # 6 continuous words; their bytes are all 0xFF (hex dump), so the padding bits are set
        outcome="warn", warns=(SIZE_FIELD, NO_LINE_PADDING, PADDING), padding_words=6, **SCANITY),
    "dpx/rawcooked_Y10_filledA_4x4_padding_not_zero.dpx": dict(
        # every data byte 0xFF: all 8 words (2 per line); size field inferred as above
        outcome="warn", warns=(SIZE_FIELD, PADDING), order="big", size=(4, 4), descriptor=6,
        depth=10, packing=1, padding_words=8),
    "dpx/rawcooked_daVinci_alpha_only_8bit_2048x1556_LE.dpx": dict(
        # RAWcooked rejects alpha-only frames; the header itself is sound
        outcome="read", order="little", size=(2048, 1556), descriptor=4, depth=8, transfer=1,
        offset=8192, creator="daVinci", filename="Alpha_8_bit00086400.dpx"),
    **{f"sequence/dpx_wav_pair/test_{n:06d}.dpx": LAVC_FRAME for n in range(1, 14)},
    "malformed/oiio_dpx_bomb-46341.dpx": dict(
        outcome="refuse", because="truncated: image data needs", size=(46341, 46341),
        descriptor=50, depth=10),
    "malformed/oiio_dpx_crash-badusersize.dpx": dict(
        # OIIO refuses it for its user-data size; we stop earlier, at the element count
        outcome="refuse", because="element count 256; expected 1 to 8"),
    "malformed/oiio_dpx_crash-1chan-10bit-filled-methodA.dpx": dict(
        # "junk header": size field and padding bits seen in a dump, not stated in PROVENANCE
        outcome="warn", warns=(ELEMENTS, SIZE_FIELD, PADDING), order="little", size=(80, 60),
        elements=2, descriptor=50, depth=10, packing=1),
}


def external_files() -> list[str]:
    found = {str(p.relative_to(EXTERNAL)) for g in GLOBS for p in EXTERNAL.glob(g)}
    return sorted(found | set(EXPECTED))


def data_offset(h: dpx.DpxHeader) -> int:
    el = h.elements[0]
    return el.data_offset if el.data_offset else h.image_offset


def check_facts(h: dpx.DpxHeader, facts: dict[str, Any]) -> None:
    el = h.elements[0]
    ours = {
        "order": h.byte_order, "version": h.version, "size": (h.width, h.height),
        "elements": h.element_count, "descriptor": el.descriptor, "depth": el.bit_depth,
        "packing": el.packing, "transfer": el.transfer, "colorimetric": el.colorimetric,
        "creator": h.creator, "created": h.creation_time[:len(facts.get("created", ""))],
        "frame_position": h.frame_position, "timecode": h.timecode,
        "orientation": h.orientation, "file_size_field": h.file_size_field,
        "image_offset": h.image_offset, "offset": data_offset(h),
        "input_device": h.input_device, "description": el.description,
        "filename": h.filename, "industry": h.has_industry_headers,
        "second_offset": h.elements[1].data_offset if h.element_count > 1 else None,
        "creator_starts": h.creator[:len(facts.get("creator_starts", ""))],
    }
    for key, value in facts.items():
        if key in ("outcome", "warns", "because", "padding_words"):
            continue
        assert ours[key] == value, f"{key}: ours {ours[key]!r}, expected {value!r}"


def test_every_external_dpx_is_in_the_table():
    on_disk = {str(p.relative_to(EXTERNAL)) for g in GLOBS for p in EXTERNAL.glob(g)}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("rel", external_files())
def test_external_file(rel):
    assert rel in EXPECTED, f"{rel} is not in EXPECTED: add it, written from PROVENANCE.md"
    path = EXTERNAL / rel
    assert path.is_file(), f"{rel} is in EXPECTED but not in {EXTERNAL}"
    expected = EXPECTED[rel]
    buf = path.read_bytes()
    check = dpx.check_frame(buf, name=path.name, file_size=len(buf))
    for message in check.errors + check.warnings:
        assert message.startswith(f"{path.name}: ")

    if expected["outcome"] == "refuse":
        assert check.errors, check.warnings
        assert any(expected["because"] in e for e in check.errors), check.errors
        if check.header is None:
            with pytest.raises(dpx.DpxError, match=expected["because"]):
                dpx.parse_header(buf, name=path.name)
    else:
        assert check.errors == (), check.errors
        assert check.header is not None
        warns = expected.get("warns", ())
        assert (expected["outcome"] == "warn") == bool(warns)
        for w in check.warnings:
            assert any(s in w for s in warns), f"unexpected warning: {w}"
        for s in warns:
            assert any(s in w for w in check.warnings), f"missing warning {s!r}: {check.warnings}"
        if "padding_words" in expected:
            padding = [w for w in check.warnings if PADDING in w]
            assert f"not zero in {expected['padding_words']} of " in padding[0]
    if check.header is not None:
        check_facts(check.header, expected)
        assert dpx.parse_header(buf[:dpx.HEADER_SIZE], name=path.name) == check.header


# --- OpenImageIO as the reference ----------------------------------------------------------

ABSENT = object()  # OIIO sets no such attribute
OIIO_DESCRIPTOR = {"RGB": "RGB", "RGBA": "RGBA", "luma (Y)": "Luma", "alpha (A)": "Alpha"}
OIIO_CHARACTERISTIC = {
    "user defined": "User defined", "printing density": "Printing density", "linear": "Linear",
    "logarithmic": "Logarithmic", "ITU-R 709-4": "ITU-R 709-4", "undefined": "Undefined"}
OIIO_PACKING = {0: "Packed", 1: "Filled, method A", 2: "Filled, method B"}
DPX_TO_EXIF_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 6, 6: 8, 7: 7}
FILM_TV = ("dpx:FramePosition", "dpx:TimeCode", "dpx:FrameRate", "dpx:TemporalFrameRate",
           "smpte:KeyCode")

# Files OIIO does not open: the start of its error, and why.
OIIO_FAILS = {
    **{f"dpx/rawcooked_conf_{c}.dpx": (
        "Could not read header",
        "1856-byte file with a 1664-byte header (no industry header): OIIO wants 2048 bytes")
       for c in ("0004_OffsetToImageData_zero", "0008_VersionNumber_null",
                 "0016_TotalImageFileSize_zero")},
    "malformed/oiio_dpx_bomb-46341.dpx": (
        "dpx header claims a 12288 MB image from a 21248 byte file",
        "its bomb guard; we refuse the file too (image data truncated)"),
    "malformed/oiio_dpx_crash-badusersize.dpx": (
        "Corrupt userbuf: 4160749568 bytes of user data",
        "user data past the end; we refuse the file too (element count 256)"),
}

AE_DIFFERENCES = {
    "smpte:KeyCode": ((0, 0, 0, 0, 0),
                      "key code bytes all 0xFF (undefined): OIIO reads zeros, we say None"),
    "dpx:FrameRate": (math.inf, "film frame rate stored as +inf: we say None (not finite)"),
}
INF_TV_RATE = {"dpx:TemporalFrameRate": (
    math.inf, "temporal frame rate stored as +inf: we say None (not finite)")}
NO_INDUSTRY = "no industry header (image data at 1664): OIIO reads pixel bytes as film/TV fields"


def _no_industry(frame_position: int, timecode: str) -> dict[str, tuple[Any, str]]:
    return {"dpx:FramePosition": (frame_position, NO_INDUSTRY),
            "dpx:TimeCode": (timecode, NO_INDUSTRY)}


# Attributes where OIIO (value given) and we differ, and why. For files without industry
# headers every film/TV attribute of ours must be None; the two named here are pinned exactly.
OIIO_DIFFERENCES: dict[str, dict[str, tuple[Any, str]]] = {
    **{f"dpx/rawcooked_AE_{v}.dpx": AE_DIFFERENCES
       for v in ("8bit", "10bit", "12bit", "16bit", "8bit_a", "10bit_a", "12bit_a", "16bit_a",
                 "10bit_600x4_padbits")},
    "dpx/rawcooked_nuke_checker_LE_10bit_rgba_1920x4.dpx": INF_TV_RATE,
    "dpx/rawcooked_nuke_checker_LE_12bit_rgb_1920x4.dpx": INF_TV_RATE,
    "dpx/rawcooked_nuke_checker_LE_12bit_rgba_1920x4.dpx": INF_TV_RATE,
    "dpx/rawcooked_FFmpeg_gray_Y8_LE.dpx": _no_industry(2510085348, "35:38:09;10"),
    "dpx/rawcooked_FFmpeg_gray16be.dpx": _no_industry(1766680909, "23:14:62:41"),
    "dpx/rawcooked_FFmpeg_gray16le.dpx": _no_industry(1766680909, "22:41:63:14"),
    "dpx/rawcooked_Lavc_version_V1.0i.dpx": _no_industry(0, "00:00:85:00"),
    "dpx/rawcooked_Lavc_version_v2.0_lowercase.dpx": _no_industry(0, "00:00:85:00"),
    **{f"sequence/dpx_wav_pair/test_{n:06d}.dpx": _no_industry(4244635901, "43:83:00;43")
       for n in range(1, 14)},
    **{f"dpx/rawcooked_Scanity_Y10_filledB_4x4{s}.dpx": {"dpx:InputDeviceSerialNumber": (
        "141\n", "we strip surrounding whitespace from text fields")}
       for s in ("", "_no_frame_padding")},
}


def ours_as_oiio(h: dpx.DpxHeader) -> dict[str, Any]:
    """What OIIO should report for each attribute, going by our reading of the header."""
    el = h.elements[0]
    t = h.creation_time

    def opt(value: Any) -> Any:
        return ABSENT if value is None or value == "" else value

    kc = h.keycode
    return {
        "width": h.width, "height": h.height, "nchannels": h.channels,
        "oiio:BitsPerSample": el.bit_depth, "dpx:Version": h.version,
        "dpx:ImageDescriptor": OIIO_DESCRIPTOR[h.descriptor_name],
        "dpx:Transfer": OIIO_CHARACTERISTIC[h.transfer_name],
        "dpx:Colorimetric": OIIO_CHARACTERISTIC[h.colorimetric_name],
        "dpx:Packing": OIIO_PACKING[el.packing],
        "Software": opt(h.creator),
        "DateTime": f"{t[:10]} {t[11:19]}" if t else ABSENT,
        "dpx:FramePosition": opt(h.frame_position),
        "dpx:TimeCode": opt(h.timecode),
        "dpx:FrameRate": opt(h.film_frame_rate),
        "dpx:TemporalFrameRate": opt(h.tv_frame_rate),
        "Orientation": DPX_TO_EXIF_ORIENTATION[h.orientation],
        "smpte:KeyCode": ABSENT if kc is None else tuple(
            int(p) for p in (kc.manufacturer, kc.film_type, kc.prefix, kc.count, kc.perf_offset)),
        "oiio:subimages": h.element_count,
        "ImageDescription": opt(el.description),
        "dpx:InputDevice": opt(h.input_device),
        "dpx:InputDeviceSerialNumber": opt(h.input_serial),
    }


def oiio_value(spec: Any, attr: str) -> Any:
    if attr in ("width", "height", "nchannels"):
        return getattr(spec, attr)
    value = spec.getattribute(attr)
    if value is None:
        return ABSENT
    if attr == "smpte:KeyCode":  # mfg, type, prefix, count, perf offset, perfs/frame, perfs/count
        return tuple(value[:5])
    return value


def first_line_samples(buf: bytes, h: dpx.DpxHeader, order: str) -> np.ndarray | None:
    """Samples of the first stored line, read in the given byte order, as 16-bit values the
    way OIIO hands them out; None for layouts not handled (8-bit, packed 10/12-bit, 12-bit B)."""
    el = h.elements[0]
    n, start = h.width * h.channels, data_offset(h)
    e = ">" if order == "big" else "<"
    if el.bit_depth == 16:
        return np.frombuffer(buf, e + "u2", n, start).astype(np.uint32)
    if el.bit_depth == 10 and el.packing in (1, 2):
        w = np.frombuffer(buf, e + "u4", -(-n // 3), start)
        shifts = (22, 12, 2) if el.packing == 1 else (20, 10, 0)
        v = np.stack([(w >> s) & 0x3FF for s in shifts], axis=1).reshape(-1)[:n]
        return (v << 6) | (v >> 4)
    if el.bit_depth == 12 and el.packing == 1:
        # OIIO hands out filled-A 12-bit data as the stored 16-bit words, padding bits and all
        # (not bit-replicated like 10-bit); the sample is word >> 4
        return np.frombuffer(buf, e + "u2", n, start).astype(np.uint32)
    return None


# OIIO cannot read the pixels of this file at all (its lines are not word-aligned).
OIIO_NO_PIXELS = {"dpx/rawcooked_Scanity_Y10_filledB_4x4_no_frame_padding.dpx":
                  "OIIO expects word-aligned lines; the file is 8 bytes short of them"}


def as_oiio_decodes(samples: np.ndarray, h: dpx.DpxHeader) -> np.ndarray:
    """Our first-line samples rearranged the way OIIO 3.2 decodes 10-bit filled data: method B
    words low datum first (we, like FFmpeg, take the datum next to the padding first), and,
    for 1-channel data, 0 for the samples in the last, part-filled word of a line."""
    el = h.elements[0]
    out = samples.copy()
    if el.bit_depth == 10 and el.packing == 2:
        whole = len(out) - len(out) % 3
        out[:whole] = out[:whole].reshape(-1, 3)[:, ::-1].reshape(-1)
    if el.bit_depth == 10 and el.packing in (1, 2) and h.channels == 1 and len(out) % 3:
        out[len(out) - len(out) % 3:] = 0
    return out


@pytest.mark.parametrize("rel", external_files())
def test_matches_openimageio(rel):
    path = EXTERNAL / rel
    buf = path.read_bytes()
    check = dpx.check_frame(buf, name=path.name, file_size=len(buf))
    inp = oiio.ImageInput.open(str(path))
    if rel in OIIO_FAILS:
        message, _reason = OIIO_FAILS[rel]
        assert inp is None, f"OIIO now opens {rel}: update OIIO_FAILS"
        assert message in oiio.geterror()
        return
    assert inp is not None, oiio.geterror()
    try:
        spec = inp.spec()
        h = check.header
        assert h is not None and not check.errors, check.errors
        differences = OIIO_DIFFERENCES.get(rel, {})
        for attr, ours in ours_as_oiio(h).items():
            theirs = oiio_value(spec, attr)
            if attr in differences:
                pinned, _reason = differences[attr]
                assert theirs == pinned, f"{attr}: OIIO now gives {theirs!r}"
                assert ours != pinned, f"{attr}: we now agree with OIIO; drop the entry"
            elif attr in FILM_TV and not h.has_industry_headers:
                assert ours is ABSENT, f"{attr}: {ours!r} without industry headers"
            else:
                assert theirs == ours, f"{attr}: OIIO {theirs!r}, ours {ours!r}"
        # OIIO does not report the byte order, so check it through the pixels: the first
        # line's samples, read in our byte order, equal OIIO's decode.
        assert spec.getattribute("oiio:Endian") is None
        samples = first_line_samples(buf, h, h.byte_order)
        if samples is not None and h.orientation == 0:
            pixels = inp.read_image(0, 0, 0, h.channels, "uint16")
            if rel in OIIO_NO_PIXELS:
                assert pixels is None, f"OIIO now reads {rel}'s pixels: update OIIO_NO_PIXELS"
                return
            assert pixels is not None, oiio.geterror()
            theirs = pixels[0].reshape(-1).astype(np.uint32)
            assert np.array_equal(as_oiio_decodes(samples, h), theirs)
            swapped = first_line_samples(buf, h, "little" if h.byte_order == "big" else "big")
            assert swapped is not None
            if not np.array_equal(swapped, samples):  # the byte order shows in these samples
                assert not np.array_equal(as_oiio_decodes(swapped, h), theirs)
    finally:
        inp.close()


# --- headers built here -----------------------------------------------------------------------

FF4 = b"\xff\xff\xff\xff"


def build(order: str = "big", *, width: int = 3, height: int = 2, descriptor: int = 50,
          bit_depth: int = 10, packing: int = 1, encoding: int = 0, image_offset: int = 2048,
          data_offset: int | None = None, version: bytes = b"V2.0", element_count: int = 1,
          file_size: int | None = None, industry: bool = True, timecode: int = 0xFFFFFFFF,
          keycode: bytes = b"\xff" * 16, frame_position: int = 0xFFFFFFFF,
          film_rate: bytes = FF4, tv_rate: bytes = FF4, interlace: int = 0xFF,
          eol_padding: int = 0, data: bytes | None = None, data_size: int = 24) -> bytes:
    """A DPX file: generic headers (and industry headers unless `industry` is False), then
    `data` (default: `data_size` zero bytes). Undefined fields are all ones, as ST 268 says."""
    e = ">" if order == "big" else "<"
    header_size = 2048 if industry else 1664
    h = bytearray(header_size)
    if data is None:
        data = bytes(data_size)
    total = header_size + len(data)
    h[0:4] = b"SDPX" if order == "big" else b"XPDS"
    struct.pack_into(e + "I", h, 4, image_offset)
    h[8:16] = version.ljust(8, b"\0")
    struct.pack_into(e + "IIIII", h, 16, total if file_size is None else file_size, 1, 1664,
                     384 if industry else 0, 0)
    h[36:36 + 9] = b"frame.dpx"
    h[136:136 + 23] = b"2024:05:06:07:08:09:UTC"
    h[160:160 + 6] = b"tester"
    struct.pack_into(e + "I", h, 660, 0xFFFFFFFF)
    struct.pack_into(e + "HHII", h, 768, 0, element_count, width, height)
    for i in range(min(element_count, 8)):
        o = 780 + 72 * i
        struct.pack_into(e + "IIfIf", h, o, 0, 0, 0.0, 1023, 2.048)
        struct.pack_into(e + "BBBBHHIII", h, o + 20, descriptor, 2, 2, bit_depth, packing,
                         encoding, image_offset if data_offset is None else data_offset,
                         eol_padding, 0)
    h[1408:1664] = b"\xff" * 256  # orientation header: all undefined
    h[1556:1556 + 7] = b"scanner"
    h[1588:1588 + 6] = b"SN-042"
    if industry:
        h[1664:2048] = b"\xff" * 384
        h[1664:1680] = keycode
        struct.pack_into(e + "I", h, 1712, frame_position)
        h[1724:1728] = film_rate
        struct.pack_into(e + "I", h, 1920, timecode)
        h[1928] = interlace
        h[1940:1944] = tv_rate
    return bytes(h) + data


def f32(value: float, order: str = "big") -> bytes:
    return struct.pack((">" if order == "big" else "<") + "f", value)


@pytest.mark.parametrize("order", ["big", "little"])
def test_minimal_header_reads(order):
    buf = build(order, film_rate=f32(24.0, order), timecode=0x01000000, frame_position=86400)
    check = dpx.check_frame(buf, name="f.dpx", file_size=len(buf))
    assert check.errors == () and check.warnings == ()
    h = check.header
    assert (h.byte_order, h.version, h.width, h.height, h.channels) == (order, "V2.0", 3, 2, 3)
    assert (h.filename, h.creation_time, h.creator) == ("frame.dpx", "2024:05:06:07:08:09:UTC",
                                                        "tester")
    assert (h.input_device, h.input_serial) == ("scanner", "SN-042")
    assert (h.descriptor_name, h.transfer_name, h.colorimetric_name) == ("RGB", "linear",
                                                                         "linear")
    el = h.elements[0]
    assert (el.bit_depth, el.packing, el.data_offset, el.high_data) == (10, 1, 2048, 1023)
    assert el.high_quantity == pytest.approx(2.048)
    assert (h.timecode, h.frame_position, h.fps) == ("01:00:00:00", 86400, 24.0)
    assert h.has_industry_headers


def test_both_byte_orders_give_the_same_header():
    big = dpx.parse_header(build("big", tv_rate=f32(25.0, "big")), name="b.dpx")
    little = dpx.parse_header(build("little", tv_rate=f32(25.0, "little")), name="l.dpx")
    assert dataclasses.replace(little, byte_order="big") == big


def test_zero_length_file():
    check = dpx.check_frame(b"", name="empty.dpx", file_size=0)
    assert check.header is None
    assert check.errors == ("empty.dpx: truncated header: 0 of 2048 bytes",)
    with pytest.raises(dpx.DpxError, match=r"^empty\.dpx: truncated header"):
        dpx.parse_header(b"", name="empty.dpx")
    assert issubclass(dpx.DpxError, ValueError)


def test_truncated_header():
    buf = build()[:1000]
    check = dpx.check_frame(buf, name="t.dpx", file_size=len(buf))
    assert check.errors == ("t.dpx: truncated header: 1000 of 2048 bytes",)
    buf = build()[:1800]  # past the generic headers, short of the industry headers
    assert dpx.check_frame(buf, name="t.dpx", file_size=1800).errors == (
        "t.dpx: truncated header: 1800 of 2048 bytes",)
    short = build(industry=False, image_offset=1664)[:1000]  # a 1664-byte header was due
    assert dpx.check_frame(short, name="s.dpx", file_size=1000).errors == (
        "s.dpx: truncated header: 1000 of 1664 bytes",)


def test_truncated_image_data():
    buf = build(data_size=10)  # 3 px x 3 samples = 3 words = 12 bytes a line, 2 lines
    check = dpx.check_frame(buf, name="t.dpx", file_size=len(buf))
    assert check.header is not None
    assert check.errors == (
        "t.dpx: truncated: image data needs 24 bytes from offset 2048, file has 2058",)


def test_image_offset_beyond_end_of_file():
    buf = build(image_offset=1_000_000)
    check = dpx.check_frame(buf, name="o.dpx", file_size=len(buf))
    assert "o.dpx: image offset 1000000 is beyond the end of the file (2072 bytes)" in check.errors
    buf = build(data_offset=5000)
    check = dpx.check_frame(buf, name="o.dpx", file_size=len(buf))
    assert check.errors == (
        "o.dpx: first element data offset 5000 is beyond the end of the file (2072 bytes)",)


def test_lying_file_size_field_is_a_warning():
    buf = build(file_size=999)
    check = dpx.check_frame(buf, name="s.dpx", file_size=len(buf))
    assert check.errors == ()
    assert check.warnings == (
        "s.dpx: header total file size field says 999 bytes, the file is 2072 bytes",)


def test_bytes_that_are_not_dpx():
    buf = b"\x89PNG\r\n\x1a\n" + bytes(3000)
    check = dpx.check_frame(buf, name="photo.dpx", file_size=len(buf))
    assert check.header is None
    assert check.errors == (
        "photo.dpx: not a DPX file: magic b'\\x89PNG', expected b'SDPX' or b'XPDS'",)


@pytest.mark.parametrize("word, text", [
    (0x01000000, "01:00:00:00"),
    (0x00000000, "00:00:00:00"),
    (0x23595924, "23:59:59:24"),
    (0x10203015, "10:20:30:15"),
    (0x01000311, "01:00:03:11"),
    (0x01000058, "01:00:00;18"),  # drop-frame flag (0x40) set in the frames byte
    (0x010000A4, "01:00:00:24"),  # colour-frame flag (0x80) masked
    (0xFFFFFFFF, None),  # undefined
    (0x0000000A, None),  # not BCD
    (0x24000000, None),  # hour 24
    (0x00600000, None),  # minute 60
])
def test_bcd_timecode(word, text):
    assert dpx.decode_timecode(word) == text


def test_timecode_in_a_header():
    h = dpx.parse_header(build("little", timecode=0x01000000), name="t.dpx")
    assert h.timecode == "01:00:00:00"


def test_keycode():
    h = dpx.parse_header(build(keycode=b"0233" + b"12" + b"123456" + b"7890"), name="k.dpx")
    assert h.keycode == dpx.Keycode(manufacturer="02", film_type="33", perf_offset="12",
                                    prefix="123456", count="7890")
    assert str(h.keycode) == "02 33 123456 7890 +12"
    assert dpx.parse_header(build(keycode=b"\xff" * 16), name="k.dpx").keycode is None
    assert dpx.parse_header(build(keycode=bytes(16)), name="k.dpx").keycode is None


def test_undefined_values_are_none():
    h = dpx.parse_header(build(), name="u.dpx")
    assert h.keycode is None and h.timecode is None
    assert (h.frame_position, h.sequence_length, h.held_count, h.user_bits) == (None,) * 4
    assert (h.film_frame_rate, h.shutter_angle, h.tv_frame_rate, h.gamma) == (None,) * 4
    assert (h.interlace, h.field_number, h.video_signal) == (None,) * 3
    assert (h.x_offset, h.x_center, h.x_original_size, h.aspect_ratio) == (None, None, None,
                                                                          (None, None))
    assert h.border == (None,) * 4
    assert (h.film_format, h.frame_id, h.slate, h.source_filename) == ("",) * 4
    assert h.fps is None
    nan = dpx.parse_header(build(film_rate=f32(math.nan), tv_rate=f32(math.inf)), name="n.dpx")
    assert (nan.film_frame_rate, nan.tv_frame_rate) == (None, None)


def test_fps_prefers_film_rate_then_tv_rate():
    both = build(film_rate=f32(24.0), tv_rate=f32(25.0))
    assert dpx.parse_header(both, name="f.dpx").fps == 24.0
    tv_only = build(film_rate=f32(0.0), tv_rate=f32(25.0))
    h = dpx.parse_header(tv_only, name="f.dpx")
    assert (h.film_frame_rate, h.fps) == (0.0, 25.0)


def test_header_without_industry_headers():
    # 16 px x 24 lines of 8-bit RGB: the bytes where industry headers would be are pixels
    buf = build(industry=False, image_offset=1664, width=16, height=24, bit_depth=8, packing=0,
                data=bytes(range(256)) * 4 + bytes(128))
    check = dpx.check_frame(buf, name="ff.dpx", file_size=len(buf))
    h = check.header
    assert check.errors == () and check.warnings == ()
    assert not h.has_industry_headers
    assert (h.timecode, h.frame_position, h.keycode, h.fps) == (None, None, None, None)
    assert (h.input_device, h.input_serial) == ("scanner", "SN-042")  # orientation header


def words(values: list[int], order: str, size: int = 4) -> bytes:
    e = ">" if order == "big" else "<"
    return struct.pack(f"{e}{len(values)}{'I' if size == 4 else 'H'}", *values)


@pytest.mark.parametrize("order", ["big", "little"])
@pytest.mark.parametrize("bit_depth, packing, clean, dirty, size", [
    (10, 1, 0xFFFFFFFC, 0x00000001, 4),  # method A: low 2 bits of each 32-bit word
    (10, 2, 0x3FFFFFFF, 0x40000000, 4),  # method B: top 2 bits
    (12, 1, 0xFFF0, 0x0008, 2),  # 12-bit filled A: low 4 bits of each 16-bit word
    (12, 2, 0x0FFF, 0x1000, 2),  # 12-bit filled B: top 4 bits
])
def test_padding_bits(order, bit_depth, packing, clean, dirty, size):
    # 3 px RGB: 10-bit = 3 words a line; 12-bit filled = 9 half-words, 5 words (10) a line
    count = 6 if bit_depth == 10 else 20
    good = build(order, bit_depth=bit_depth, packing=packing,
                 data=words([clean] * count, order, size))
    check = dpx.check_frame(good, name="p.dpx", file_size=len(good))
    assert check.errors == () and check.warnings == ()
    bad = build(order, bit_depth=bit_depth, packing=packing,
                data=words([clean] * (count - 1) + [dirty], order, size))
    check = dpx.check_frame(bad, name="p.dpx", file_size=len(bad))
    assert check.errors == ()
    assert len(check.warnings) == 1
    assert check.warnings[0].startswith(f"p.dpx: padding bits are not zero in 1 of {count} ")


def test_padding_bits_ignore_end_of_line_padding():
    # 10-bit filled A, 3 words a line plus 4 bytes of end-of-line padding holding anything
    line = words([0xFFFFFFFC] * 3, "big") + b"\xff" * 4
    buf = build(eol_padding=4, data=line * 2)
    check = dpx.check_frame(buf, name="e.dpx", file_size=len(buf))
    assert check.errors == () and check.warnings == ()


def test_continuous_lines_are_a_warning():
    # 4x4 luma 10-bit filled: word-aligned lines need 2 words each (32 bytes); 16 samples
    # as one stream need 6 words (24 bytes)
    buf = build(width=4, height=4, descriptor=6, data_size=24)
    check = dpx.check_frame(buf, name="c.dpx", file_size=len(buf))
    assert check.errors == ()
    assert check.warnings == (
        "c.dpx: lines are not padded to 32-bit words: image data of 24 bytes from offset 2048 "
        "holds the 24 bytes of one continuous stream, not the 32 bytes of word-aligned lines",)
    short = build(width=4, height=4, descriptor=6, data_size=20)
    assert dpx.check_frame(short, name="c.dpx", file_size=len(short)).errors == (
        "c.dpx: truncated: image data needs 32 bytes from offset 2048, file has 2068",)


@pytest.mark.parametrize("kwargs, reason", [
    (dict(encoding=1), "run-length encoded image data is not supported"),
    (dict(bit_depth=7), "unsupported bit depth 7; expected one of 1, 8, 10, 12, 16, 32, 64"),
    (dict(packing=3), "packing 3 for 10-bit data"),
    (dict(descriptor=5), "image descriptor 5 is not one ST 268 defines"),
    (dict(image_offset=0, data_offset=0), "no image data offset"),
    (dict(image_offset=100), "image data offset 100 lies inside the 1664-byte header"),
])
def test_refused_frames(kwargs, reason):
    buf = build(**kwargs)
    check = dpx.check_frame(buf, name="r.dpx", file_size=len(buf))
    assert check.header is not None
    assert any(e.startswith("r.dpx: ") and reason in e for e in check.errors), check.errors


@pytest.mark.parametrize("kwargs, reason", [
    (dict(element_count=0), "r.dpx: element count 0; expected 1 to 8 image elements"),
    (dict(element_count=9), "r.dpx: element count 9; expected 1 to 8 image elements"),
    (dict(width=0), "r.dpx: image size 0 x 2 pixels; expected a width and a height of at least 1"),
    (dict(height=0), "r.dpx: image size 3 x 0 pixels"),
])
def test_headers_that_cannot_be_read(kwargs, reason):
    buf = build(**kwargs)
    with pytest.raises(dpx.DpxError) as info:
        dpx.parse_header(buf, name="r.dpx")
    assert str(info.value).startswith(reason)
    check = dpx.check_frame(buf, name="r.dpx", file_size=len(buf))
    assert check.header is None and check.errors[0].startswith(reason)


@pytest.mark.parametrize("kwargs, warning", [
    (dict(image_offset=0, data_offset=2048),
     "w.dpx: image offset field is 0; using the first element's data offset 2048"),
    (dict(image_offset=2048, data_offset=0),
     "w.dpx: first element's data offset field is 0; using the image offset 2048"),
    (dict(image_offset=2052, data_offset=2048, data_size=28),
     "w.dpx: image offset 2052 differs from the first element's data offset 2048; using 2048"),
    (dict(version=b""), "w.dpx: version field is empty; expected V1.0 or V2.0"),
    (dict(version=b"V3.0"), "w.dpx: version field 'V3.0' is unusual; expected V1.0 or V2.0"),
    (dict(element_count=2), "w.dpx: 2 image elements: the first is read"),
])
def test_warnings(kwargs, warning):
    buf = build(**kwargs)
    check = dpx.check_frame(buf, name="w.dpx", file_size=len(buf))
    assert check.errors == ()
    assert check.warnings == (warning,)


def test_version_v1_is_fine():
    buf = build(version=b"V1.0")
    assert dpx.check_frame(buf, name="v.dpx", file_size=len(buf)).warnings == ()


def test_header_only_buffer_with_the_real_file_size():
    """A large file may be handed over as its header only: sizes are judged by file_size."""
    buf = build()
    check = dpx.check_frame(buf[:2048], name="big.dpx", file_size=len(buf))
    assert check.errors == () and check.warnings == ()


@pytest.mark.parametrize("args, size", [
    ((600, 3, 10, 1), 2400),  # 1800 samples, 3 a word
    ((512, 4, 10, 1), 2732),  # 2048 samples -> 683 words
    ((9, 3, 12, 0), 44),  # 27 x 12 = 324 bits -> 11 words
    ((8, 3, 12, 0), 36),  # 288 bits = 9 words
    ((1920, 3, 12, 1), 11520),  # one sample a 16-bit word
    ((5, 1, 8, 0), 8),  # 5 bytes, padded to a word
    ((3, 3, 16, 0), 20),  # 18 bytes, padded to a word
    ((4, 3, 10, 0), 16),  # packed: 120 bits -> 4 words
    ((33, 1, 1, 0), 8),  # 33 bits -> 2 words
    ((2, 3, 32, 0), 24),
    ((2, 1, 64, 0), 16),
])
def test_line_size(args, size):
    assert dpx.line_size(*args) == size


def test_image_data_size_counts_end_of_line_padding():
    assert dpx.image_data_size(600, 402, 3, 10, 1) == 964800
    assert dpx.image_data_size(600, 4, 3, 10, 1, eol_padding=8) == 4 * 2408
    assert dpx.image_data_size(600, 4, 3, 10, 1, eol_padding=0xFFFFFFFF) == 4 * 2400


@pytest.mark.parametrize("descriptor, name, channels", [
    (0, "user defined", 1), (1, "red (R)", 1), (4, "alpha (A)", 1), (6, "luma (Y)", 1),
    (50, "RGB", 3), (51, "RGBA", 4), (52, "ABGR", 4), (100, "CbYCrY (4:2:2)", 2),
    (101, "CbYaCrYa (4:2:2:4)", 3), (102, "CbYCr (4:4:4)", 3), (103, "CbYCrA (4:4:4:4)", 4),
    (150, "user defined 2-component", 2), (156, "user defined 8-component", 8),
    (5, "unknown (5)", 0), (157, "unknown (157)", 0),
])
def test_descriptors(descriptor, name, channels):
    h = dpx.parse_header(build(descriptor=descriptor), name="d.dpx")
    assert (h.descriptor_name, h.channels) == (name, channels)


@pytest.mark.parametrize("code, name", [
    (0, "user defined"), (1, "printing density"), (3, "logarithmic"), (5, "SMPTE 274M"),
    (6, "ITU-R 709-4"), (7, "ITU-R 601-5 B/G"), (8, "ITU-R 601-5 M"), (9, "NTSC composite"),
    (10, "PAL composite"), (11, "Z linear"), (12, "Z homogeneous"), (13, "ADX"),
    (255, "undefined"), (14, "unknown (14)"),
])
def test_characteristic_names(code, name):
    el = dataclasses.replace(dpx.parse_header(build(), name="c.dpx").elements[0],
                             transfer=code, colorimetric=code)
    assert (el.transfer_name, el.colorimetric_name) == (name, name)


def test_read_dpx_header_from_a_path(tmp_path):
    path = tmp_path / "frame_000001.dpx"
    path.write_bytes(build("little"))
    h = dpx.read_dpx_header(path)
    assert (h.byte_order, h.width, h.height) == ("little", 3, 2)
    (tmp_path / "bad.dpx").write_bytes(b"nope")
    with pytest.raises(dpx.DpxError, match="bad.dpx: not a DPX file"):
        dpx.read_dpx_header(tmp_path / "bad.dpx")
