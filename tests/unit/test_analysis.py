"""Per-frame analysis and the defect report, on generated sequences with planted defects.

The base sequence: 16 frames of 96 x 64, a smooth gradient (luma 0.25 .. 0.75), a 12 px square
of luma 0.85 moving 2 px a frame to the right, mild Gaussian noise (sigma 0.005, the same in R,
G and B so the luma noise is 0.005 too). Each test plants one defect and works out what the
analysis must find from how it was planted.
"""
from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import pytest

from fixtures.external import external
from restoration import analysis
from restoration.analysis import (
    METRICS,
    AnalysisResult,
    analyze_frames,
    analyze_sequence,
    defect_report,
    frame_metrics,
    load_metrics,
    luma,
    save_metrics,
)

H, W, N = 64, 96, 16
DPX_WAV_PAIR = external("sequence", "dpx_wav_pair")


def gradient() -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    return 0.25 + 0.3 * x / W + 0.2 * y / H  # 0.25 .. 0.75


def pictures(noise: float = 0.005, seed: int = 0, n: int = N) -> list[np.ndarray]:
    """The base sequence as float64 luma pictures."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        f = gradient()
        x0 = 10 + 2 * i
        f[30:42, x0:x0 + 12] = 0.85
        out.append(f + rng.normal(0.0, noise, f.shape))
    return out


def rgb(picture: np.ndarray) -> np.ndarray:
    """A luma picture as (H, W, 3) uint16 full range, the same value in R, G and B."""
    codes = np.rint(np.clip(picture, 0.0, 1.0) * 65535).astype(np.uint16)
    return np.repeat(codes[:, :, None], 3, axis=2)


def analyse(frames: list[np.ndarray]) -> AnalysisResult:
    return analyze_frames((i, rgb(f)) for i, f in enumerate(frames))


# --- luma ----------------------------------------------------------------------------------


def test_luma_weights_rgb_with_rec709_takes_grey_as_it_is_and_ignores_alpha():
    px = np.array([[[65535, 0, 0, 0], [0, 65535, 0, 65535], [0, 0, 65535, 12345]]], np.uint16)
    out = luma(px)
    assert out.dtype == np.float32 and out.shape == (1, 3)
    np.testing.assert_allclose(out[0], [0.2126, 0.7152, 0.0722], atol=1e-6)
    grey = np.array([[[0], [32768], [65535]]], np.uint16)
    np.testing.assert_allclose(luma(grey)[0], [0.0, 32768 / 65535, 1.0], atol=1e-6)
    grey_alpha = np.array([[[65535, 0]]], np.uint16)  # Y then A
    assert luma(grey_alpha)[0, 0] == pytest.approx(1.0)
    floats = np.array([[[2.0, 2.0, 2.0], [np.nan, 0.5, 0.5]]], np.float32)  # scene values
    np.testing.assert_allclose(luma(floats)[0], [2.0, 0.5 * (0.7152 + 0.0722)], atol=1e-6)


# --- per-frame metrics ---------------------------------------------------------------------


def test_every_metric_is_reported_and_a_lone_frame_has_no_neighbour_metrics():
    m = frame_metrics(None, rgb(pictures()[0]), None)
    assert list(m) == list(METRICS)
    assert m["flicker"] == 0.0 and m["dust"] == 0.0 and m["cut"] == 0.0
    assert m["difference"] == 1.0 and m["duplicate"] == 0.0
    # gradient 0.25..0.75 plus a bright square: the mean lies between, min/max near the ends
    assert 0.45 < m["mean_luma"] < 0.55
    assert 0.24 < m["min_luma"] < 0.28 and 0.8 < m["max_luma"] < 0.86


def test_min_and_max_are_percentiles_so_a_dead_pixel_does_not_decide():
    f = gradient()
    f[10, 10] = 0.0
    f[20, 20] = 1.0
    m = frame_metrics(None, rgb(f), None, scale=1)
    assert m["min_luma"] > 0.24 and m["max_luma"] < 0.76


def test_a_speck_in_one_frame_is_dust_and_a_moving_square_is_not():
    frames = pictures()
    frames[6][20:23, 60:63] = 0.05  # a 3 x 3 dark dot in frame 6 only
    dust = analyse(frames).column("dust")
    assert dust[6] == 1
    assert dust[5] == 0 and dust[7] == 0
    assert np.count_nonzero(dust) == 1  # the square moves 2 px a frame: never dust


def test_a_bright_speck_is_dust_even_in_a_flickering_sequence():
    frames = [f + (0.05 if i % 2 else 0.0) for i, f in enumerate(pictures())]
    frames[9][40:43, 70:73] += 0.4  # bright dot in a frame that is itself brighter
    dust = analyse(frames).column("dust")
    assert dust[9] == 1 and np.count_nonzero(dust) == 1


def test_flicker_measures_the_planted_brightness_change():
    frames = [f + (0.05 if i % 2 else 0.0) for i, f in enumerate(pictures())]
    flicker = analyse(frames).column("flicker")
    # odd frames are 0.05 above both neighbours, even frames 0.05 below (ends: one neighbour)
    expected = np.where(np.arange(N) % 2 == 1, 0.05, -0.05)
    np.testing.assert_allclose(flicker, expected, atol=0.003)
    steady = analyse(pictures()).column("flicker")
    assert np.abs(steady).max() < 0.002


def test_a_vertical_scratch_scores_high_where_it_is():
    frames = pictures()
    for i in range(5, 10):
        frames[i][:, 40] += 0.15  # one bright column, full height, frames 5-9
    scratch = analyse(frames).column("scratch")
    # the square passes column 40 in frames 8-9 and hides the line over 12 of 64 rows there
    assert (scratch[5:10] >= 1 - 12 / 64 - 0.01).all()
    assert (np.delete(scratch, range(5, 10)) < 0.1).all()


def test_a_hard_cut_is_flagged_on_its_first_frame_only():
    frames = pictures()
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:H, 0:W]
    other = 0.05 + 0.3 * y / H + 0.05 * np.cos(x / 7)  # a darker, different picture
    for i in range(8, N):
        frames[i] = other + rng.normal(0.0, 0.005, other.shape)
    result = analyse(frames)
    cut = result.column("cut")
    assert cut[8] > 0.9
    assert (np.delete(cut, 8) < 0.2).all()
    report = defect_report(result)
    assert report["cuts"] == [8]
    assert report["flicker"]["frames"] == []  # frames 7 and 8 straddle the cut


def test_black_and_duplicate_frames_are_flagged():
    frames = pictures()
    frames[4] = np.random.default_rng(3).normal(0.01, 0.003, (H, W))  # black, a little noise
    frames[11] = frames[10].copy()
    result = analyse(frames)
    assert np.nonzero(result.column("black"))[0].tolist() == [4]
    assert np.nonzero(result.column("duplicate"))[0].tolist() == [11]
    assert result.column("difference")[11] == 0.0
    report = defect_report(result)
    assert report["black"] == [4] and report["duplicates"] == [11]


def test_consecutive_black_frames_are_black_not_duplicates():
    frames = pictures()
    frames[4] = np.zeros((H, W))
    frames[5] = np.zeros((H, W))
    report = defect_report(analyse(frames))
    assert report["black"] == [4, 5] and report["duplicates"] == []


def bars(shift: float) -> np.ndarray:
    """Vertical bars 8 px wide, moved `shift` px to the right, over a gentle vertical ramp."""
    y, x = np.mgrid[0:H, 0:W]
    return 0.3 + 0.3 * (((x - shift) // 8) % 2) + 0.1 * y / H


@pytest.mark.parametrize("noise", [0.0, 0.005, 0.01])
def test_woven_fields_of_a_moving_picture_comb_and_a_progressive_frame_does_not(noise):
    rng = np.random.default_rng(7)
    progressive = bars(0) + rng.normal(0.0, noise, (H, W))
    woven = bars(0)
    woven[1::2] = bars(3)[1::2]  # the second field 3 px further on
    woven += rng.normal(0.0, noise, (H, W))
    combed = frame_metrics(None, rgb(woven), None)["combing"]
    clean = frame_metrics(None, rgb(progressive), None)["combing"]
    threshold = analysis.DEFAULT_THRESHOLDS["combing"]
    assert combed > 2 * threshold
    assert clean < 0.6  # at most about 0.5, for sharp horizontal edges


def test_the_square_sequence_is_progressive():
    assert (analyse(pictures()).column("combing") < analysis.DEFAULT_THRESHOLDS["combing"]).all()


@pytest.mark.parametrize("sigma", [0.01, 0.03])
def test_noise_estimate_is_within_a_quarter_of_the_planted_sigma(sigma):
    noise = analyse(pictures(noise=sigma, n=4)).column("noise")
    assert (np.abs(noise - sigma) <= 0.25 * sigma).all(), noise


def test_noise_of_a_grey_frame_is_measured_at_full_resolution():
    rng = np.random.default_rng(2)
    f = gradient() + rng.normal(0.0, 0.02, (H, W))
    grey = np.rint(np.clip(f, 0, 1) * 65535).astype(np.uint16)[:, :, None]
    for scale in (1, 4, 8):  # the downscale does not touch the noise estimate
        assert frame_metrics(None, grey, None, scale=scale)["noise"] == pytest.approx(0.02,
                                                                                       rel=0.25)


def test_float_frames_are_analysed_as_stored():
    frames = [np.repeat(f.astype(np.float32)[:, :, None], 3, axis=2) for f in pictures(n=3)]
    result = analyze_frames(enumerate(frames))
    direct = analyse(pictures(n=3))
    np.testing.assert_allclose(result.column("mean_luma"), direct.column("mean_luma"),
                               atol=1e-4)


# --- results, storage ----------------------------------------------------------------------


def test_result_columns_and_rows():
    result = analyse(pictures(n=3))
    assert result.frames.dtype == np.int64 and result.metrics.dtype == np.float32
    assert result.metrics.shape == (3, len(METRICS)) and len(result) == 3
    rows = result.to_rows()
    assert [r["frame"] for r in rows] == [0, 1, 2]
    assert list(rows[1]) == ["frame", *METRICS]
    assert rows[1]["noise"] == float(result.column("noise")[1])
    with pytest.raises(KeyError):
        result.column("nope")
    with pytest.raises(ValueError):
        AnalysisResult(np.arange(3), np.zeros((2, len(METRICS))))


def test_save_and_load_round_trip_exactly_and_compactly(tmp_path):
    rng = np.random.default_rng(0)
    n = 1000
    metrics = rng.random((n, len(METRICS))).astype(np.float32)
    for name in ("dust", "black", "duplicate"):  # counts and flags, as the analysis stores them
        metrics[:, METRICS.index(name)] = rng.integers(0, 2, n)
    result = AnalysisResult(np.arange(86400, 86400 + n), metrics)
    path = tmp_path / "reel.analysis.npz"
    save_metrics(result, path)
    back = load_metrics(path)
    assert np.array_equal(back.frames, result.frames) and back.frames.dtype == np.int64
    assert np.array_equal(back.metrics, result.metrics) and back.metrics.dtype == np.float32
    assert [p.name for p in tmp_path.iterdir()] == ["reel.analysis.npz"]  # no temporary left
    # raw: 8 bytes of frame number + 13 x 4 bytes of metrics = 60 bytes a frame
    assert path.stat().st_size / n < 60


def test_load_matches_columns_by_name(tmp_path):
    path = tmp_path / "old.npz"
    np.savez_compressed(path, frames=np.array([1, 2]), metrics=np.array([[0.5], [0.25]],
                        np.float32), names=np.array(["mean_luma"]))
    back = load_metrics(path)
    assert back.column("mean_luma").tolist() == [0.5, 0.25]
    assert np.isnan(back.column("noise")).all()
    bad = tmp_path / "bad.npz"
    np.savez_compressed(bad, frames=np.array([1]))
    with pytest.raises(ValueError, match="not a metrics file"):
        load_metrics(bad)


# --- sequences -----------------------------------------------------------------------------


def test_analyze_sequence_holds_few_frames_and_reports_progress(tmp_path):
    frames = pictures()
    alive: list[weakref.ref] = []
    most = 0

    def read(path: Path) -> np.ndarray:
        nonlocal most
        most = max(most, sum(r() is not None for r in alive) + 1)
        pixels = rgb(frames[int(path.stem)])
        alive.append(weakref.ref(pixels))
        return pixels

    progress: list[tuple[int, int]] = []
    paths = [(100 + i, tmp_path / f"{i}.dpx") for i in range(N)]
    result = analyze_sequence(paths, read=read, on_progress=lambda d, t: progress.append((d, t)))
    assert result.frames.tolist() == list(range(100, 100 + N))
    assert most <= 3
    assert progress[-1] == (N, N) and [d for d, _ in progress] == list(range(1, N + 1))
    assert np.array_equal(result.metrics, analyse(frames).metrics)


def test_analyze_sequence_on_a_real_dpx_sequence():
    paths = sorted(DPX_WAV_PAIR.glob("*.dpx"))
    result = analyze_sequence([(int(p.stem.rsplit("_", 1)[1]), p) for p in paths])
    assert len(result) == 13 and result.frames.tolist() == list(range(1, 14))
    col = result.column
    assert np.isfinite(result.metrics).all()
    for name in ("mean_luma", "min_luma", "max_luma", "scratch", "cut", "difference", "black",
                 "duplicate"):
        assert ((col(name) >= 0) & (col(name) <= 1)).all(), name
    assert (col("min_luma") <= col("mean_luma")).all()
    assert (col("mean_luma") <= col("max_luma")).all()
    for name in ("noise", "sharpness", "dust", "combing"):
        assert (col(name) >= 0).all(), name
    assert (np.abs(col("flicker")) <= 1).all()
    report = defect_report(result)
    assert report["frames"] == 13 and report["black"] == [] and report["cuts"] == []


def test_an_empty_sequence_gives_an_empty_result():
    result = analyze_frames([])
    assert len(result) == 0 and result.metrics.shape == (0, len(METRICS))
    assert defect_report(result)["frames"] == 0


# --- report --------------------------------------------------------------------------------


def test_defect_report_lists_every_planted_defect():
    frames = pictures(n=24)
    frames[3] = np.zeros((H, W))  # black
    frames[13] = frames[12].copy()  # duplicate
    frames[6][20:23, 60:63] = 0.05  # dust
    for i in range(15, 18):
        frames[i][:, 80] -= 0.2  # dark scratch
    frames[10] = frames[10] + 0.03  # one brighter frame: +0.03 there, -0.015 beside it
    report = defect_report(analyse(frames))
    assert report["frames"] == 24
    assert report["black"] == [3]
    assert report["duplicates"] == [13]
    assert report["cuts"] == [3, 4]  # into and out of the black frame
    assert report["dust_frames"] == [6]
    assert report["scratch_frames"] == [15, 16, 17]
    assert report["flicker"]["frames"] == [10]
    assert report["flicker"]["max"] == pytest.approx(0.03, abs=0.003)
    assert report["combing_frames"] == []
    summary = " ".join(report["summary"])
    assert "1 black frame: frame 3." in summary
    assert "3 frames with vertical scratches: frames 15-17." in summary
    assert "No frames with interlace combing." in summary


def test_defect_report_thresholds_can_be_changed():
    frames = pictures()
    frames[10] = frames[10] + 0.03  # +0.03 there, -0.015 in frames 9 and 11
    result = analyse(frames)
    assert defect_report(result)["flicker"]["frames"] == [10]
    assert defect_report(result, thresholds={"flicker": 0.01})["flicker"]["frames"] == [9, 10, 11]
    assert defect_report(result, thresholds={"flicker": 0.04})["flicker"]["frames"] == []
    # a night scene: dark (0.025..0.075) with a highlight (a 12 px square of 0.85), mean
    # 0.05 + 144 / 6144 x 0.8 = 0.069, under black_luma, but a spread of about 0.8
    frames[7] = gradient() * 0.1
    frames[7][10:22, 10:22] = 0.85
    result = analyse(frames)
    assert defect_report(result)["black"] == []
    assert defect_report(result, thresholds={"black_spread": 1.0})["black"] == [7]
    with pytest.raises(KeyError):
        defect_report(result, thresholds={"blak_luma": 0.1})
