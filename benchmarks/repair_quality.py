"""Repair quality: our default recipe against a grid of Debian ffmpeg filter chains.

    python benchmarks/repair_quality.py --json [--frames 14] [--jobs 2] [--keep DIR]

Real photographs (the images bundled with scikit-image) are made into short camera pans: each
picture is upscaled 4x (bicubic), a window moves over it a whole number of upscaled pixels a
frame (so 0.25 px steps: sub-pixel and integer pans, both axes) and is brought back to the
frame size by 4 x 4 area averaging, the way a sensor integrates. The clean pans are damaged
like film, at least this badly, with a fixed seed:

* 15-40 specks a frame, each 1-6 px across, dark (0-0.15) or bright (0.85-1), each in one
  frame only;
* a vertical scratch 2-4 px wide, lasting 5-8 frames, brighter or darker by 0.15-0.3, with a
  slow sideways drift;
* a gain per frame of 1 +- (10-15 %) (flicker), every frame off by 10-15 %;
* Gaussian grain, independent per pixel and channel, of 1.5-3 % of full scale.

The damaged frames are restored (a) by :data:`restoration.repair.ops.DEFAULT_RECIPE` through
:func:`restoration.repair.pipeline.repair_sequence` on a folder of 16-bit TIFFs, and (b) by
every chain of :data:`CHAINS` run by ``/usr/bin/ffmpeg`` on the same frames as 16-bit PNGs
(image2 input, processed in ``yuv444p16le``, read back as rgb48; chains with ``tmedian`` get the
ends padded by repeating the first and last frame ``radius`` times: tmedian drops ``radius``
frames at each end, so what comes out is the original frames, centred). ffmpeg 5.1's
``nlmeans`` works on 8-bit only (ffmpeg converts to yuv444p and back). The
ffmpeg chain with the best mean PSNR on a sequence is the peer for that sequence.

Figures, all against the clean frames, mean over the frames of a sequence:
``psnr`` in dB on RGB (data range 1.0); ``ssim`` on RGB (scikit-image, data range 1.0,
channel axis last); ``flicker``, the standard deviation over frames of the error of the mean
Rec. 709 luma (luma units, full scale = 1). Target: our PSNR at least 2 dB above the best
ffmpeg chain on average, and less flicker on every sequence.

Needs scikit-image for the pictures and SSIM (``pip install scikit-image``); it is not a
dependency of Reelkeeper itself.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FFMPEG = "/usr/bin/ffmpeg"
SEED = 1895
UP = 4  # upscale factor of the source pictures: motion comes in 1/UP px steps
SIZE = (272, 368)  # frame height, width
REC709 = np.array([0.2126, 0.7152, 0.0722])
TARGET_DB = 2.0

#: (scikit-image picture, pan in px per frame (down, right)); 1/4 px steps
SEQUENCES = [
    ("astronaut", (1.75, -2.5)),
    ("camera", (0.0, 3.0)),
    ("coffee", (-1.25, 2.25)),
    ("chelsea", (1.0, -2.0)),
    ("rocket", (0.5, 2.75)),
    ("immunohistochemistry", (-2.5, -0.75)),
]

_FILTERS = {
    "hqdn3d": "hqdn3d",
    "hqdn3d=8:6:12:9": "hqdn3d=8:6:12:9",
    "nlmeans=s=3": "nlmeans=s=3",
    "nlmeans=s=6": "nlmeans=s=6",
    "tmedian": "tmedian=radius=1",
    "tmedian=2": "tmedian=radius=2",
    "deflicker": "deflicker=size=5",
    "deflicker=9": "deflicker=size=9",
    "atadenoise": "atadenoise",
    "atadenoise=strong": "atadenoise=0a=0.04:0b=0.08:1a=0.04:1b=0.08:2a=0.04:2b=0.08",
    "median": "median=radius=1",
    "median=2": "median=radius=2",
}
_CHAIN_NAMES = [
    *[[f] for f in _FILTERS],
    *[["deflicker", f] for f in ("hqdn3d", "hqdn3d=8:6:12:9", "nlmeans=s=3", "nlmeans=s=6",
                                 "tmedian", "tmedian=2", "atadenoise", "atadenoise=strong",
                                 "median", "median=2")],
    ["deflicker=9", "tmedian"], ["deflicker=9", "atadenoise"],
    ["deflicker", "tmedian", "hqdn3d"], ["deflicker", "tmedian", "nlmeans=s=3"],
    ["deflicker", "tmedian", "median"], ["deflicker", "atadenoise", "median"],
    ["deflicker", "atadenoise", "hqdn3d"], ["deflicker", "atadenoise", "nlmeans=s=3"],
    ["deflicker", "median", "hqdn3d"], ["deflicker", "median", "nlmeans=s=3"],
    ["deflicker", "tmedian=2", "median"], ["deflicker", "tmedian", "atadenoise"],
    ["tmedian", "hqdn3d"], ["median", "nlmeans=s=3"],
]
#: name -> ffmpeg filter graph
CHAINS = {",".join(c): ",".join(_FILTERS[f] for f in c) for c in _CHAIN_NAMES}


def need_skimage():
    try:
        import skimage  # noqa: F401
        from skimage import data, metrics, transform  # noqa: F401
    except ImportError:
        sys.exit("benchmarks/repair_quality.py needs scikit-image for its pictures and SSIM: "
                 "pip install scikit-image   (or the project's `bench` extra)")


# ----------------------------------------------------------------------------- sequences


def picture(name: str) -> np.ndarray:
    """float64 RGB 0..1 of a bundled scikit-image picture (grey ones repeated to RGB)."""
    from skimage import data

    img = getattr(data, name)()
    img = img.astype(np.float64) / np.iinfo(img.dtype).max
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return img[:, :, :3]


def pan(name: str, velocity: tuple[float, float], n: int) -> np.ndarray:
    """Clean frames ``(n, H, W, 3)`` float64 0..1 of a window panning over the picture."""
    from skimage.transform import rescale

    img = picture(name)
    h, w = SIZE
    steps = [round(v * UP) for v in velocity]  # upscaled px a frame
    travel = [abs(s) * (n - 1) for s in steps]
    need = [h * UP + travel[0], w * UP + travel[1]]
    have = [img.shape[0] * UP, img.shape[1] * UP]
    if need[0] > have[0] or need[1] > have[1]:
        raise ValueError(f"{name}: picture too small for the pan")
    # only the region the pan covers is upscaled, centred on the picture
    off = [(have[0] - need[0]) // 2 // UP, (have[1] - need[1]) // 2 // UP]
    region = img[off[0]:off[0] + -(-need[0] // UP) + 2, off[1]:off[1] + -(-need[1] // UP) + 2]
    big = np.clip(rescale(region, UP, order=3, channel_axis=2, anti_aliasing=False), 0, 1)
    frames = []
    for t in range(n):
        y0 = (travel[0] if steps[0] < 0 else 0) + steps[0] * t
        x0 = (travel[1] if steps[1] < 0 else 0) + steps[1] * t
        crop = big[y0:y0 + h * UP, x0:x0 + w * UP]
        frames.append(crop.reshape(h, UP, w, UP, 3).mean(axis=(1, 3)))
    return np.stack(frames)


def damage(clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Film damage (see the module docstring) on float frames; returns float 0..1 frames and
    a description of what was planted."""
    n, h, w, _ = clean.shape
    dev = rng.uniform(0.10, 0.15, n) * rng.choice([-1.0, 1.0], n)
    gains = 1.0 + dev
    out = clean * gains[:, None, None, None]
    # scratch
    width = int(rng.integers(2, 5))
    length = int(rng.integers(5, 9))
    first = int(rng.integers(0, n - length + 1))
    x_c = rng.uniform(0.15, 0.85) * w
    drift = rng.uniform(-0.3, 0.3)
    sign = rng.choice([-1.0, 1.0])
    contrast = rng.uniform(0.15, 0.3)
    xs = np.arange(w)
    for t in range(first, first + length):
        centre = x_c + drift * (t - first)
        d = np.abs(xs - centre) / (width / 2.0)
        profile = np.clip(1.5 - d, 0.0, 1.0)  # flat core, 1 px soft edges
        out[t] += sign * contrast * profile[None, :, None]
    # specks
    yy, xx = np.mgrid[0:h, 0:w]
    specks = []
    for t in range(n):
        k = int(rng.integers(15, 41))
        specks.append(k)
        for _ in range(k):
            size = rng.uniform(1.0, 6.0)
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            ry = size / 2 * rng.uniform(0.6, 1.0)
            rx = size / 2 * rng.uniform(0.6, 1.0)
            y0, y1 = int(max(0, cy - 4)), int(min(h, cy + 5))
            x0, x1 = int(max(0, cx - 4)), int(min(w, cx + 5))
            sub = (((yy[y0:y1, x0:x1] + 0.5 - cy) / max(ry, 0.5)) ** 2
                   + ((xx[y0:y1, x0:x1] + 0.5 - cx) / max(rx, 0.5)) ** 2) <= 1.0
            if not sub.any():
                sub[min(int(cy) - y0, sub.shape[0] - 1), min(int(cx) - x0, sub.shape[1] - 1)] = True
            value = rng.uniform(0.0, 0.15) if rng.random() < 0.5 else rng.uniform(0.85, 1.0)
            out[t, y0:y1, x0:x1][sub] = value
    sigma = rng.uniform(0.015, 0.03)
    out += rng.normal(0.0, sigma, out.shape)
    facts = {"grain_sigma": round(float(sigma), 4),
             "flicker_gain_deviation": [round(float(v), 3) for v in dev],
             "specks_per_frame": specks,
             "scratch": {"width_px": width, "frames": [first, first + length - 1],
                         "contrast": round(float(sign * contrast), 3)}}
    return np.clip(out, 0.0, 1.0), facts


def to16(frames: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(frames, 0, 1) * 65535).astype(np.uint16)


# ----------------------------------------------------------------------------- metrics


def psnr(out: np.ndarray, clean: np.ndarray) -> float:
    """Mean over frames of PSNR (dB) on RGB, data range 1."""
    err = (out.astype(np.float64) - clean) ** 2
    mse = err.reshape(len(out), -1).mean(axis=1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-12))))


def ssim(out: np.ndarray, clean: np.ndarray) -> float:
    """Mean over frames of SSIM on RGB (scikit-image), data range 1."""
    from skimage.metrics import structural_similarity

    return float(np.mean([structural_similarity(o.astype(np.float64), c, data_range=1.0,
                                                channel_axis=2)
                          for o, c in zip(out, clean, strict=True)]))


def flicker(out: np.ndarray, clean: np.ndarray) -> float:
    """Standard deviation over frames of the mean-luma error (luma units)."""
    err = (out.astype(np.float64) - clean) @ REC709
    return float(np.std(err.reshape(len(out), -1).mean(axis=1)))


def metrics(out16: np.ndarray, clean: np.ndarray, with_ssim: bool = True) -> dict:
    out = out16.astype(np.float64) / 65535.0
    res = {"psnr": round(psnr(out, clean), 3), "flicker": round(flicker(out, clean), 5)}
    if with_ssim:
        res["ssim"] = round(ssim(out, clean), 4)
    return res


# ----------------------------------------------------------------------------- runners


def write_png(path: Path, pixels: np.ndarray) -> None:
    import OpenImageIO as oiio

    out = oiio.ImageOutput.create(str(path))
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], pixels.shape[2], "uint16")
    if not out.open(str(path), spec):
        raise RuntimeError(oiio.geterror())
    out.write_image(pixels)
    out.close()


def read_png(path: Path) -> np.ndarray:
    import OpenImageIO as oiio

    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise RuntimeError(f"{path}: {oiio.geterror()}")
    try:
        return inp.read_image(format="uint16")
    finally:
        inp.close()


def run_ours(damaged16: np.ndarray, work: Path) -> tuple[np.ndarray, float]:
    """Our default recipe through the real pipeline on 16-bit TIFFs; (frames, seconds)."""
    from restoration.io import read_frame, write_frame
    from restoration.repair.ops import DEFAULT_RECIPE
    from restoration.repair.pipeline import repair_sequence

    src, dst = work / "tif", work / "ours"
    src.mkdir(parents=True)
    for t, frame in enumerate(damaged16):
        write_frame(frame, src / f"pan.{t:04d}.tif")
    started = time.perf_counter()
    report = repair_sequence(src, dst, DEFAULT_RECIPE, provenance_path=False)
    seconds = time.perf_counter() - started
    return np.stack([read_frame(dst / name).pixels for name in report.names]), seconds


def padding(chain: str) -> int:
    """Frames to repeat at each end for a chain: tmedian's radius (0 without tmedian)."""
    return max([2 if f == "tmedian=2" else 1 if f == "tmedian" else 0
                for f in chain.split(",")])


def run_ffmpeg(chain: str, graph: str, frames_dir: Path, n: int, work: Path) -> np.ndarray:
    """One chain over the PNG frames; returns uint16 frames ``(n, H, W, 3)``."""
    pad = padding(chain)
    src = frames_dir
    if pad:
        src = work / f"in-pad{pad}"
        if not src.exists():
            tmp = work / f".in-pad{pad}-{os.getpid()}-{time.monotonic_ns()}"
            tmp.mkdir()
            order = [0] * pad + list(range(n)) + [n - 1] * pad
            for k, t in enumerate(order):
                os.symlink(frames_dir / f"{t:04d}.png", tmp / f"{k:04d}.png")
            try:
                tmp.rename(src)
            except OSError:  # another thread made it first
                shutil.rmtree(tmp)
    out = work / ("out-" + "".join(c if c.isalnum() else "_" for c in chain))
    out.mkdir()
    cmd = [FFMPEG, "-hide_banner", "-v", "error", "-nostdin", "-threads", "1",
           "-filter_threads", "1", "-f", "image2", "-framerate", "24", "-start_number", "0",
           "-i", str(src / "%04d.png"), "-vf", f"format=yuv444p16le,{graph}",
           "-pix_fmt", "rgb48be", "-start_number", "0", str(out / "%04d.png")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"ffmpeg {graph}: {r.stderr.strip()}")
    got = sorted(out.glob("*.png"))
    if len(got) != n:  # tmedian drops `radius` frames at each end: the padding
        raise RuntimeError(f"ffmpeg {graph}: {len(got)} frames out, {n} expected")
    frames = np.stack([read_png(p) for p in got])
    shutil.rmtree(out)
    return frames


# ----------------------------------------------------------------------------- main


def bench(n: int, jobs: int, work: Path, chains: dict[str, str], log) -> dict:
    rng = np.random.default_rng(SEED)
    rows = []
    roundtrip = []
    t_ours = t_ff = 0.0
    pixels = 0
    for name, velocity in SEQUENCES:
        clean = pan(name, velocity, n)
        damaged, facts = damage(clean, rng)
        damaged16 = to16(damaged)
        seq_dir = work / name
        frames_dir = seq_dir / "png"
        frames_dir.mkdir(parents=True)
        for t, frame in enumerate(damaged16):
            write_png(frames_dir / f"{t:04d}.png", frame)
        ours, seconds = run_ours(damaged16, seq_dir)
        t_ours += seconds
        pixels += damaged16.shape[0] * damaged16.shape[1] * damaged16.shape[2]
        started = time.perf_counter()
        with ThreadPoolExecutor(jobs) as pool:
            futures = {c: pool.submit(run_ffmpeg, c, g, frames_dir, n, seq_dir)
                       for c, g in chains.items()}
            peer = {c: f.result() for c, f in futures.items()}
        # the format round trip alone (rgb48 -> yuv444p16le -> rgb48), as a sanity figure
        ident = run_ffmpeg("null", "null", frames_dir, n, seq_dir)
        roundtrip.append(psnr(ident / 65535.0, damaged16 / 65535.0))
        t_ff += time.perf_counter() - started
        scores = {c: metrics(f, clean, with_ssim=False) for c, f in peer.items()}
        best = max(scores, key=lambda c: scores[c]["psnr"])
        mine = metrics(ours, clean)
        theirs = metrics(peer[best], clean)
        dmg = metrics(damaged16, clean, with_ssim=False)
        row = {
            "sequence": name,
            "pan_px_per_frame": list(velocity),
            "damaged_psnr": dmg["psnr"],
            "damaged_flicker": dmg["flicker"],
            "ours_psnr": mine["psnr"], "ours_ssim": mine["ssim"],
            "ours_flicker": mine["flicker"],
            "ffmpeg_best_chain": best,
            "ffmpeg_psnr": theirs["psnr"], "ffmpeg_ssim": theirs["ssim"],
            "ffmpeg_flicker": theirs["flicker"],
            "psnr_gain_db": round(mine["psnr"] - theirs["psnr"], 3),
            "ffmpeg_top3": sorted(scores, key=lambda c: -scores[c]["psnr"])[:3],
            "damage": facts,
            "ours_seconds": round(seconds, 2),
        }
        rows.append(row)
        log(f"{name}: damaged {row['damaged_psnr']:.2f} dB, ours {row['ours_psnr']:.2f} dB, "
            f"ffmpeg {best} {row['ffmpeg_psnr']:.2f} dB")
        shutil.rmtree(seq_dir)
    keys = ["damaged_psnr", "ours_psnr", "ours_ssim", "ours_flicker", "ffmpeg_psnr",
            "ffmpeg_ssim", "ffmpeg_flicker", "psnr_gain_db"]
    mean = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in keys}
    met = mean["psnr_gain_db"] >= TARGET_DB and all(
        r["ours_flicker"] < r["ffmpeg_flicker"] for r in rows)
    h, w = SIZE
    return {
        "benchmark": "repair_quality",
        "metric": "PSNR (dB) on RGB, data range 1; SSIM on RGB (scikit-image); flicker = std "
                  "over frames of the mean Rec.709 luma error; all against the clean frames, "
                  "mean over frames",
        "frames_per_sequence": n, "frame_size": [h, w], "seed": SEED,
        "sequences": rows,
        "mean": mean,
        "target": f"ours_psnr >= ffmpeg_psnr + {TARGET_DB} dB on average, and "
                  "ours_flicker < ffmpeg_flicker on every sequence",
        "target_met": bool(met),
        "ffmpeg_chains": len(chains),
        "ffmpeg_format_roundtrip_psnr_min": round(float(min(roundtrip)), 2),
        "ours_seconds_per_megapixel_frame": round(t_ours / (pixels / 3 / 1e6), 3),
        "ours_seconds": round(t_ours, 2),
        "ffmpeg_seconds": round(t_ff, 2),
    }


def table(res: dict) -> str:
    head = (f"{'sequence':22} {'damaged':>8} {'ours':>7} {'ssim':>6} {'flicker':>8}  "
            f"{'ffmpeg best chain':34} {'psnr':>7} {'ssim':>6} {'flicker':>8} {'gain':>6}")
    lines = [head, "-" * len(head)]
    for r in res["sequences"] + [dict(res["mean"], sequence="mean", ffmpeg_best_chain="")]:
        lines.append(f"{r['sequence']:22} {r['damaged_psnr']:8.2f} {r['ours_psnr']:7.2f} "
                     f"{r['ours_ssim']:6.3f} {r['ours_flicker']:8.5f}  "
                     f"{r['ffmpeg_best_chain']:34} {r['ffmpeg_psnr']:7.2f} "
                     f"{r['ffmpeg_ssim']:6.3f} {r['ffmpeg_flicker']:8.5f} "
                     f"{r['psnr_gain_db']:6.2f}")
    lines.append(f"PSNR/SSIM on RGB vs the clean frames; flicker = std of mean-luma error. "
                 f"Target ({res['target']}): {'met' if res['target_met'] else 'NOT met'}. "
                 f"ours {res['ours_seconds']} s, ffmpeg {res['ffmpeg_seconds']} s "
                 f"({res['ffmpeg_chains']} chains).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--frames", type=int, default=14, help="frames per sequence")
    parser.add_argument("--jobs", type=int, default=2, help="ffmpeg chains run at once")
    parser.add_argument("--chains", help="comma-free '|'-separated subset of chain names")
    parser.add_argument("--dir", help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)
    need_skimage()
    if not Path(FFMPEG).exists():
        sys.exit(f"{FFMPEG} not found: Debian's ffmpeg is the peer (apt-get install ffmpeg)")
    chains = CHAINS if not args.chains else {c: CHAINS[c] for c in args.chains.split("|")}
    started = time.perf_counter()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if args.dir:
        work = Path(args.dir)
        work.mkdir(parents=True, exist_ok=True)
        res = bench(args.frames, args.jobs, work, chains, log)
    else:
        with tempfile.TemporaryDirectory(prefix="repair-quality-") as tmp:
            res = bench(args.frames, args.jobs, Path(tmp), chains, log)
    res["elapsed_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(res, indent=2) if args.json else table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
