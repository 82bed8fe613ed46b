"""Classical repair operations (restoration.repair.ops) on planted defects.

Every expectation comes from the planting, not from the code under test: the clean frame
before a speck or scratch was added, the noise sigma that was added, the gains that were
applied, the picture the fields were woven from. Luma is measured with
``restoration.analysis.luma``; combing with a line-alternation energy written here.
"""
from __future__ import annotations

import numpy as np
import pytest

from restoration.analysis import luma
from restoration.repair.ops import OPS, Op, RecipeError, apply_op, check_step

H, W = 96, 128


def to16(values: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(values, 0, 1) * 65535).astype(np.uint16)


def texture(h: int = H, w: int = W, seed: int = 0, channels: int = 3) -> np.ndarray:
    """A smooth, oblique-structured picture in 0.2..0.8 (float, (h, w, channels))."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.full((h, w), 0.5)
    for _ in range(4):
        fy, fx = rng.uniform(-1, 1, 2) * 2 * np.pi / 70
        out += 0.06 * np.sin(fy * y + fx * x + rng.uniform(0, 6.3))
    tint = np.array([1.0, 0.95, 0.9][:channels])
    return out[:, :, None] * tint


def windowed(frames: list[np.ndarray], i: int, name: str, **params) -> np.ndarray:
    """Run an op on frame i the way the pipeline builds windows."""
    c = OPS[name].context
    lo, hi = max(0, i - c), min(len(frames) - 1, i + c)
    return apply_op(name, frames[lo:hi + 1], i - lo, **params)


def combing_energy(frame: np.ndarray) -> float:
    lum = luma(frame).astype(np.float64)
    inter = lum[1:-1] - 0.5 * (lum[:-2] + lum[2:])
    return float(np.sum(inter ** 2))


# ----------------------------------------------------------------------------- dust


def test_dust_removes_a_speck_and_keeps_a_moving_square():
    rng = np.random.default_rng(1)
    base = texture()
    frames_f, square_at = [], []
    for t in range(3):
        f = base + rng.normal(0, 0.003, base.shape)
        x0 = 20 + 4 * t
        f[60:76, x0:x0 + 16] = 0.95  # a 16 px square moving 4 px a frame
        square_at.append(x0)
        frames_f.append(f)
    clean = to16(frames_f[1])
    dirty_f = frames_f[1].copy()
    dirty_f[20:23, 90:93] = 0.05  # a dark 3x3 speck in the middle frame only
    frames = [to16(frames_f[0]), to16(dirty_f), to16(frames_f[2])]

    out = apply_op("dust", frames, 1)

    assert out.dtype == np.uint16 and out.shape == clean.shape
    speck = (slice(20, 23), slice(90, 93))
    err = np.abs(out[speck].astype(float) - clean[speck]) / 65535
    assert err.max() < 0.02, err.max()
    moving = (slice(56, 80), slice(14, 52))
    assert np.array_equal(out[moving], frames[1][moving])
    # away from the speck (and its grown ring) nothing changed
    far = np.ones(out.shape[:2], bool)
    far[17:26, 87:96] = False
    assert np.array_equal(out[far], frames[1][far])


def test_dust_leaves_the_first_and_last_frame_alone():
    f = to16(texture())
    assert np.array_equal(apply_op("dust", [f, f], 0), f)
    assert np.array_equal(apply_op("dust", [f, f], 1), f)


# ----------------------------------------------------------------------------- scratch


def test_scratch_removes_a_one_pixel_line_and_nothing_else():
    clean_f = texture(seed=2)
    dirty_f = clean_f.copy()
    dirty_f[:, 50] += 0.15  # bright 1-px vertical scratch, full height
    clean, dirty = to16(clean_f), to16(dirty_f)

    out = apply_op("scratch", [dirty], 0)

    interp = (clean[:, 49].astype(float) + clean[:, 51]) / 2 / 65535
    assert np.abs(out[:, 50] / 65535 - interp).max() < 0.01
    assert np.abs(out[:, 48:53].astype(float) - clean[:, 48:53]).max() / 65535 < 0.01
    outside = np.ones(W, bool)
    outside[47:54] = False
    assert np.abs(out[:, outside].astype(int) - dirty[:, outside]).max() == 0


def test_scratch_leaves_a_clean_frame_unchanged():
    f = to16(texture(seed=3))
    assert np.array_equal(apply_op("scratch", [f], 0), f)


# ----------------------------------------------------------------------------- denoise


def test_denoise_reduces_noise_and_grain_keeps_more():
    rng = np.random.default_rng(4)
    sigma = 0.02
    base = texture(seed=4)
    base[10:60, 10:70] = 0.5  # flat patch
    frames = [to16(base + rng.normal(0, sigma, base.shape)) for _ in range(3)]
    patch = (slice(15, 55), slice(15, 65))

    def noise(frame):
        return float(np.std(luma(frame)[patch]))

    before = noise(frames[1])
    strong = apply_op("denoise", frames, 1, strength=1.0, grain=0.0)
    grainy = apply_op("denoise", frames, 1, strength=1.0, grain=1.0)
    assert noise(strong) < 0.7 * before, (noise(strong), before)
    assert noise(grainy) > noise(strong)
    # default strength removes less than full strength
    assert noise(strong) < noise(apply_op("denoise", frames, 1)) < before


def test_denoise_leaves_a_moving_edge():
    base = np.full((H, W, 1), 0.2)
    frames = []
    for t in range(3):
        f = base.copy()
        f[:, 40 + 10 * t:] = 0.8  # an edge moving 10 px a frame
        frames.append(to16(f))
    out = apply_op("denoise", frames, 1, strength=1.0)
    # the edge stays where the target frame has it: no ghost of the neighbours' edges
    assert np.abs(out.astype(int) - frames[1]).max() <= 1


# ----------------------------------------------------------------------------- deflicker


def test_deflicker_flattens_alternating_gain():
    ramp = np.linspace(0.2, 0.8, W)[None, :, None] * np.ones((H, 1, 3))
    frames = [to16(ramp * (1.05 if t % 2 else 0.95)) for t in range(14)]
    before = np.array([luma(f).mean() for f in frames])
    assert (before.max() - before.min()) / before.mean() > 0.09
    out = [windowed(frames, i, "deflicker") for i in range(len(frames))]
    means = np.array([luma(f).mean() for f in out])
    assert (means.max() - means.min()) / means.mean() < 0.01
    # with strength 0 nothing changes
    assert np.array_equal(windowed(frames, 3, "deflicker", strength=0), frames[3])


# ----------------------------------------------------------------------------- deinterlace


def picture(shift: int) -> np.ndarray:
    f = texture(seed=5)
    f[30:70, 40 + shift:70 + shift] = 0.9
    return f


@pytest.mark.parametrize("mode", ["blend", "bob", 0, 1])
def test_deinterlace_removes_combing_and_keeps_progressive(mode):
    woven = picture(0)
    woven[1::2] = picture(6)[1::2]  # bottom field 6 px later
    woven16 = to16(woven)
    progressive = to16(picture(0))

    out = apply_op("deinterlace", [woven16], 0, mode=mode)
    assert combing_energy(out) < 0.2 * combing_energy(woven16)
    assert np.array_equal(apply_op("deinterlace", [progressive], 0, mode=mode), progressive)
    everywhere = apply_op("deinterlace", [woven16], 0, mode=mode, adaptive=0)
    assert combing_energy(everywhere) < 0.2 * combing_energy(woven16)


# ----------------------------------------------------------------------------- recipe


def test_check_step_fills_defaults_and_rejects_bad_steps():
    assert check_step({"op": "dust"}) == {"threshold": 0.06, "grow": 1}
    assert check_step({"op": "deinterlace", "mode": "bob"})["mode"] == 1
    assert check_step({"op": "deflicker", "radius": 7})["radius"] == 7
    with pytest.raises(RecipeError, match="unknown op"):
        check_step({"op": "sharpen"})
    with pytest.raises(RecipeError, match="dust: unknown parameter.*size"):
        check_step({"op": "dust", "size": 3})
    with pytest.raises(RecipeError, match="denoise: strength"):
        check_step({"op": "denoise", "strength": 1.5})
    with pytest.raises(RecipeError, match="whole number"):
        check_step({"op": "scratch", "max_width": 2.5})
    with pytest.raises(RecipeError, match="deinterlace: mode"):
        check_step({"op": "deinterlace", "mode": "weave"})
    with pytest.raises(RecipeError):
        check_step({"op": "dust", "threshold": "high"})
    with pytest.raises(RecipeError):
        apply_op("dust", [to16(texture())], 0, threshold=-1)


def test_every_param_has_unit_range_default():
    for name, op in OPS.items():
        assert isinstance(op, Op) and op.name == name and op.invents_detail is False
        for p in op.params:
            assert p.unit and p.help and p.low <= p.default <= p.high


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_runs_with_defaults(name, channels):
    rng = np.random.default_rng(6)
    frames = [to16(texture(48, 40, channels=channels) + rng.normal(0, 0.01, (48, 40, channels)))
              for _ in range(2 * OPS[name].context + 1)]
    i = OPS[name].context
    out = apply_op(name, frames, i)
    assert out.dtype == np.uint16 and out.shape == frames[i].shape
    edge = apply_op(name, frames[i:], 0)  # at the start of a sequence
    assert edge.dtype == np.uint16 and edge.shape == frames[i].shape


# ----------------------------------------------------------------------------- motion


def panned(t: float, vy: float, vx: float, h: int = H, w: int = W, seed: int = 7
           ) -> np.ndarray:
    """Frame `t` of a camera pan over a textured picture: the picture seen at
    ``(y + vy t, x + vx t)``, evaluated exactly (float, (h, w, 3), about 0.15..0.85)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    y, x = y + vy * t, x + vx * t
    out = np.full((h, w), 0.5)
    for period, amp in ((60, 0.08), (31, 0.06), (17, 0.06), (10, 0.05), (7, 0.04)):
        for _ in range(2):
            a = rng.uniform(0, np.pi)
            f = 2 * np.pi / period
            out += amp / 2 * np.sin(f * (np.cos(a) * y + np.sin(a) * x) + rng.uniform(0, 6.3))
    return out[:, :, None] * np.array([1.0, 0.95, 0.9])


def psnr(out: np.ndarray, clean: np.ndarray) -> float:
    mse = np.mean((out / 65535 - clean) ** 2)
    return float(10 * np.log10(1 / mse))


def test_dust_on_a_pan_removes_a_speck_and_keeps_an_object_moving_on_its_own():
    rng = np.random.default_rng(8)
    vy, vx = 2.0, 2.5  # the camera, both axes (the picture moves up and left)
    clean_f = []
    for t in range(5):
        f = panned(t, vy, vx)
        # a 12 px object moving on its own: 5.5 px a frame against the picture, less than
        # half its size, so each of its pixels is covered by the object in one neighbour
        y0, x0 = 58 - 2 * t, 40 + 3 * t
        f[y0:y0 + 12, x0:x0 + 12] = 0.92
        clean_f.append(f)
    noisy = [c + rng.normal(0, 0.004, c.shape) for c in clean_f]
    dirty = [n.copy() for n in noisy]
    dirty[2][20:23, 90:93] = 0.05  # a dark speck in frame 2 only
    dirty[0][70:72, 20:22] = 0.98  # a bright speck in the first frame only
    frames = [to16(f) for f in dirty]

    out = windowed(frames, 2, "dust")
    speck = (slice(20, 23), slice(90, 93))
    assert np.abs(out[speck] / 65535 - clean_f[2][speck]).max() < 0.03
    obj = (slice(54, 66), slice(46, 58))
    assert np.array_equal(out[obj], frames[2][obj])
    # no change away from the speck: the pan itself is not taken for dirt
    far = np.ones(out.shape[:2], bool)
    far[17:26, 87:96] = False
    assert np.array_equal(out[far], frames[2][far])

    first = windowed(frames, 0, "dust")  # at the start: the next two frames are the neighbours
    bright = (slice(70, 72), slice(20, 22))
    assert np.abs(first[bright] / 65535 - clean_f[0][bright]).max() < 0.03


def test_scratch_on_a_pan_is_removed_and_a_line_of_the_picture_kept():
    vx = 3.0
    clean_f = []
    for t in range(5):
        f = panned(t, 0.0, vx)
        f[:, 60 - 3 * t:62 - 3 * t] = 0.1  # a thin dark line of the picture, moving with it
        clean_f.append(f)
    dirty = [c.copy() for c in clean_f]
    for d in dirty:
        d[:, 100:102] += 0.2  # a scratch on the film: the same columns in every frame
    frames = [to16(f) for f in dirty]

    out = windowed(frames, 2, "scratch")
    assert np.abs(out[:, 99:103] / 65535 - clean_f[2][:, 99:103]).max() < 0.03
    assert np.array_equal(out[:, 50:60], frames[2][:, 50:60])


def test_denoise_on_a_pan_averages_the_moved_neighbours():
    """Averaging the target with four moved neighbours of equal noise divides the noise
    variance by up to 5 (7 dB); left with the spatial step alone (what a denoiser without
    motion compensation does on a pan: the neighbours disagree everywhere) it cannot. We ask
    for half of those 7 dB, leaving room for the weights' roll-off and the sub-pixel
    interpolation."""
    rng = np.random.default_rng(9)
    vy, vx = 1.25, 2.5
    clean = [panned(t, vy, vx) for t in range(5)]
    frames = [to16(c + rng.normal(0, 0.03, c.shape)) for c in clean]

    moved = windowed(frames, 2, "denoise", strength=1.0, grain=0.0)
    still = windowed(frames, 2, "denoise", strength=1.0, grain=0.0, radius=0)
    assert psnr(moved, clean[2]) > psnr(still, clean[2]) + 3.5, (
        psnr(moved, clean[2]), psnr(still, clean[2]), psnr(frames[2], clean[2]))


def test_deflicker_on_a_pan_keeps_the_pictures_own_change():
    """A ramp panning sideways gets darker frame by frame (its own change of mean) under an
    alternating +-10 % flicker: the output follows the clean picture, not a flattened mean."""
    ramp_x = np.linspace(0.15, 0.85, W + 60)
    clean, frames = [], []
    for t in range(14):
        c = ramp_x[None, 60 - 4 * t:60 - 4 * t + W, None] * np.ones((H, 1, 3))
        c = c * (0.9 + 0.1 * panned(t, 0.0, -4.0))  # with texture, moving with the ramp
        clean.append(c)
        frames.append(to16(c * (1.1 if t % 2 else 0.9)))
    out = [windowed(frames, i, "deflicker", radius=4) for i in range(len(frames))]
    ratio = np.array([luma(o).mean() / luma(to16(c)).mean() for o, c in zip(out, clean,
                                                                           strict=True)])
    assert np.abs(ratio - 1.0).max() < 0.01, ratio
