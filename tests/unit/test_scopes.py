"""Scopes: expectations from the Rec. 709 (BT.709) equations and the documented layouts,
computed here in float64 or integers, never read back from the module's own output."""
from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from PIL import Image

from restoration import scopes

# ITU-R BT.709 luma and colour-difference scaling, written out here on purpose.
KR, KG, KB = 0.2126, 0.7152, 0.0722


def bt709_luma(r, g, b):
    return KR * np.asarray(r, np.float64) + KG * np.asarray(g, np.float64) + \
        KB * np.asarray(b, np.float64)


def bt709_cbcr(r: float, g: float, b: float) -> tuple[float, float]:
    y = KR * r + KG * g + KB * b
    return (b - y) / (2 * (1 - KB)), (r - y) / (2 * (1 - KR))  # 1.8556, 1.5748


def expected_row(value: float, height: int) -> int:
    """The documented waveform row: 1/height-wide bins, 0 at the bottom, 1.0 in the top row."""
    return height - 1 - min(math.floor(value * height), height - 1)


def lit(img: np.ndarray) -> np.ndarray:
    return img.any(axis=2)


# ----------------------------------------------------------------------------- waveform


def test_grey_ramp_waveform_lights_exactly_the_rows_its_luma_predicts():
    height, width = 256, 512
    codes = np.rint((np.arange(width) + 0.5) / width * 65535).astype(np.uint16)
    frame = np.repeat(codes[None, :, None], 3, axis=2).repeat(6, axis=0)  # 6 x 512, R = G = B
    values = bt709_luma(codes, codes, codes) / 65535.0
    assert np.min(np.abs(values * height - np.rint(values * height))) > 0.2  # off bin edges
    img = scopes.waveform(frame, width, height, graticule=False)
    assert img.shape == (height, width, 3) and img.dtype == np.uint8
    for x in range(width):
        assert np.flatnonzero(lit(img)[:, x]).tolist() == [expected_row(values[x], height)], x
    assert lit(img)[height - 1, 0] and lit(img)[0, width - 1]  # dark at the bottom, light on top
    full = scopes.waveform(np.array([[[0, 0, 0], [65535] * 3]], np.uint16), 2, height,
                           graticule=False)
    assert lit(full)[height - 1, 0] and lit(full)[0, 1]  # 0 in the bottom row, 1.0 in the top


def test_colour_ramp_waveform_follows_rec709_luma_and_narrow_frames_are_widened():
    height, width, columns = 256, 512, 128
    v = np.linspace(0.0, 1.0, columns, dtype=np.float32)
    frame = np.zeros((5, columns, 3), np.float32)
    frame[..., 0], frame[..., 1], frame[..., 2] = v, (1 - v) * 0.8, v * v
    y = bt709_luma(frame[0, :, 0], frame[0, :, 1], frame[0, :, 2])
    assert np.min(np.abs(y * height - np.rint(y * height))) > 2e-4  # float32 error ~3e-5
    img = scopes.waveform(frame, width, height, graticule=False)
    for x in range(width):
        c = x * columns // width  # the documented widening
        assert np.flatnonzero(lit(img)[:, x]).tolist() == [expected_row(y[c], height)], x


def test_waveform_graticule_is_faint_and_at_every_tenth():
    height = 256
    frame = np.full((4, 4, 3), 0.55, np.float32)
    img = scopes.waveform(frame, 512, height)
    trace = expected_row(0.55, height)
    lines = {expected_row(k / 10, height) for k in range(11)}
    assert trace not in lines
    for row in range(height):
        if row in lines:
            assert lit(img)[row].all() and img[row].max() < 100, row
        elif row != trace:
            assert not lit(img)[row].any(), row
    assert img[trace].min() > 200  # the trace outshines the graticule


def test_waveform_brightness_grows_with_the_count():
    frame = np.zeros((100, 1, 3), np.float32)
    frame[:90] = 0.2
    frame[90:] = 0.8
    img = scopes.waveform(frame, 4, 64, graticule=False)
    many, few = img[expected_row(0.2, 64), 0, 0], img[expected_row(0.8, 64), 0, 0]
    assert many > few > 0


# ----------------------------------------------------------------------------- parade


@pytest.mark.parametrize("frame", [
    np.tile(np.array([1.0, 0.0, 0.0], np.float32), (16, 24, 1)),
    np.tile(np.array([65535, 0, 0], np.uint16), (16, 24, 1)),
], ids=["float", "uint16"])
def test_pure_red_lights_the_r_panel_at_the_top_and_g_and_b_at_the_bottom(frame):
    height, width = 256, 768
    img = scopes.parade(frame, width, height, graticule=False)
    assert img.shape == (height, width, 3)
    panels = [(0, 256), (256, 512), (512, 768)]  # i * width // 3
    for (start, end), row in zip(panels, (0, height - 1, height - 1), strict=True):
        panel = lit(img)[:, start:end]
        assert panel[row].all()
        assert np.flatnonzero(panel.any(axis=1)).tolist() == [row]
    for channel, (start, end) in enumerate(panels):  # each panel is tinted in its colour
        pixels = img[:, start:end][lit(img)[:, start:end]].astype(int)
        assert (pixels.argmax(axis=1) == channel).all()


# ----------------------------------------------------------------------------- vectorscope


BARS = {
    "R": (0.75, 0.0, 0.0), "G": (0.0, 0.75, 0.0), "B": (0.0, 0.0, 0.75),
    "Cy": (0.0, 0.75, 0.75), "Mg": (0.75, 0.0, 0.75), "Yl": (0.75, 0.75, 0.0),
}


def vs_pixel(cb: float, cr: float, size: int) -> tuple[float, float]:
    """Documented placement: +Cb right, +Cr up, |CbCr| = VECTORSCOPE_EXTENT at the edge."""
    gain = size / 2 / scopes.VECTORSCOPE_EXTENT
    return size / 2 + cb * gain, size / 2 - cr * gain


@pytest.mark.parametrize("name", list(BARS))
@pytest.mark.parametrize("dtype", ["float32", "uint16"])
def test_75_percent_bars_land_on_their_vectorscope_targets(name, dtype):
    size = 256
    rgb = np.array(BARS[name])
    frame = np.tile(rgb, (8, 8, 1))
    frame = np.rint(frame * 65535).astype(np.uint16) if dtype == "uint16" else \
        frame.astype(np.float32)
    x, y = vs_pixel(*bt709_cbcr(*rgb), size)
    img = scopes.vectorscope(frame, size, graticule=False)
    rows, cols = np.nonzero(lit(img))
    assert len(rows) >= 1
    assert np.all(np.abs(cols - x) <= 2) and np.all(np.abs(rows - y) <= 2)
    # and the graticule draws a coloured target box around that spot
    grat = scopes.vectorscope(np.zeros((2, 2, 3), np.float32), size)
    window = grat[round(y) - 7:round(y) + 8, round(x) - 7:round(x) + 8].astype(int)
    assert ((window.max(axis=2) - window.min(axis=2)) > 60).any()


def test_all_bars_in_one_frame_make_six_spots_and_grey_sits_in_the_centre():
    size = 256
    frame = np.zeros((10, 70, 3), np.float32)
    for i, rgb in enumerate([*BARS.values(), (0.5, 0.5, 0.5)]):
        frame[:, i * 10:(i + 1) * 10] = rgb
    img = scopes.vectorscope(frame, size, graticule=False)
    rows, cols = np.nonzero(lit(img))
    for rgb in BARS.values():
        x, y = vs_pixel(*bt709_cbcr(*rgb), size)
        assert np.any((np.abs(cols - x) <= 2) & (np.abs(rows - y) <= 2)), rgb
    assert lit(img)[size // 2, size // 2]
    assert len(rows) <= 7 * 4  # spots, not smears


def test_vectorscope_draws_the_skin_tone_line_between_red_and_yellow():
    size = 256
    grat = scopes.vectorscope(np.zeros((2, 2, 3), np.float32), size)
    angle = math.radians(123.0)  # the conventional flesh line
    for radius in (0.2, 0.3, 0.4):
        x, y = vs_pixel(radius * math.cos(angle), radius * math.sin(angle), size)
        window = grat[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2]
        assert window.any(), radius
    red = math.degrees(math.atan2(bt709_cbcr(*BARS["R"])[1], bt709_cbcr(*BARS["R"])[0]))
    yellow = math.degrees(math.atan2(bt709_cbcr(*BARS["Yl"])[1], bt709_cbcr(*BARS["Yl"])[0]))
    assert red < 123.0 < yellow


# ----------------------------------------------------------------------------- histogram


def test_histogram_counts_of_known_values():
    frame = np.zeros((4, 5, 3), np.uint16)
    flat = frame.reshape(-1, 3)
    flat[:10] = (0, 65535, 32768)      # 32768/65535 -> bin 128
    flat[10:16] = (16384, 16384, 16384)  # 0.25001 -> bin 64
    flat[16:] = (65535, 0, 0)
    counts = scopes.histogram_counts(frame, bins=256)
    assert counts.shape == (4, 256) and (counts.sum(axis=1) == 20).all()
    # luma: 0.7152 + 0.0722 * 0.500008 = 0.75130 -> bin 192; grey 0.25 -> 64; red 0.2126 -> 54
    expected = {0: {0: 10, 64: 6, 255: 4}, 1: {255: 10, 64: 6, 0: 4},
                2: {128: 10, 64: 6, 0: 4}, 3: {192: 10, 64: 6, 54: 4}}
    for row, bins in expected.items():
        assert {int(b): int(counts[row, b]) for b in np.flatnonzero(counts[row])} == bins, row
    assert math.floor(bt709_luma(0, 1, 32768 / 65535) * 256) == 192
    assert math.floor(bt709_luma(1, 0, 0) * 256) == 54


def test_histogram_counts_agree_with_integer_bins_and_numpy_histogram():
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 65536, (37, 41, 3), dtype=np.uint16)
    for bins in (256, 100):
        counts = scopes.histogram_counts(codes, bins=bins)
        for c in range(3):
            ref = np.minimum(codes[..., c].astype(np.int64) * bins // 65535, bins - 1)
            assert (counts[c] == np.bincount(ref.ravel(), minlength=bins)).all()
    floats = rng.random((33, 29, 3), dtype=np.float32)
    floats[0, 0] = (0.0, 1.0, 0.5)
    counts = scopes.histogram_counts(floats, bins=256)
    for c in range(3):
        assert (counts[c] == np.histogram(floats[..., c], bins=256, range=(0, 1))[0]).all()


@pytest.mark.parametrize("scale, short_bar", [("linear", 20), ("log", 104)])
def test_histogram_bar_heights_follow_the_scale(scale, short_bar):
    frame = np.zeros((110, 1, 3), np.float32)
    frame[:100] = 0.25  # bin 64 -> columns 128, 129 of 512
    frame[100:] = 0.75  # bin 192 -> columns 384, 385
    img = scopes.histogram(frame, 512, 200, 256, scale=scale, graticule=False)
    red = img[:, :, 0] > 0
    assert red[:, 128].sum() == 200  # the largest count fills the height
    # log: round(log1p(10) / log1p(100) * 200) = 104; linear: 10 / 100 * 200 = 20
    assert red[:, 384].sum() == short_bar
    assert round(math.log1p(10) / math.log1p(100) * 200) == 104
    assert not red[:, 250].any()
    assert img[100, 128].tolist()[0] == img[100, 128].tolist()[1] == img[100, 128].tolist()[2]


def test_histogram_refuses_an_unknown_scale():
    with pytest.raises(ValueError, match="scale"):
        scopes.histogram(np.zeros((2, 2, 3), np.float32), scale="sqrt")


# ----------------------------------------------------------------------------- range, input


def test_out_of_range_float_values_are_counted_and_clipped(caplog):
    frame = np.full((10, 10, 3), 0.5, np.float32)
    frame[0, :3, 0] = -0.5
    frame[1, :5, 1] = 1.5
    frame[2, :2, 2] = np.nan
    report = scopes.range_report(frame)
    assert (report.samples, report.below, report.above, report.nan) == (300, 3, 5, 2)
    assert report.outside == 10 and report.fraction == pytest.approx(10 / 300)
    with caplog.at_level(logging.WARNING, logger="restoration.scopes"):
        result = scopes.scopes(frame)
    assert result.out_of_range == report
    assert "10 of 300" in caplog.text
    parade = scopes.parade(frame, 768, 256, graticule=False)
    assert lit(parade)[0, 256:512].any()  # G' 1.5 drawn at the top of the G panel
    assert lit(parade)[255, 0:256].any() and lit(parade)[255, 512:768].any()  # -0.5, NaN at 0


def test_uint16_frames_are_never_out_of_range():
    frame = np.full((3, 3, 3), 65535, np.uint16)
    assert scopes.range_report(frame).outside == 0


def test_alpha_is_ignored():
    rng = np.random.default_rng(1)
    rgba = rng.random((20, 30, 4), dtype=np.float32)
    rgba[..., 3] = 7.0  # would be out of range if it were looked at
    rgb = np.ascontiguousarray(rgba[..., :3])
    assert (scopes.waveform(rgba) == scopes.waveform(rgb)).all()
    assert (scopes.vectorscope(rgba) == scopes.vectorscope(rgb)).all()
    assert scopes.range_report(rgba).outside == 0


@pytest.mark.parametrize("frame, error", [
    (np.zeros((4, 4, 3), np.uint8), TypeError),    # no guessing what 8-bit codes mean here
    (np.zeros((4, 4), np.float32), ValueError),
    (np.zeros((4, 4, 2), np.float32), ValueError),
])
def test_frames_that_are_not_rgb_uint16_or_float_are_refused(frame, error):
    with pytest.raises(error):
        scopes.waveform(frame)


# ----------------------------------------------------------------------------- all four


def test_scope_step_keeps_the_counted_pixels_under_the_limit():
    assert scopes.scope_step(1556, 2048, 1_000_000) == 2
    assert scopes.scope_step(1080, 1920, 1_000_000) == 2
    assert scopes.scope_step(480, 720, 1_000_000) == 1
    for h, w, most in ((4096, 3112, 1_000_000), (101, 99, 50), (7, 1000, 10)):
        k = scopes.scope_step(h, w, most)
        assert math.ceil(h / k) * math.ceil(w / k) <= most
        assert k == 1 or math.ceil(h / (k - 1)) * math.ceil(w / (k - 1)) > most


def test_scopes_computes_all_four_on_every_kth_row_and_column():
    rng = np.random.default_rng(2)
    frame = rng.integers(0, 65536, (40, 60, 3), dtype=np.uint16)
    result = scopes.scopes(frame, max_pixels=600)
    assert result.step == 2 and result.out_of_range.outside == 0
    shapes = {"waveform": (256, 512, 3), "parade": (256, 768, 3),
              "vectorscope": (256, 256, 3), "histogram": (200, 512, 3)}
    assert {k: v.shape for k, v in result.items()} == shapes
    assert all(v.dtype == np.uint8 for v in result.values())
    sub = frame[::2, ::2]
    assert (result["waveform"] == scopes.waveform(sub)).all()
    assert (result["parade"] == scopes.parade(sub)).all()
    assert (result["vectorscope"] == scopes.vectorscope(sub)).all()
    assert (result["histogram"] == scopes.histogram(sub)).all()


def test_write_scopes_writes_four_pngs_in_place(tmp_path):
    frame = np.random.default_rng(3).random((30, 40, 3), dtype=np.float32)
    folder = tmp_path / "grade" / "scopes"
    written = scopes.write_scopes(frame, folder, "shot010_f0001")
    assert set(written) == {"waveform", "parade", "vectorscope", "histogram"}
    expected = scopes.scopes(frame)
    for name, path in written.items():
        assert path == folder / f"shot010_f0001_{name}.png"
        with Image.open(path) as im:
            assert im.format == "PNG" and im.mode == "RGB"
            assert (np.asarray(im) == expected[name]).all()
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written.values())
