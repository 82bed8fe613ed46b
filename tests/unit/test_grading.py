"""Grading maths against independent references: OpenColorIO's published CDL vectors, a plain
numpy ASC CDL, colour-science's LUT and colour-space functions, the Academy's ADX10 CTL; then
sequences and the `grade` command on real DPX and TIFF files."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from fixtures.external import external
from fixtures.frames import write_sequence
from restoration.grading import (
    GradeSpec,
    GradeSpecError,
    grade_frame,
    grade_sequence,
    grade_values,
    processor_for,
)
from restoration.interchange import CDL

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = external()
LUTS = EXTERNAL / "lut"


@pytest.fixture(scope="module")
def colour():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    return colour


def apply(spec: GradeSpec, rgb) -> np.ndarray:
    """Our float grade (the processor grade_frame uses, not quantised) on (N, 3) values."""
    return grade_values(np.asarray(rgb, dtype=np.float64), spec).astype(np.float64)


# ----------------------------------------------------------------------------- ASC CDL

# OpenColorIO tests/cpu/ops/cdl/CDLOp_tests.cpp, CDL_DATA_1, as quoted in
# /work/shared/external/PROVENANCE.md "Reference vectors for ASC CDL maths"; tolerance 2e-6.
OCIO_CDL_1 = CDL(slope=(1.35, 1.1, 0.071), offset=(0.05, -0.23, 0.11), power=(0.93, 0.81, 1.27),
                 saturation=1.23)
OCIO_VECTORS = [
    ("asc", (0.3278, 0.01, 1.0), (0.609399, 0.000000, 0.113130)),
    ("asc", (0.25, 0.5, 0.75), (0.422056, 0.401466, 0.035820)),
    ("asc", (1.25, 1.5, 1.75), (1.000000, 1.000000, 0.000000)),
    ("asc", (-0.2, 0.5, 1.4), (0.000000, 0.421096, 0.101225)),
    ("asc", (0.0, 0.8, 0.99), (0.000000, 0.746748, 0.018691)),
    ("no-clamp", (0.25, 0.5, 0.75), (0.422056, 0.401466, 0.035820)),
    ("no-clamp", (1.25, 1.5, 1.75), (1.753162, 1.331130, -0.108181)),
    ("no-clamp", (-0.25, -0.5, -0.75), (-0.211694, -0.817469, 0.174100)),
    ("no-clamp", (0.3278, 0.01, 1.0), (0.645424, -0.260548, 0.149154)),
]


@pytest.mark.parametrize("style,rgb,expected", OCIO_VECTORS)
def test_cdl_matches_opencolorio_published_vectors(style, rgb, expected):
    got = apply(GradeSpec(cdl=OCIO_CDL_1, cdl_style=style), [rgb])[0]
    assert np.abs(got - expected).max() <= 2e-6


def numpy_asc_cdl(rgb: np.ndarray, cdl: CDL) -> np.ndarray:
    """ASC CDL v1.2 as the ASC text writes it, clamped: clamp(in*s+o)^p, saturation about
    Rec. 709 luma, clamp."""
    x = np.clip(rgb * np.array(cdl.slope) + np.array(cdl.offset), 0.0, 1.0)
    x = x ** np.array(cdl.power)
    luma = x @ np.array([0.2126, 0.7152, 0.0722])
    x = luma[..., None] + cdl.saturation * (x - luma[..., None])
    return np.clip(x, 0.0, 1.0)


@pytest.mark.parametrize("channels", [3, 4])
def test_graded_16_bit_frames_match_a_numpy_asc_formula_within_one_code(channels):
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 65536, (67, 301, channels), dtype=np.uint16)  # odd sizes, blocks
    cdl = CDL(slope=(1.2, 0.9, 1.05), offset=(-0.02, 0.03, 0.0), power=(0.8, 1.1, 1.25),
              saturation=0.85)
    out = grade_frame(frame, GradeSpec(cdl=cdl))
    assert out.dtype == np.uint16 and out.shape == frame.shape
    want = np.rint(numpy_asc_cdl(frame[..., :3] / 65535.0, cdl) * 65535)
    assert np.abs(out[..., :3].astype(np.int64) - want).max() <= 1
    if channels == 4:
        assert np.array_equal(out[..., 3], frame[..., 3])  # alpha passes through


def test_float_frames_are_graded_too_and_written_as_uint16():
    frame = np.random.default_rng(3).uniform(-0.1, 1.2, (16, 20, 3)).astype(np.float32)
    cdl = CDL(slope=(1.1, 1.0, 0.9), saturation=1.2)
    out = grade_frame(frame, GradeSpec(cdl=cdl))
    want = np.rint(numpy_asc_cdl(frame.astype(np.float64), cdl) * 65535)
    assert out.dtype == np.uint16 and np.abs(out.astype(np.int64) - want).max() <= 1


def test_grey_frames_stay_grey_when_neutral_and_become_rgb_when_tinted():
    grey = np.random.default_rng(4).integers(0, 65536, (10, 12, 1), dtype=np.uint16)
    neutral = grade_frame(grey, GradeSpec(cdl=CDL(slope=(1.1, 1.1, 1.1), saturation=0.5)))
    assert neutral.shape == (10, 12, 1)
    tinted = grade_frame(grey, GradeSpec(cdl=CDL(slope=(1.1, 1.0, 0.9))))
    assert tinted.shape == (10, 12, 3)


def test_no_step_copies_the_frame():
    frame = np.random.default_rng(5).integers(0, 65536, (9, 7, 4), dtype=np.uint16)
    spec = GradeSpec()
    assert spec.is_identity and np.array_equal(grade_frame(frame, spec), frame)


# ----------------------------------------------------------------------------- LUT files

# Every .cube and .spi3d in the external LUT folder is compared with colour-science, none left
# out (OpenColorIO's Resolve .cube reader refuses a TITLE line, which grading works around by
# reading the file without that line; colour-science reads them all).


def lut_files(*suffixes: str) -> list[str]:
    return sorted(p.name for p in LUTS.iterdir() if p.suffix in suffixes)


def colour_apply(colour, lut, rgb: np.ndarray, interpolation: str) -> np.ndarray:
    """colour-science's own application of what `colour.read_LUT` returned, with the same
    3D interpolation (trilinear is its default)."""
    kwargs = {}
    if interpolation == "tetrahedral":
        kwargs = {"interpolator": colour.algebra.table_interpolation_tetrahedral}
    if isinstance(lut, colour.LUTSequence):
        return lut.apply(rgb, LUT3D=kwargs)
    if isinstance(lut, colour.LUT3D):
        return lut.apply(rgb, **kwargs)
    return lut.apply(rgb)


def sample_domain(colour, lut, n: int = 4000, seed: int = 0) -> np.ndarray:
    """Random RGB inside the (first) LUT's domain, plus its corners."""
    first = lut[0] if isinstance(lut, colour.LUTSequence) else lut
    lo, hi = np.asarray(first.domain, dtype=np.float64)[[0, -1]]
    rng = np.random.default_rng(seed)
    corners = np.array([[(hi if (k >> c) & 1 else lo)[c] for c in range(3)] for k in range(8)])
    return np.concatenate([lo + rng.random((n, 3)) * (hi - lo), corners])


def test_every_lut_file_is_covered():
    assert len(lut_files(".cube", ".spi3d")) >= 12, "LUT files missing"


@pytest.mark.parametrize("interpolation", ["tetrahedral", "linear"])
@pytest.mark.parametrize("name", lut_files(".cube", ".spi3d"))
def test_lut_files_match_colour_science(colour, name, interpolation):
    lut = colour.read_LUT(str(LUTS / name))
    rgb = sample_domain(colour, lut)
    want = colour_apply(colour, lut, rgb, interpolation)
    got = apply(GradeSpec(lut=str(LUTS / name), interpolation=interpolation), rgb)
    # 1e-4, relative above 1.0: OpenColorIO works in float32 (ACES_Proxy_10_to_ACES reaches
    # 704, where a float32 step is 6e-5)
    assert (np.abs(got - want) / np.maximum(1.0, np.abs(want))).max() <= 1e-4, name


@pytest.mark.parametrize("interpolation", ["tetrahedral", "linear"])
@pytest.mark.parametrize("name", lut_files(".3dl"))
def test_3dl_files_match_opencolorio_file_transform_alone(name, interpolation):
    import PyOpenColorIO as ocio

    frame = np.random.default_rng(11).integers(0, 65536, (40, 50, 3), dtype=np.uint16)
    ours = grade_frame(frame, GradeSpec(lut=str(LUTS / name), interpolation=interpolation))
    interp = ocio.INTERP_TETRAHEDRAL if interpolation == "tetrahedral" else ocio.INTERP_LINEAR
    alone = ocio.Config.CreateRaw().getProcessor(
        ocio.FileTransform(str(LUTS / name), interpolation=interp)).getDefaultCPUProcessor()
    ref = np.ascontiguousarray(frame.reshape(-1, 3) / 65535.0, dtype=np.float32)
    alone.applyRGB(ref)
    want = np.rint(np.clip(ref, 0, 1) * 65535).reshape(frame.shape)
    assert np.abs(ours.astype(np.int64) - want).max() <= 1


def test_malformed_lut_is_refused_by_name():
    bad = EXTERNAL / "malformed" / "ocio_error_truncated_file.3dl"
    with pytest.raises(GradeSpecError, match="ocio_error_truncated_file.3dl"):
        processor_for(GradeSpec(lut=str(bad)))
    with pytest.raises(GradeSpecError, match="no such LUT"):
        GradeSpec(lut=str(LUTS / "missing.cube"))


def test_cube_lists_red_fastest_as_the_matching_spi3d_shows():
    """PROVENANCE.md: the Foundry .cube and the Sony .spi3d hold the same 4^3 correction; the
    .spi3d names each entry's r g b index, the .cube only lists values. Graded at every node,
    the two agree, and the .cube's second line (0.398947 -0.017706 -0.017706) lands on
    (r=1/3, g=0, b=0): red varies fastest."""
    cube = GradeSpec(lut=str(LUTS / "colour_iridas_Colour_Correct_Foundry.cube"))
    spi3d = GradeSpec(lut=str(LUTS / "colour_sony_Colour_Correct.spi3d"))
    nodes = np.array([(r, g, b) for b in range(4) for g in range(4) for r in range(4)]) / 3.0
    a, b = apply(cube, nodes), apply(spi3d, nodes)
    assert np.abs(a - b).max() <= 1e-6
    lines = [ln.split() for ln in (LUTS / "colour_iridas_Colour_Correct_Foundry.cube")
             .read_text().splitlines() if ln[:1] in "-0123456789" and len(ln.split()) == 3]
    table = np.array(lines, dtype=np.float64)
    assert np.abs(a - table).max() <= 1e-6  # file order == red fastest over our nodes
    assert np.allclose(apply(cube, [(1 / 3, 0, 0)])[0], (0.398947, -0.017706, -0.017706),
                       atol=1e-6)
    assert np.allclose(apply(cube, [(0, 0, 1 / 3)])[0], (0, 0, 0.416653), atol=1e-6)
    assert np.allclose(apply(cube, [(2 / 3, 1 / 3, 0)])[0], (0.633333, 0.316667, 0), atol=1e-6)


# ----------------------------------------------------------------------------- conversion

GRID = np.linspace(0.0, 1.0, 4097)


def grey(values) -> np.ndarray:
    return np.repeat(np.asarray(values, dtype=np.float64)[:, None], 3, axis=1)


def test_cineon_decoding_matches_colour_science(colour):
    got = apply(GradeSpec(in_transfer="cineon"), grey(GRID))
    want = colour.models.log_decoding_Cineon(GRID)
    assert np.abs(got[:, 0] - want).max() <= 1e-4


def test_rec709_decoding_matches_colour_science(colour):
    x = np.concatenate([GRID, np.random.default_rng(1).random(20000)])
    got = apply(GradeSpec(in_transfer="rec709"), grey(x))
    assert np.abs(got[:, 0] - colour.models.oetf_inverse_BT709(x)).max() <= 1e-4


def test_linear_decoding_is_identity():
    rgb = np.random.default_rng(2).random((1000, 3))
    assert np.abs(apply(GradeSpec(in_transfer="linear"), rgb) - rgb).max() <= 1e-6


# The Academy's ACEScsc.ADX10_to_ACES.ctl (aces-dev, "Universal ADX10 to ACES", v0.2.2),
# transcribed: colour-science has no ADX function, so this is the independent reference.
CDD_TO_CID = np.array([[0.75573, 0.05901, 0.16134], [0.22197, 0.96928, 0.07406],
                       [0.02230, -0.02829, 0.76460]])
EXP_TO_ACES = np.array([[0.72286, 0.11923, 0.01427], [0.12630, 0.76418, 0.08213],
                        [0.15084, 0.11659, 0.90359]])
ADX_LUT_1D = np.array([[-0.19, -6.0], [0.01, -2.721718645], [0.028, -2.521718645],
                       [0.054, -2.321718645], [0.095, -2.121718645], [0.145, -1.921718645],
                       [0.22, -1.721718645], [0.3, -1.521718645], [0.4, -1.321718645],
                       [0.5, -1.121718645], [0.6, -0.926545676714876]])
REF_PT = (7120.0 - 1520.0) / 8000.0 * (100.0 / 55.0) - np.log10(0.18)


def ctl_adx10_to_aces(rgb: np.ndarray) -> np.ndarray:
    cdd = (rgb * 1023.0 - 95.0) / 500.0
    cid = cdd @ CDD_TO_CID  # CTL mult_f3_f33: row vector times matrix
    log_e = np.where(cid <= 0.6, np.interp(cid, ADX_LUT_1D[:, 0], ADX_LUT_1D[:, 1]),
                     (100.0 / 55.0) * cid - REF_PT)
    return (10.0 ** log_e) @ EXP_TO_ACES


def test_colour_science_has_no_adx_function(colour):
    assert not [n for n in dir(colour.models) if "adx" in n.lower()]


def test_adx10_decoding_matches_the_academy_ctl():
    rgb = np.concatenate([np.random.default_rng(3).random((20000, 3)), grey(GRID)])
    got = apply(GradeSpec(in_transfer="adx10"), rgb)
    want = ctl_adx10_to_aces(rgb)
    assert np.abs(got - want).max() <= 1e-4


@pytest.mark.parametrize("out_space,name", [("rec709", "ITU-R BT.709"), ("p3-d65", "P3-D65"),
                                            ("rec2020", "ITU-R BT.2020"),
                                            ("aces2065-1", "ACES2065-1")])
def test_output_spaces_match_colour_science(colour, out_space, name):
    rgb = np.concatenate([np.random.default_rng(4).random((20000, 3)), grey(GRID)])
    got = apply(GradeSpec(in_transfer="linear", out_space=out_space), rgb)
    want = colour.RGB_to_RGB(rgb, "ITU-R BT.709", name, apply_cctf_encoding=True)
    assert np.abs(got - want).max() <= 1e-4
    # without an in_transfer the frame is taken as linear BT.709 too
    assert np.abs(apply(GradeSpec(out_space=out_space), rgb) - got).max() <= 1e-7


@pytest.mark.parametrize("out_space,name", [("rec709", "ITU-R BT.709"), ("rec2020",
                                                                        "ITU-R BT.2020")])
def test_adx10_into_a_video_space_is_ctl_then_colour_science(colour, out_space, name):
    rgb = np.random.default_rng(5).uniform(0.1, 0.7, (20000, 3))
    got = apply(GradeSpec(in_transfer="adx10", out_space=out_space), rgb)
    want = colour.RGB_to_RGB(ctl_adx10_to_aces(rgb), "ACES2065-1", name,
                             apply_cctf_encoding=True)
    assert np.abs(got - want).max() <= 1e-4


def test_cineon_to_p3_matches_colour_science(colour):
    x = np.random.default_rng(6).uniform(0.1, 0.66, (20000, 3))  # stays positive in P3
    got = apply(GradeSpec(in_transfer="cineon", out_space="p3-d65"), x)
    want = colour.RGB_to_RGB(colour.models.log_decoding_Cineon(x), "ITU-R BT.709", "P3-D65",
                             apply_cctf_encoding=True)
    assert np.abs(got - want).max() <= 1e-4


# ----------------------------------------------------------------------------- order


def write_cube_1d(path: Path, curve, size: int = 1024) -> Path:
    x = np.linspace(0, 1, size)
    y = curve(x)
    path.write_text(f"LUT_1D_SIZE {size}\n" + "".join(f"{v:.9f} {v:.9f} {v:.9f}\n" for v in y))
    return path


def test_order_is_cdl_then_lut_then_conversion(colour, tmp_path):
    square = write_cube_1d(tmp_path / "square.cube", lambda x: x * x)
    cdl = CDL(slope=(0.5, 0.5, 0.5), offset=(0.1, 0.1, 0.1))
    x = np.linspace(0.0, 1.0, 257)
    spec = GradeSpec(cdl=cdl, lut=str(square), in_transfer="cineon")
    got = apply(spec, grey(x))[:, 0]

    def c(v):
        return np.clip(0.5 * v + 0.1, 0, 1)

    def lut(v):
        return v * v

    decode = colour.models.log_decoding_Cineon
    ours = decode(lut(c(x)))
    assert np.abs(got - ours).max() <= 1e-4  # 1D LUT of 1024 points: x^2 within 2.4e-7
    for other in (decode(c(lut(x))), lut(c(decode(x))), c(lut(decode(x))),
                  lut(decode(c(x)))):
        assert np.abs(got - other).max() > 1e-2  # every other order gives another picture
    assert spec.to_json()["order"] == ["cdl", "lut", "conversion"]


def test_processor_is_built_once_per_spec():
    from restoration.grading import _processor

    spec = GradeSpec(cdl=CDL(slope=(1.01, 1.0, 1.0)))
    assert processor_for(spec) is processor_for(GradeSpec(cdl=CDL(slope=(1.01, 1.0, 1.0))))
    assert _processor.cache_info().hits >= 1


def test_to_json_records_the_grade_and_versions(tmp_path):
    cube = write_cube_1d(tmp_path / "id.cube", lambda x: x)
    data = GradeSpec(cdl=OCIO_CDL_1, lut=str(cube), in_transfer="adx10",
                     out_space="rec709").to_json()
    json.dumps(data)
    assert data["lut"]["sha256"] == hashlib.sha256(cube.read_bytes()).hexdigest()
    assert data["lut"]["interpolation"] == "tetrahedral"
    assert data["conversion"]["working_primaries"] == "ACES2065-1"
    assert data["conversion"]["chromatic_adaptation"] == "CAT02"
    assert set(data["versions"]) >= {"opencolorio", "colour-science"}


@pytest.mark.parametrize("kw", [{"interpolation": "cubic"}, {"in_transfer": "slog3"},
                                {"out_space": "srgb"}, {"cdl_style": "v1.0"}])
def test_unknown_names_are_refused(kw):
    with pytest.raises(GradeSpecError, match=next(iter(kw.values()))):
        GradeSpec(**kw)


# ----------------------------------------------------------------------------- sequences + CLI


def digests(folder: Path, suffix: str) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob(f"*{suffix}"))}


@pytest.fixture
def dpx_scan(tmp_path):
    folder = tmp_path / "scan"
    write_sequence(folder, range(200, 206), width=40, height=22)
    return folder


@pytest.fixture
def tiff_scan(tmp_path):
    import tifffile

    folder = tmp_path / "tiffs"
    folder.mkdir()
    rng = np.random.default_rng(9)
    for n in range(1, 5):
        tifffile.imwrite(folder / f"shot_{n:04d}.tif",
                         rng.integers(0, 65536, (18, 26, 3), dtype=np.uint16),
                         photometric="rgb")
    return folder


def cli(*args: str) -> tuple[int, str, str]:
    r = subprocess.run([sys.executable, "-m", "restoration", "grade", *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=120,
                       env={"PATH": os.environ["PATH"]})
    return r.returncode, r.stdout, r.stderr


def test_sequence_grading_keeps_names_and_writes_16_bit(dpx_scan, tmp_path):
    import OpenImageIO as oiio

    from restoration.io import read_frame

    spec = GradeSpec(cdl=CDL(slope=(1.1, 1.0, 0.95), saturation=1.1), in_transfer="cineon",
                     out_space="rec709")
    progress = []
    report = grade_sequence(dpx_scan, tmp_path / "out", spec,
                            on_progress=lambda done, total: progress.append((done, total)))
    assert report.frames_written == 6 and progress[-1] == (6, 6)
    assert report.names == sorted(p.name for p in dpx_scan.glob("*.dpx"))
    assert sorted(digests(tmp_path / "out", ".dpx")) == report.names
    first = report.names[0]
    spec_out = oiio.ImageInput.open(str(tmp_path / "out" / first)).spec()
    assert spec_out.get_int_attribute("oiio:BitsPerSample") == 16
    src = read_frame(dpx_scan / first).pixels
    assert np.array_equal(read_frame(tmp_path / "out" / first).pixels, grade_frame(src, spec))
    prov = json.loads(report.provenance.read_text())
    assert prov["frames"] == [200, 205] and prov["grade"]["order"] == ["cdl", "conversion"]


def test_cli_grades_a_dpx_sequence_with_a_lut(dpx_scan, tmp_path):
    lut = write_cube_1d(tmp_path / "gamma.cube", lambda x: x ** 0.8)
    code, out, err = cli("--lut", str(lut), "--in-transfer", "cineon", "--out-space",
                         "rec2020", str(dpx_scan), str(tmp_path / "o"), "--frames", "201-203",
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"frames_written", "output", "provenance"}
    assert data["frames_written"] == 3 and Path(data["provenance"]).is_file()
    assert sorted(digests(tmp_path / "o", ".dpx")) == [f"reel.{n:07d}.dpx" for n in (201, 202,
                                                                                      203)]
    prov = json.loads(Path(data["provenance"]).read_text())
    assert prov["grade"]["lut"]["sha256"] == hashlib.sha256(lut.read_bytes()).hexdigest()


def test_cli_without_a_transform_copies_tiffs_at_16_bit(tiff_scan, tmp_path):
    import tifffile

    code, out, err = cli(str(tiff_scan), str(tmp_path / "copy"), "--json")
    assert code == 0, err
    for p in sorted(tiff_scan.glob("*.tif")):
        with tifffile.TiffFile(tmp_path / "copy" / p.name) as tif:
            page = tif.pages[0]
            assert page.bitspersample == 16 and page.compression == 1  # as the input: none
            assert np.array_equal(page.asarray(), tifffile.imread(p))


def test_cli_grades_tiffs(tiff_scan, tmp_path):
    import tifffile

    code, _, err = cli("--out-space", "p3-d65", str(tiff_scan), str(tmp_path / "g"))
    assert code == 0, err
    src = tifffile.imread(tiff_scan / "shot_0002.tif")
    got = tifffile.imread(tmp_path / "g" / "shot_0002.tif")
    assert got.dtype == np.uint16
    assert np.array_equal(got, grade_frame(src, GradeSpec(out_space="p3-d65")))


def test_cli_exit_codes(dpx_scan, tmp_path):
    assert cli("--in-transfer", "slog3", str(dpx_scan), str(tmp_path / "a"))[0] == 2
    assert cli("--lut", str(tmp_path / "none.cube"), str(dpx_scan), str(tmp_path / "b"))[0] == 2
    assert cli(str(tmp_path / "nowhere"), str(tmp_path / "c"))[0] == 2
    assert cli(str(dpx_scan), str(tmp_path / "d"), "--frames", "9-1")[0] == 2
    assert cli(str(dpx_scan), str(dpx_scan / "inside"))[0] == 2
    assert cli(str(dpx_scan), str(tmp_path / "e"), "--frames", "900-901")[0] == 2
    assert cli("--id", "foo", str(dpx_scan), str(tmp_path / "f"))[0] == 2
    assert cli("--cdl", str(tmp_path / "none.cc"), str(dpx_scan), str(tmp_path / "g"))[0] == 2
    bad_lut = tmp_path / "bad.cube"
    bad_lut.write_text("LUT_3D_SIZE 2\n0 0 0\n")
    code, out, err = cli("--lut", str(bad_lut), str(dpx_scan), str(tmp_path / "h"), "--json")
    assert code == 2 and "bad.cube" in err and json.loads(out)["exit"] == 2
    (dpx_scan / "reel.0000203.dpx").write_bytes(b"broken")
    code, _, err = cli("--out-space", "rec709", str(dpx_scan), str(tmp_path / "i"))
    assert code == 1 and "203" in err


def test_cli_reads_a_cdl_file(dpx_scan, tmp_path):
    cc = EXTERNAL / "cdl" / "ocio_cdl_test1.cc"
    code, out, err = cli("--cdl", str(cc), str(dpx_scan), str(tmp_path / "o"), "--json")
    assert code == 0, err
    prov = json.loads(Path(json.loads(out)["provenance"]).read_text())
    assert prov["grade"]["cdl"]["slope"] == [1.1, 1.2, 1.3]
    assert prov["grade"]["cdl"]["saturation"] == 0.7


def test_adx10_decoding_is_near_opencolorio_builtin():
    import PyOpenColorIO as ocio

    rgb = np.random.default_rng(8).random((20000, 3))
    builtin = np.ascontiguousarray(rgb, dtype=np.float32)
    ocio.Config.CreateRaw().getProcessor(ocio.BuiltinTransform(
        "ADX10_to_ACES2065-1")).getDefaultCPUProcessor().applyRGB(builtin)
    got = apply(GradeSpec(in_transfer="adx10"), rgb)
    assert (np.abs(got - builtin) / np.maximum(1.0, np.abs(builtin))).max() <= 1e-4


@pytest.mark.parametrize("out_space,name", [("rec709", "ITU-R BT.709"),
                                            ("rec2020", "ITU-R BT.2020")])
def test_encoding_is_right_across_the_break_at_0_018(colour, out_space, name):
    """colour-science's BT.709/BT.2020 OETF jumps by 2.5e-4 at 0.018; values in the half-float
    step around it are mended after OpenColorIO (values within float32 rounding of the break
    itself may land on either side, so the grid leaves them out)."""
    x = np.linspace(0.01795, 0.01805, 20001)
    x = x[np.abs(x - 0.018) > 1e-8]
    got = apply(GradeSpec(out_space=out_space), grey(x))[:, 0]
    want = colour.models.oetf_BT709(x) if out_space == "rec709" else colour.models.oetf_BT2020(x)
    assert np.abs(got - want).max() <= 1e-4
    codes = np.rint(x * 65535).astype(np.uint16)
    frame = np.repeat(codes[:, None], 3, axis=1)[None]
    graded = grade_frame(frame, GradeSpec(out_space=out_space))[0, :, 0].astype(np.int64)
    ref = colour.RGB_to_RGB(codes[:, None].repeat(3, 1) / 65535.0, "ITU-R BT.709", name,
                            apply_cctf_encoding=True)[:, 0]
    assert np.abs(graded - np.rint(ref * 65535)).max() <= 1


def test_16_bit_frames_near_the_break_match_colour_science_within_one_code(colour):
    """Cineon codes that decode near 0.018 linear, graded to Rec. 709 at 16 bits."""
    centre = float(colour.models.log_encoding_Cineon(0.018))
    rng = np.random.default_rng(12)
    frame = np.rint(rng.uniform(centre - 0.002, centre + 0.002, (64, 96, 3)) * 65535)
    frame = frame.astype(np.uint16)
    got = grade_frame(frame, GradeSpec(in_transfer="cineon", out_space="rec709"))
    want = colour.models.oetf_BT709(colour.models.log_decoding_Cineon(frame / 65535.0))
    assert np.abs(got.astype(np.int64) - np.rint(np.clip(want, 0, 1) * 65535)).max() <= 1
