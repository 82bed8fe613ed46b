"""Tiled, blended, batched super-resolution inference (restoration.repair.tiling).

Expectations are worked out here, not taken from our own output:

* a network whose weights are all zero is exactly nearest-neighbour upscaling (SRVGGNetCompact
  adds the nearest-upscaled input to its residual), so its output must be ``np.repeat`` of the
  input, bit for bit, however the frame is tiled or batched;
* "untiled" is the network run directly on the whole frame (torch in this file, not the
  tiling code): windows are shifted inwards at the frame's border, so the network pads the
  border itself, as on a whole frame and as upstream Real-ESRGAN runs it;
* the seam test uses a network whose receptive field is measured here by an impulse.
"""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from torch import nn

from restoration.io import from_float, to_float
from restoration.repair.networks import RRDBNet, SRVGGNetCompact
from restoration.repair.tiling import (
    MIN_TILE,
    calibrate_tile,
    choose_tile,
    estimate_bytes_per_pixel,
    plan_windows,
    precision_deviation,
    upscale_frames,
    upscale_frames_with_report,
    upscale_rgb,
)

log = logging.getLogger(__name__)


def nearest_net(scale: int) -> SRVGGNetCompact:
    net = SRVGGNetCompact(num_feat=4, num_conv=1, upscale=scale).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    return net


def repeat(frames: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(frames, scale, axis=1), scale, axis=2)


def deep_net(seed: int = 0) -> SRVGGNetCompact:
    """Ten 3x3 convolutions (body.0, 8 body convs, the last): receptive field 21 x 21 input
    pixels, radius 10; x2. Kaiming-normal weights keep the signal's size through the ten
    layers (PyTorch's default initialisation shrinks it at every layer, so a random stack would
    barely see pixels 10 away and a seam test would have no teeth). The last layer is scaled
    so the residual has a spread of 0.1 on a random picture."""
    torch.manual_seed(seed)
    net = SRVGGNetCompact(num_feat=8, num_conv=8, upscale=2).eval()
    with torch.no_grad():
        for m in net.body:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.25)
                m.bias.zero_()
        x = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(seed))
        residual = net(x) - nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        net.body[-1].weight.mul_(0.1 / float(residual.std()))
    return net


def direct(net: nn.Module, rgb: np.ndarray) -> np.ndarray:
    """The network on whole frames, clamped: the untiled reference, computed without the
    tiling code."""
    with torch.inference_mode():
        out = net(torch.from_numpy(rgb).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    return np.clip(out, 0, 1)


# --- exact behaviour with a network that is nearest-neighbour upscaling --------------------------

@pytest.mark.parametrize(("tile", "overlap", "batch"),
                         [(None, 0, 1), (None, 6, 3), (16, 4, 1), (16, 4, 5), (13, 0, 2),
                          (8, 8, 7)])
def test_uint16_frames_come_back_exact_through_any_tiling(tile, overlap, batch):
    frames = np.random.default_rng(0).integers(0, 65536, (3, 37, 53, 3), dtype=np.uint16)
    report = upscale_frames_with_report(nearest_net(2), frames, 2, tile=tile, overlap=overlap,
                                        batch=batch)
    assert report.pixels.dtype == np.uint16
    np.testing.assert_array_equal(report.pixels, repeat(frames, 2))
    assert report.tile == tile and report.batch == batch


def test_grey_frames_keep_their_shape_and_values():
    grey = np.random.default_rng(1).integers(0, 65536, (2, 9, 11), dtype=np.uint16)
    np.testing.assert_array_equal(upscale_frames(nearest_net(3), grey, 3, tile=4, overlap=2),
                                  repeat(grey, 3))
    one = grey[..., None]
    np.testing.assert_array_equal(upscale_frames(nearest_net(3), one, 3), repeat(one, 3))


def test_rgba_alpha_is_upscaled_bicubically_beside_the_picture():
    rng = np.random.default_rng(2)
    h, w, s = 10, 24, 4
    rgba = np.empty((1, h, w, 4), np.uint16)
    rgba[..., :3] = rng.integers(0, 65536, (1, h, w, 3))
    rgba[..., 3] = np.arange(w, dtype=np.uint16) * 2000 + 1000  # a left-to-right ramp
    out = upscale_frames(nearest_net(s), rgba, s, tile=8, overlap=2)
    np.testing.assert_array_equal(out[..., :3], repeat(rgba[..., :3], s))
    # Keys' cubic convolution with a = -0.75 (PyTorch's bicubic), written out here: output
    # column X samples input position (X + 0.5) / s - 0.5 from its 4 neighbours, the border
    # repeated; the ramp is constant down the columns, so rows need no interpolation.
    a = -0.75

    def keys(x: np.ndarray) -> np.ndarray:
        x = np.abs(x)
        return np.where(x <= 1, (a + 2) * x**3 - (a + 3) * x**2 + 1,
                        np.where(x < 2, a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a, 0.0))

    ramp = rgba[0, 0, :, 3].astype(float)
    src = (np.arange(w * s) + 0.5) / s - 0.5
    base = np.floor(src).astype(int)
    want = sum(keys(src - (base + k)) * ramp[np.clip(base + k, 0, w - 1)] for k in (-1, 0, 1, 2))
    assert np.abs(out[0, :, :, 3].astype(float) - want[None, :]).max() <= 1
    flat = np.full((1, 5, 6, 4), 40000, np.uint16)
    assert (upscale_frames(nearest_net(2), flat, 2)[..., 3] == 40000).all()


def test_other_dtypes_and_shapes_are_refused():
    with pytest.raises(TypeError, match="uint16"):
        upscale_frames(nearest_net(2), np.zeros((1, 4, 4, 3), np.uint8), 2)
    with pytest.raises(ValueError, match="C in 1, 3, 4"):
        upscale_frames(nearest_net(2), np.zeros((1, 4, 4, 2), np.uint16), 2)
    with pytest.raises(ValueError, match="scale 4"):
        upscale_frames(nearest_net(2), np.zeros((1, 4, 4, 3), np.uint16), 4)


def test_fp16_is_refused_on_the_cpu():
    with pytest.raises(ValueError, match="fp16"):
        upscale_frames(nearest_net(2), np.zeros((1, 4, 4, 3), np.uint16), 2, device="cpu",
                       precision="fp16")


# --- windows ---------------------------------------------------------------------------------------

def test_windows_cover_the_frame_with_equal_cores():
    windows = plan_windows(100, 64, 32)
    assert {(w.height, w.width) for w in windows} == {(32, 32)}
    assert sorted({w.y0 for w in windows}) == [0, 22, 45, 68]  # evenly spaced, last at 100-32
    assert sorted({w.x0 for w in windows}) == [0, 32]
    assert plan_windows(100, 64, None) == plan_windows(100, 64, 500)
    assert len(plan_windows(100, 64, None)) == 1
    x2 = plan_windows(37, 21, 8, multiple=2)  # a pixel-unshuffle network: even starts
    assert all(w.y0 % 2 == 0 and w.x0 % 2 == 0 for w in x2)
    assert max(w.y0 + w.height for w in x2) == 38 and max(w.x0 + w.width for w in x2) == 22


# --- seams: a receptive field larger than the overlap -------------------------------------------

def test_the_seam_network_has_a_receptive_field_of_21_pixels():
    net = deep_net()
    x = torch.full((1, 3, 41, 41), 0.5)
    hit = x.clone()
    hit[0, :, 20, 20] = 1.0
    with torch.inference_mode():
        changed = (net(hit) - net(x)).abs().amax(dim=(0, 1)) > 0
    rows = torch.nonzero(changed.any(dim=1)).flatten()
    # output rows 2*10 .. 2*31-1 depend on input row 20: input rows 10 .. 30, 21 pixels
    assert (int(rows.min()) // 2, int(rows.max()) // 2) == (10, 30)


def seam_errors(feather: int) -> tuple[np.ndarray, np.ndarray]:
    """|tiled - untiled| (mean over RGB) for 96 x 96 frames cut into 32 px cores (seams at
    input 32 and 64) with overlap 8, less than the receptive radius of 10."""
    net = deep_net()
    rgb = np.random.default_rng(3).random((1, 96, 96, 3), dtype=np.float32)
    tiled = upscale_rgb(net, rgb, 2, tile=32, overlap=8, feather=feather, batch=4).pixels
    untiled = direct(net, rgb)
    signed = (tiled - untiled)[0]
    return np.abs(signed).mean(axis=2), signed


def test_feathered_seams_stay_invisible_with_a_receptive_field_larger_than_the_overlap():
    error, signed = seam_errors(feather=4)
    hard_error, hard_signed = seam_errors(feather=0)
    s, f = 2, 4
    centre = (np.arange(96 * s) + 0.5) / s  # input position of each output row/column
    near = (np.abs(centre - 32) < f) | (np.abs(centre - 64) < f)
    band = near[:, None] | near[None, :]  # the cross-fade bands around the seams
    on_seam = np.isin(np.arange(96 * s), [63, 64, 127, 128])
    seam_lines = on_seam[:, None] | on_seam[None, :]  # where a hard cut switches tiles
    log.info("seam errors: max %.2e (hard cut %.2e), band mean %.2e, seam lines %.2e "
             "(hard cut %.2e), outside %.2e", error.max(), hard_error.max(),
             error[band].mean(), error[seam_lines].mean(), hard_error[seam_lines].mean(),
             error[~band].max())

    # Tolerance: one 8-bit step (1/255). A tiling difference below it cannot show on an
    # 8-bit viewing proxy or display, which is where a seam would be seen; the hard cut on the
    # same network exceeds it (measured 1.7e-2 against 1.6e-3 feathered).
    assert error.max() < 1 / 255
    assert hard_error.max() > 1 / 255
    assert hard_error.max() > 4 * error.max()
    # the difference is confined to the bands: elsewhere every pixel is 12 >= 10 pixels inside
    # its window, so only float rounding remains
    assert error[~band].max() < 1e-5
    # no line along the seam: on the rows and columns where the tiles meet, the error is no
    # worse than twice the band's mean (a hard cut piles it onto exactly those lines)
    assert error[seam_lines].mean() <= 2 * error[band].mean()
    assert hard_error[seam_lines].mean() > 2 * hard_error[band].mean()
    # no step across the seam: the error's jump between the two rows/columns that meet
    steps = [np.abs(signed[64] - signed[63]).mean(), np.abs(signed[:, 64] - signed[:, 63]).mean()]
    hard = [np.abs(hard_signed[64] - hard_signed[63]).mean(),
            np.abs(hard_signed[:, 64] - hard_signed[:, 63]).mean()]
    assert max(steps) < 0.1 * min(hard)


@pytest.mark.parametrize(("tile", "feather"), [(16, 0), (24, 4), (32, 2), (40, 6), (None, 4)])
def test_tiled_equals_untiled_once_the_overlap_covers_the_receptive_radius(tile, feather):
    net = deep_net(seed=1)
    rgb = np.random.default_rng(4).random((2, 70, 90, 3), dtype=np.float32)
    tiled = upscale_rgb(net, rgb, 2, tile=tile, overlap=10, feather=feather, batch=3).pixels
    np.testing.assert_allclose(tiled, direct(net, rgb), rtol=0, atol=1e-5)


def test_pixel_unshuffle_network_tiles_exactly_on_odd_frames():
    torch.manual_seed(5)
    net = RRDBNet(scale=2, num_feat=4, num_block=1, num_grow_ch=4).eval()
    # radius: 17 convolutions at half resolution (34 px) + conv_up1 (1 px) + three at double
    # resolution (1.5 px, rounded up): 37 <= overlap 38 (rounded up to even)
    rgb = np.random.default_rng(5).random((1, 45, 31, 3), dtype=np.float32)
    report = upscale_rgb(net, rgb, 2, tile=15, overlap=37, feather=3)
    assert (report.tile, report.overlap, report.feather) == (16, 38, 4)
    assert report.windows_per_frame == 6
    whole = upscale_rgb(net, rgb, 2, tile=None, overlap=37, feather=3).pixels
    assert report.pixels.shape == (1, 90, 62, 3)
    np.testing.assert_allclose(report.pixels, whole, rtol=0, atol=1e-5)


def test_batching_does_not_change_the_result():
    net = deep_net(seed=2)
    frames = np.random.default_rng(6).integers(0, 65536, (3, 40, 40, 3), dtype=np.uint16)
    one = upscale_frames(net, frames, 2, tile=16, overlap=4, batch=1)
    many = upscale_frames(net, frames, 2, tile=16, overlap=4, batch=8)
    assert np.abs(one.astype(int) - many.astype(int)).max() <= 1



def test_uint16_output_is_the_float_output_rounded_bands_included():
    """Windows write their results straight into the uint16 output and only the cross-fade
    bands are accumulated: the bytes must still be ``from_float`` of the blended float output,
    with cores that overlap each other (53 px cut into 16 px cores) and a NaN from the net."""
    net = deep_net(seed=3)
    with torch.no_grad():
        net.body[-1].bias.fill_(0.5)
    frames = np.random.default_rng(9).integers(0, 65536, (2, 37, 53, 3), dtype=np.uint16)
    kwargs = {"tile": 16, "overlap": 4, "feather": 3, "batch": 3}
    codes = upscale_frames(net, frames, 2, **kwargs)
    floats = upscale_rgb(net, to_float(frames), 2, **kwargs).pixels
    np.testing.assert_array_equal(codes, from_float(floats))
    assert 0 < (codes == 0).sum() + (codes == 65535).sum() < codes.size  # clamping was tested

    class Holey(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
            y[:, :, 0, 0] = float("nan")  # every window's top-left output pixel
            return y

    holey = upscale_frames(Holey(), frames, 2, **kwargs)
    expected = repeat(frames, 2)
    expected[:, 0, 0] = 0  # only the first window covers the frame's corner: NaN becomes 0
    np.testing.assert_array_equal(holey, expected)  # other windows' NaNs are not kept

# --- precision -------------------------------------------------------------------------------------

def test_bf16_fast_mode_runs_on_the_cpu_and_its_deviation_is_measured():
    torch.manual_seed(7)
    net = RRDBNet(scale=4, num_feat=8, num_block=2, num_grow_ch=4).eval()
    with torch.no_grad():
        net.conv_last.bias.fill_(0.5)
    frames = np.random.default_rng(7).integers(6554, 58982, (2, 16, 16, 3), dtype=np.uint16)
    deviation = precision_deviation(net, frames, 4, precision="bf16", tile=8, overlap=4,
                                    device="cpu")
    log.info("bf16 against fp32: max %d, mean %.1f, rms %.1f code values",
             deviation.max_abs, deviation.mean_abs, deviation.rms)
    # bf16 keeps 8 significant bits: differences exist, and stay within ~1 % of full range
    assert 0 < deviation.max_abs < 0.01 * 65535
    assert deviation.mean_abs < 0.002 * 65535


# --- tile choice -----------------------------------------------------------------------------------

def test_tile_choice_is_deterministic_for_a_budget():
    kwargs = {"budget_bytes": 2 * 1024**3, "bytes_per_pixel": 12_800.0, "overlap": 16,
              "feather": 8}
    first = choose_tile(2160, 4096, 4, "cpu", **kwargs)
    assert first == choose_tile(2160, 4096, 4, "cpu", **kwargs)
    # 2 GiB / 12,800 B = 167,772 px: a 409 px window, less 48 px of context: 361 -> 352
    assert first == 352
    assert choose_tile(2160, 4096, 4, "cpu", **{**kwargs, "batch": 4}) == 144
    assert choose_tile(200, 300, 4, "cpu", **kwargs) == 300  # whole frame fits
    assert choose_tile(2160, 4096, 4, "cpu", budget_bytes=1000, bytes_per_pixel=12_800.0) \
        == MIN_TILE


def test_tile_choice_uses_the_network_and_available_memory():
    srvgg, rrdb = SRVGGNetCompact(num_feat=64, num_conv=2), RRDBNet(num_block=1)
    assert estimate_bytes_per_pixel(srvgg, 4) < estimate_bytes_per_pixel(rrdb, 4)
    assert estimate_bytes_per_pixel(rrdb, 4, "bf16") == estimate_bytes_per_pixel(rrdb, 4) / 2
    tile = calibrate_tile(rrdb, 2160, 4096, 4, device="cpu", budget_bytes=2 * 1024**3)
    assert tile % 16 == 0 and MIN_TILE <= tile < 2160
    assert choose_tile(64, 64, 4, "cpu") == 64  # from MemAvailable: a tiny frame always fits


def test_out_of_memory_halves_the_tile_and_reports_it():
    class Fussy(nn.Module):
        """Nearest x2 that raises torch's out-of-memory error on windows above 40 x 40, as a
        CUDA device with too little free memory does (the retry does not depend on the device,
        so this runs on the CPU too)."""

        scale = 2

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.shape[2] * x.shape[3] > 40 * 40:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory (test)")
            return nn.functional.interpolate(x, scale_factor=2, mode="nearest")

    frames = np.random.default_rng(8).integers(0, 65536, (1, 64, 64, 3), dtype=np.uint16)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    report = upscale_frames_with_report(Fussy(), frames, 2, tile=64, overlap=2, feather=0,
                                        device=device)
    assert report.tile == 32 and report.oom_retries == 1
    np.testing.assert_array_equal(report.pixels, repeat(frames, 2))
