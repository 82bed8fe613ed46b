"""Pixel I/O (restoration.io) against real files from other people's software and tiny frames.

Expectations come from outside our code: the OpenImageIO testsuite's pixel SHA-1s recorded in
../shared/external/PROVENANCE.md, values the source projects' tests state, and a second reader
(OpenImageIO for TIFF, tifffile/OpenImageIO opening what we write).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from fixtures.external import external
from restoration import io
from restoration.io import (
    Frame,
    FrameReadError,
    FrameWriteError,
    from_float,
    read_frame,
    to_float,
    widen,
    write_frame,
)

EXTERNAL = external()
PROVENANCE = EXTERNAL / "PROVENANCE.md"

CRASH = "malformed/oiio_dpx_crash-1chan-10bit-filled-methodA.dpx"  # two elements, both hashed

# Every "OIIO SHA-1" expectation in PROVENANCE.md, copied from it. "#n" picks subimage n.
OIIO_SHA1 = {
    "dpx/oiio_dpx_nuke_10bits_rgb.dpx": "D63D2EC8C60AB41B1C0F72A65AE8FF27DA8A620E",
    "dpx/oiio_dpx_nuke_16bits_rgba.dpx": "E9FECE70CD875C5654F58DA9EC576399F089D855",
    "cin/oiio_checker.cin": "D9F0919A57216C4A76A7D18413D5BBFEB34C52AA",
    "tiff/libtiff_flower-rgb-contig-08.tif": "35D01526DE5F904B7978B8EA16192A28389E276F",
    "tiff/libtiff_flower-rgb-contig-16.tif": "19F69706D5C52FC9510A3C20F9A43361FEF2AC9D",
    "tiff/libtiff_flower-rgb-planar-16.tif": "19F69706D5C52FC9510A3C20F9A43361FEF2AC9D",
    "tiff/libtiff_flower-minisblack-08.tif": "1A909C8E70CC479D8A35BAA9BFEDDCBF4BF46FDC",
    "tiff/libtiff_flower-minisblack-16.tif": "7EBB74E46C869CA0D6D091183732214B6A75173A",
    "tiff/libtiff_flower-rgb-contig-10.tif": "0C41DF861699CF536C581721EF17B01D1EFB5D86",
    "tiff/libtiff_flower-rgb-contig-12.tif": "E61083B50548C7D304A45735452FD05C1814677B",
    "tiff/libtiff_caspian_float64_planar_deflate.tif": "53F0C0A71BCACCDA213DA73DC23B0CA0CD629D9A",
    "tiff/libtiff_cramps-tile_tiled_miniswhite.tif": "A1CA337CBB22D84410BBE710BB31D5D6646CF839",
    "tiff/libtiff_quad-tile_tiled_lzw_rgb.tif": "EAE4D1FB2E60558747B8DDA9E93F0217191491A9",
    "exr/AllHalfValues_piz.exr": "4428F325F403515E6B3BF8E290FB7EDBF959ECF7",
    f"{CRASH}#0": "0071FD79957267E8C9978DB3360AF9C752E31556",
    f"{CRASH}#1": "26C5096595B63C5BF3AC347712B11353BB55F1EC",
}

# Where our convention differs from the one the OIIO hash was taken in. Files not listed are
# hashed as read (uint16 bit-replicated 10-bit DPX/Cineon, 16-bit TIFF).
#   uint8   8-bit source: OIIO hashes the uint8 codes; we hold v * 257 (bit replication).
#   scaled  10/12-bit TIFF: OIIO's TIFF reader widens by floor(v * 65535 / (2**b - 1)); we
#           replicate bits like its DPX reader (they differ by at most 1 in about a third of
#           the samples).
#   float64 double TIFF: OIIO hashes float64; every float source is float32 here (exact for
#           this file, whose values are the integers 9..946).
#   half    EXR half: OIIO hashes the halves; we hold float32, which keeps every half exactly.
CONVENTION = {
    "tiff/libtiff_flower-rgb-contig-08.tif": "uint8",
    "tiff/libtiff_flower-minisblack-08.tif": "uint8",
    "tiff/libtiff_cramps-tile_tiled_miniswhite.tif": "uint8",
    "tiff/libtiff_quad-tile_tiled_lzw_rgb.tif": "uint8",
    "tiff/libtiff_flower-rgb-contig-10.tif": "scaled",
    "tiff/libtiff_flower-rgb-contig-12.tif": "scaled",
    "tiff/libtiff_caspian_float64_planar_deflate.tif": "float64",
    "exr/AllHalfValues_piz.exr": "half",
}


def sha1(pixels: np.ndarray) -> str:
    """OIIO's convention: native type, channel-interleaved, rows top to bottom, little-endian."""
    little = pixels.astype(pixels.dtype.newbyteorder("<"))
    return hashlib.sha1(np.ascontiguousarray(little).tobytes()).hexdigest().upper()


def split(key: str) -> tuple[Path, int]:
    name, _, sub = key.partition("#")
    return EXTERNAL / name, int(sub or 0)


def in_oiio_convention(frame: Frame, convention: str | None) -> np.ndarray:
    """The frame's pixels as OIIO hashed them, asserting that the difference is only that."""
    px = frame.pixels
    if convention is None:
        return px
    if convention == "uint8":
        assert frame.bit_depth == 8 and px.dtype == np.uint16
        codes = (px >> 8).astype(np.uint8)
        assert np.array_equal(px, codes.astype(np.uint16) * 257)
        return codes
    if convention == "scaled":
        b = frame.bit_depth
        assert b in (10, 12) and px.dtype == np.uint16
        codes = px >> (16 - b)
        assert np.array_equal(px, widen(codes, b))
        scaled = (codes.astype(np.uint32) * 65535 // (2**b - 1)).astype(np.uint16)
        diff = np.abs(scaled.astype(np.int32) - px)
        assert diff.max() == 1  # a real but one-step difference
        return scaled
    if convention == "float64":
        assert frame.bit_depth == 64 and px.dtype == np.float32
        return px.astype(np.float64)
    if convention == "half":
        assert frame.bit_depth == 16 and px.dtype == np.float32
        halves = px.astype(np.float16)
        assert np.array_equal(halves.astype(np.float32).view(np.uint32), px.view(np.uint32))
        return halves
    raise AssertionError(convention)


# ----------------------------------------------------------------------------- checksums


@pytest.mark.parametrize("key", sorted(OIIO_SHA1))
def test_pixels_reproduce_oiio_sha1(key):
    path, subimage = split(key)
    frame = read_frame(path, subimage=subimage)
    name = key.partition("#")[0]
    assert sha1(in_oiio_convention(frame, CONVENTION.get(name))) == OIIO_SHA1[key]


def test_every_oiio_sha1_in_provenance_is_checked():
    text = PROVENANCE.read_text(encoding="utf-8")
    stated: set[tuple[str, str]] = set()
    for entry in text.split("\n#### `")[1:]:
        name = entry.split("`", 1)[0]
        for line in entry.splitlines():
            if line.startswith("- **Expectation:**"):
                stated |= {(name, h.upper()) for h in re.findall(r"SHA-1 ([0-9A-Fa-f]{40})", line)}
    ours = {(split(k)[0].relative_to(EXTERNAL).as_posix(), v) for k, v in OIIO_SHA1.items()}
    assert stated == ours


def test_collector_checksum_of_cms_test_pattern():
    # PROVENANCE.md, a collector check rather than an upstream expectation: RGB half, LE
    frame = read_frame(EXTERNAL / "exr/colour_CMS_Test_Pattern.exr")
    assert frame.pixels.shape == (1267, 1274, 3)
    assert sha1(in_oiio_convention(frame, "half")) == "A83D2CB9CC87FCDC1A4DD751D100D10A2393150D"


@pytest.mark.parametrize("key", sorted(k for k in OIIO_SHA1 if k.startswith("tiff/")))
def test_tiff_backends_agree(key):
    ours = read_frame(EXTERNAL / key)
    theirs = read_frame(EXTERNAL / key, backend="oiio")
    assert ours.pixels.dtype == theirs.pixels.dtype
    assert np.array_equal(ours.pixels, theirs.pixels)
    assert (ours.bit_depth, ours.channels) == (theirs.bit_depth, theirs.channels)


# ----------------------------------------------------------------------------- documented values


def test_ten_bit_dpx_matches_documented_means_and_bit_depth_from_header():
    frame = read_frame(EXTERNAL / "dpx/oiio_dpx_nuke_10bits_rgb.dpx")
    assert frame.bit_depth == 10 and frame.channels == ("R", "G", "B") and frame.format == "dpx"
    assert frame.facts["transfer"] == "User defined"
    assert frame.facts["packing"] == "Filled, method A"
    means = (frame.pixels >> 6).reshape(-1, 3).mean(axis=0)
    assert np.allclose(means, [370.2604, 359.2323, 385.4944], atol=1e-4)
    # named "16bits" but the header says 10-bit: the header wins
    assert read_frame(EXTERNAL / "dpx/oiio_dpx_nuke_16bits_rgba.dpx").bit_depth == 10


def test_cineon_has_three_documented_colours():
    frame = read_frame(EXTERNAL / "cin/oiio_checker.cin")
    assert frame.format == "cineon" and frame.bit_depth == 10
    colours = {tuple(c) for c in (frame.pixels >> 6).reshape(-1, 3).tolist()}
    assert colours == {(374, 374, 374), (509, 509, 509), (568, 568, 0)}


def test_twelve_bit_filled_dpx_is_bit_replicated_and_endian_twins_agree():
    be = read_frame(EXTERNAL / "dpx/rawcooked_nuke_checker_BE_12bit_rgb_1920x4.dpx")
    le = read_frame(EXTERNAL / "dpx/rawcooked_nuke_checker_LE_12bit_rgb_1920x4.dpx")
    assert be.bit_depth == 12 and np.array_equal(be.pixels, le.pixels)
    colours = {tuple(c) for c in be.pixels.reshape(-1, 3).tolist()}
    codes = [(1589, 1589, 1589), (2386, 2386, 2386), (2742, 2742, 380)]
    # OpenImageIO alone gives 2386 << 4 = 38176; replication gives 38176 | 2386 >> 8 = 38185
    assert colours == {tuple(int(widen(np.array([v], np.uint16), 12)[0]) for v in c) for c in codes}
    ten = read_frame(EXTERNAL / "dpx/rawcooked_nuke_checker_LE_10bit_rgba_1920x4.dpx")
    assert np.array_equal(ten.pixels[..., :3] >> 6, be.pixels >> 6)  # 10-bit == 12-bit >> 2
    assert not ten.pixels[..., 3].any()


def test_dpx_bottom_to_top_is_returned_top_to_bottom():
    top = read_frame(EXTERNAL / "dpx/rawcooked_nucoda_12bit_packed_08x4_orient0.dpx")
    bottom = read_frame(EXTERNAL / "dpx/rawcooked_nucoda_12bit_packed_08x4_orient2.dpx")
    assert bottom.facts["orientation"] == 4
    assert np.array_equal(bottom.pixels, top.pixels[::-1])


def test_padding_bits_set_still_decode_to_top_code():
    frame = read_frame(EXTERNAL / "dpx/rawcooked_Y10_filledA_4x4_padding_not_zero.dpx")
    assert frame.channels == ("Y",) and (frame.pixels == 65535).all()


@pytest.mark.parametrize("name", ["rawcooked_Scanity_Y10_filledB_4x4.dpx",
                                  "rawcooked_Lasergraphics_Y10_filledA_4x4.dpx"])
def test_ten_bit_luma_line_ends_are_decoded(name):
    # OpenImageIO 3.2 leaves the 4th sample of each 4-pixel line (the one in the line's second
    # word) at 0; we decode it from the file, and the three it does decode must agree
    import OpenImageIO as oiio

    frame = read_frame(EXTERNAL / "dpx" / name)
    inp = oiio.ImageInput.open(str(EXTERNAL / "dpx" / name))
    theirs = inp.read_image(0, 0, 0, 1, "uint16")
    inp.close()
    assert np.array_equal(frame.pixels[:, :3], theirs[:, :3])
    assert frame.pixels[:, 3].all()


def test_scanner_dpx_colour_facts_travel_with_the_frame():
    frame = read_frame(EXTERNAL / "dpx/rawcooked_Lasergraphics_Y10_filledA_4x4.dpx")
    assert frame.facts["transfer"] == "ITU-R 709-4"
    assert frame.facts["colorimetric"] == "Printing density"
    assert frame.facts["timecode"] == "01:00:03:11"


def test_dpx_without_industry_headers_reports_no_timecode():
    # FFmpeg's image data starts at byte 1664, where the TV header would be
    frame = read_frame(EXTERNAL / "dpx/rawcooked_FFmpeg_gray16be.dpx")
    assert "timecode" not in frame.facts and "frame_position" not in frame.facts
    twin = read_frame(EXTERNAL / "dpx/rawcooked_FFmpeg_gray16le.dpx")
    assert np.array_equal(frame.pixels, twin.pixels)


def test_pillow_documented_tiff_values():
    for name in ("pillow_16bit.cropped_LE.tif", "pillow_16bit.MM.cropped_BE.tif"):
        assert read_frame(EXTERNAL / "tiff" / name).pixels[0, 0, 0] == 480
    f32 = read_frame(EXTERNAL / "tiff/pillow_10ct_32bit_128_float32.tiff")
    assert f32.pixels.dtype == np.float32 and f32.bit_depth == 32
    assert f32.pixels[0, 0, 0] == np.float32(-0.4526388943195343)
    extrema = (np.float32(-3.140936851501465), np.float32(3.140684127807617))
    assert (f32.pixels.min(), f32.pixels.max()) == extrema
    # 12-bit packed codes equal the 16-bit reference's integers (Pillow's test); we widen them
    twelve = read_frame(EXTERNAL / "tiff/pillow_12bit.cropped.tif")
    reference = read_frame(EXTERNAL / "tiff/pillow_12in16bit_reference.tif")
    assert twelve.bit_depth == 12 and np.array_equal(twelve.pixels, widen(reference.pixels, 12))


def test_tiled_and_planar_tiffs_decode_alike_and_alpha_is_named():
    names = ("pillow_tiff_16bit_RGB.tiff", "pillow_tiff_tiled_planar_16bit_RGB.tiff",
             "pillow_tiff_strip_planar_16bit_RGB.tiff")
    frames = [read_frame(EXTERNAL / "tiff" / n) for n in names]
    assert all(np.array_equal(frames[0].pixels, f.pixels) for f in frames[1:])
    assert frames[1].pixels.flags.c_contiguous and frames[1].facts["planar"] == "separate"
    rgba = read_frame(EXTERNAL / "tiff/pillow_tiff_16bit_RGBa.tiff")
    assert rgba.channels == ("R", "G", "B", "A") and rgba.facts["alpha"] == "associated"


def test_miniswhite_tiff_is_inverted():
    frame = read_frame(EXTERNAL / "tiff/libtiff_cramps-tile_tiled_miniswhite.tif")
    import tifffile

    raw = tifffile.imread(EXTERNAL / "tiff/libtiff_cramps-tile_tiled_miniswhite.tif")
    assert frame.facts["photometric"] == "miniswhite" and frame.facts["inverted"] is True
    assert np.array_equal(frame.pixels[..., 0], (255 - raw).astype(np.uint16) * 257)


# ----------------------------------------------------------------------------- round trips


def random_frame(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65536, shape, dtype=np.uint16)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_sixteen_bit_dpx_round_trip_is_exact(tmp_path, channels):
    import OpenImageIO as oiio

    pixels = random_frame((7, 11, channels), seed=channels)
    target = tmp_path / "frame.dpx"
    write_frame(pixels, target)
    back = read_frame(target)
    assert back.bit_depth == 16 and np.array_equal(back.pixels, pixels)
    inp = oiio.ImageInput.open(str(target))
    spec = inp.spec()
    assert (str(spec.format), spec.get_int_attribute("oiio:BitsPerSample")) == ("uint16", 16)
    assert np.array_equal(inp.read_image(0, 0, 0, channels, "uint16"), pixels)
    inp.close()
    assert os.listdir(tmp_path) == ["frame.dpx"]


@pytest.mark.parametrize("compression", ["deflate", None])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_sixteen_bit_tiff_round_trip_is_exact(tmp_path, channels, compression):
    import tifffile

    pixels = random_frame((9, 5, channels), seed=channels)
    target = tmp_path / "frame.tif"
    write_frame(pixels, target, compression=compression)
    back = read_frame(target)
    assert back.bit_depth == 16 and np.array_equal(back.pixels, pixels)
    with tifffile.TiffFile(target) as tif:
        page = tif.pages[0]
        assert page.bitspersample == 16 and page.dtype == np.uint16
        expected = tifffile.COMPRESSION.ADOBE_DEFLATE if compression else tifffile.COMPRESSION.NONE
        assert page.compression == expected
        assert np.array_equal(page.asarray().reshape(pixels.shape), pixels)
        if channels == 4:
            assert tuple(page.extrasamples) == (tifffile.EXTRASAMPLE.UNASSALPHA,)


def test_ten_bit_dpx_read_write_read_is_exact_at_sixteen_bits(tmp_path):
    import OpenImageIO as oiio

    source = read_frame(EXTERNAL / "dpx/rawcooked_TCS_Scan_LE_10bit_printing_density_1920x4.dpx")
    target = tmp_path / "restored.dpx"
    write_frame(source, target)
    back = read_frame(target)
    assert np.array_equal(back.pixels, source.pixels)
    assert back.bit_depth == 16 and back.facts["packing"] == "Filled, method A"
    for key in ("transfer", "colorimetric", "timecode", "frame_position", "keycode"):
        assert back.facts[key] == source.facts[key]
    inp = oiio.ImageInput.open(str(target))
    assert inp.spec().get_int_attribute("oiio:BitsPerSample") == 16
    inp.close()


def test_bare_pixels_take_facts_from_like_and_overrides(tmp_path):
    source = read_frame(EXTERNAL / "dpx/rawcooked_Lasergraphics_Y10_filledA_4x4.dpx")
    target = tmp_path / "out.dpx"
    write_frame(to_float(source.pixels), target, like=source, facts={"transfer": "Linear"})
    back = read_frame(target)
    assert np.array_equal(back.pixels, source.pixels)
    assert back.channels == ("Y",)
    assert (back.facts["transfer"], back.facts["colorimetric"]) == ("Linear", "Printing density")


def test_float_pixels_are_rounded_and_clipped_on_write(tmp_path):
    pixels = np.array([[[-0.5], [0.0], [0.5], [1.0], [2.0], [np.nan], [1 / 65535]]], np.float32)
    target = tmp_path / "grey.tif"
    write_frame(pixels, target)
    assert read_frame(target).pixels.ravel().tolist() == [0, 0, 32768, 65535, 65535, 0, 1]


def test_float_exr_becomes_sixteen_bit_tiff(tmp_path):
    source = read_frame(EXTERNAL / "exr/colour_Single_Channel.exr")
    assert source.channels == ("R",) and source.pixels.dtype == np.float32
    target = tmp_path / "single.tif"
    write_frame(source, target)
    back = read_frame(target)
    assert back.bit_depth == 16 and np.array_equal(back.pixels, from_float(source.pixels))


def test_tiff_in_sixteen_bit_tiff_out(tmp_path):
    import tifffile

    source = read_frame(EXTERNAL / "tiff/libtiff_flower-rgb-contig-10.tif")
    target = tmp_path / "flower.tiff"
    write_frame(source, target)
    assert np.array_equal(read_frame(target).pixels, source.pixels)
    assert tifffile.TiffFile(target).pages[0].bitspersample == 16


def test_write_replaces_an_existing_file_whole(tmp_path):
    target = tmp_path / "frame.dpx"
    write_frame(random_frame((4, 4, 3), 1), target)
    second = random_frame((4, 4, 3), 2)
    write_frame(second, target)
    assert np.array_equal(read_frame(target).pixels, second)
    assert os.listdir(tmp_path) == ["frame.dpx"]


# ----------------------------------------------------------------------------- errors


def assert_names(exc: pytest.ExceptionInfo, path: Path) -> str:
    message = str(exc.value)
    assert message.startswith(f"{path}: ")
    assert exc.value.path == path
    return message


def test_truncated_dpx_names_the_file_and_oiio_reason(tmp_path):
    data = (EXTERNAL / "dpx/oiio_dpx_nuke_10bits_rgb.dpx").read_bytes()
    path = tmp_path / "cut.dpx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FrameReadError) as exc:
        read_frame(path)
    assert "Failed to read scanlines" in assert_names(exc, path)


def test_text_named_dpx_is_refused(tmp_path):
    path = tmp_path / "notes.dpx"
    path.write_text("this is not a picture\n" * 20)
    with pytest.raises(FrameReadError) as exc:
        read_frame(path)
    assert "OpenImageIO cannot open it" in assert_names(exc, path)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.dpx"
    with pytest.raises(FrameReadError) as exc:
        read_frame(path)
    assert "no such file" in assert_names(exc, path)
    assert isinstance(exc.value, OSError)


def test_truncated_tiff_names_the_file(tmp_path):
    whole = tmp_path / "whole.tif"
    write_frame(random_frame((64, 80, 3)), whole, compression=None)
    path = tmp_path / "cut.tif"
    path.write_bytes(whole.read_bytes()[:20000])
    with pytest.raises(FrameReadError) as exc:
        read_frame(path)
    assert "truncated" in assert_names(exc, path)
    # libtiff's layout (directory after the data): cut before the directory
    path.write_bytes((EXTERNAL / "tiff/libtiff_quad-tile_tiled_lzw_rgb.tif").read_bytes()[:100000])
    with pytest.raises(FrameReadError) as exc:
        read_frame(path)
    assert_names(exc, path)


def test_text_named_tiff_is_refused(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("hello")
    with pytest.raises(FrameReadError) as exc:
        read_frame(path)
    assert "tifffile could not read it" in assert_names(exc, path)


def test_read_error_survives_pickling(tmp_path):
    error = FrameReadError(tmp_path / "x.dpx", "broken")
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.path == error.path


def test_unknown_backend_and_extension(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="unknown backend"):
        read_frame(path, backend="pillow")
    with pytest.raises(FrameReadError, match="name a backend"):
        read_frame(path)


@pytest.mark.parametrize("name", ["frame.dpx", "frame.tif"])
def test_failed_write_leaves_no_temporary_file(tmp_path, name):
    target = tmp_path / name
    target.mkdir()  # a folder in the way: the final rename fails after the file is written
    with pytest.raises(OSError):
        write_frame(random_frame((4, 4, 3)), target)
    assert os.listdir(tmp_path) == [name] and target.is_dir()


@pytest.mark.parametrize("name", ["frame.dpx", "frame.tif"])
def test_failure_while_flushing_leaves_no_temporary_file(tmp_path, monkeypatch, name):
    def fail(path, directory=False):
        assert path.exists()  # the temporary file is there when it fails
        raise OSError("disk full")

    monkeypatch.setattr(io, "_sync", fail)
    with pytest.raises(OSError, match="disk full"):
        write_frame(random_frame((4, 4, 3)), tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_unwritable_folder_is_a_write_error(tmp_path):
    target = tmp_path / "missing" / "frame.dpx"
    with pytest.raises(FrameWriteError) as exc:
        write_frame(random_frame((4, 4, 3)), target)
    assert_names(exc, target)
    assert os.listdir(tmp_path) == []


def test_write_refuses_what_it_cannot_write_faithfully(tmp_path):
    with pytest.raises(TypeError, match="widen"):
        write_frame(np.zeros((2, 2, 3), np.uint8), tmp_path / "a.dpx")
    with pytest.raises(ValueError, match="not .exr"):
        write_frame(np.zeros((2, 2, 3), np.uint16), tmp_path / "a.exr")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- conversions


@pytest.mark.parametrize(("bits", "code", "expected"), [
    (10, 0, 0), (10, 1, 64), (10, 512, 32800), (10, 1023, 65535),
    (12, 1, 16), (12, 2386, 38185), (12, 4095, 65535),
    (8, 1, 257), (8, 128, 32896), (8, 255, 65535),
    (16, 12345, 12345), (1, 1, 65535), (4, 0xA, 0xAAAA), (5, 1, 2114),
])
def test_widen_by_hand(bits, code, expected):
    out = widen(np.array([code], np.uint16), bits)
    assert out.dtype == np.uint16 and int(out[0]) == expected


def test_widen_refuses_codes_out_of_range_and_signed_input():
    with pytest.raises(ValueError):
        widen(np.array([1024], np.uint16), 10)
    with pytest.raises(TypeError):
        widen(np.array([1], np.int16), 10)


def test_float_conversions_by_hand_and_every_value_round_trips():
    assert to_float(np.array([0, 32768, 65535], np.uint16)).tolist() == [
        0.0, np.float32(32768 / 65535), 1.0]
    assert to_float(np.zeros(1, np.uint16)).dtype == np.float32
    assert from_float(np.array([0.25, 0.5, 1.5, -1.0])).tolist() == [16384, 32768, 65535, 0]
    everything = np.arange(65536, dtype=np.uint16)
    assert np.array_equal(from_float(to_float(everything)), everything)


def test_importing_io_loads_neither_django_nor_the_image_libraries():
    import subprocess
    import sys

    code = ("import sys, restoration.io; "
            "print(sorted(m for m in ('django', 'OpenImageIO', 'tifffile') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_the_same_pixels_always_give_the_same_dpx_bytes(tmp_path):
    from restoration.dpx import read_dpx_header

    px = np.arange(8 * 6 * 3, dtype=np.uint16).reshape(6, 8, 3) * 300
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    io.write_frame(px, tmp_path / "a" / "reel.0001.dpx")
    io.write_frame(px, tmp_path / "b" / "reel.0001.dpx")
    a = (tmp_path / "a" / "reel.0001.dpx").read_bytes()
    assert a == (tmp_path / "b" / "reel.0001.dpx").read_bytes()
    assert read_dpx_header(tmp_path / "a" / "reel.0001.dpx").filename == "reel.0001.dpx"
