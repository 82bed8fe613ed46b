"""Super-resolution speed: our engine against upstream Real-ESRGAN on the same weights and frames.

    python benchmarks/sr_speed.py --json [--frames N] [--nets srvgg,rrdb] [--quick]

Both sides run in one benchmark-only virtual environment, ``var/bench-venv``, so that they use
the same torch build: it holds ``realesrgan`` (with ``basicsr``), torch 2.14.1 with torchvision
0.29.1 (the pair that imports together on this machine's disk), and this project, installed
editable without its dependencies. When the script is started from another interpreter it
builds that environment if it is missing (saying so on stderr) and runs itself again inside it.
basicsr imports ``torchvision.transforms.functional_tensor``, which torchvision no longer has;
the one-line shim below maps it to ``torchvision.transforms.functional`` before the import.

For each network -- full-size RRDBNet (64 features, 23 blocks, x4) and SRVGGNetCompact (64
features, 16 convolutions, x4, PReLU) -- the script

1. builds upstream's module (``basicsr.archs.rrdbnet_arch.RRDBNet``,
   ``realesrgan.archs.srvgg_arch.SRVGGNetCompact``) with fixed-seed random weights, scaled so
   the output is spread around mid-grey and rarely clipped (RRDBNet: upstream's own
   initialisation, then ``conv_last`` scaled and offset; SRVGGNetCompact, which has no
   initialisation of its own: Kaiming-normal convolutions so the signal survives the depth, the
   last one scaled so the learned residual has a spread of 0.1), and saves it as
   ``{"params_ema": state_dict}`` like the official files;
2. times upstream ``RealESRGANer.enhance(img, outscale=4)`` frame by frame (8-bit BGR, fp32,
   ``pre_pad=0``, ``tile_pad=10``) with ``tile=0`` and ``tile=256`` and keeps the faster;
3. loads the same file through :func:`restoration.repair.models.load_model` and times
   :func:`restoration.repair.tiling.upscale_frames_with_report` on the same pixels as uint16
   RGB (``v * 257``), all frames in one call as the repair pipeline passes a chunk, with the
   pipeline's defaults: fp32, overlap 16, tile from :func:`calibrate_tile`;
4. compares ours, rounded to 8 bits, with upstream's output (channel order swapped), and times
   the bf16 mode and measures its deviation from our fp32 output.

Frames are 720x480 (``--quick``: 128x96), generated: soft colour gradients, a chirped texture,
hard-edged shapes and grain, a different shift of the picture per frame. Timings are wall time
on whatever else the machine is doing; the ratio is measured in the same run.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "var" / "bench-venv"
VENV_PYTHON = VENV / "bin" / "python"
READY = VENV / ".reelkeeper-bench-ready"  # written once every install step has succeeded
# What the environment holds, in install order (pip takes torch and torchvision from the
# machine's local wheels). basicsr 1.4.2 is an sdist whose setup asks for torch at build time:
# it is built against the torch already installed, and installed without its requirements
# (tb-nightly, and opencv-python where the headless build suffices).
INSTALL_STEPS = [
    ["torch==2.14.1", "torchvision==0.29.1"],
    ["numpy", "opencv-python-headless", "Pillow", "pyyaml", "requests", "scipy", "scikit-image",
     "tqdm", "addict", "future", "lmdb", "yapf", "setuptools>=69", "wheel"],
    ["--no-deps", "--no-build-isolation", "basicsr==1.4.2", "realesrgan==0.3.0"],
    ["--no-deps", "--no-build-isolation", "-e", str(ROOT)],
]
NETS = ("srvgg", "rrdb")
UPSTREAM_TILES = (0, 256)
OVERLAP = 16  # the repair pipeline's default context (input pixels)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the benchmark environment -------------------------------------------------------------------

def in_bench_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def build_venv() -> None:
    """Create ``var/bench-venv`` (or finish an interrupted build) and mark it ready."""
    log(f"sr_speed: the benchmark environment {VENV} is missing; building it "
        "(torch 2.14.1 + torchvision 0.29.1 from local wheels, realesrgan, basicsr, this "
        "project editable)...")
    if not VENV_PYTHON.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    for step in INSTALL_STEPS:
        command = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", *step]
        log("sr_speed: " + " ".join(command[1:]))
        subprocess.run(command, check=True)
    READY.write_text("built by benchmarks/sr_speed.py\n")
    log("sr_speed: benchmark environment ready")


def ensure_venv_and_reexec() -> None:
    if not READY.exists():
        build_venv()
    log(f"sr_speed: running inside {VENV}")
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


def import_upstream():
    """(RealESRGANer, RRDBNet, SRVGGNetCompact) from realesrgan/basicsr, after the shim."""
    import torchvision.transforms.functional

    sys.modules.setdefault("torchvision.transforms.functional_tensor", torchvision.transforms.functional)
    from basicsr.archs.rrdbnet_arch import RRDBNet
    from realesrgan import RealESRGANer
    from realesrgan.archs.srvgg_arch import SRVGGNetCompact

    return RealESRGANer, RRDBNet, SRVGGNetCompact


# --- inputs and weights --------------------------------------------------------------------------

def make_frames(count: int, height: int, width: int):
    """``count`` natural-looking 8-bit BGR frames ``(H, W, 3)``, deterministic."""
    import numpy as np

    rng = np.random.default_rng(1895)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / width, y / height
    rgb = np.stack([0.25 + 0.5 * u, 0.3 + 0.4 * v * (1 - u), 0.55 - 0.3 * u * v], axis=2)
    chirp = 0.08 * np.sin(2 * np.pi * (3 + 40 * u) * u * 6) * np.cos(2 * np.pi * v * (4 + 20 * v))
    rgb += chirp[..., None] * np.array([1.0, 0.8, 0.6], np.float32)
    yy, xx = y - 0.55 * height, x - 0.3 * width
    rgb[(yy**2 + xx**2) < (0.18 * height) ** 2] = (0.85, 0.78, 0.6)  # a disc
    rgb[int(0.15 * height):int(0.4 * height), int(0.6 * width):int(0.85 * width)] = (0.1, 0.12, 0.2)
    rgb[int(0.7 * height):int(0.74 * height), int(0.1 * width):int(0.9 * width)] = (0.95, 0.95, 0.9)
    frames = []
    for i in range(count):
        grain = rng.normal(0.0, 0.015, rgb.shape).astype(np.float32)
        img = np.roll(rgb, shift=(5 * i, 11 * i), axis=(0, 1)) + grain
        codes = np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
        frames.append(np.ascontiguousarray(codes[..., ::-1]))  # BGR, as cv2 reads files
    return frames


def upstream_network(kind: str, probe_rgb):
    """Upstream's module with fixed-seed weights whose output is spread around mid-grey."""
    import torch
    from torch import nn

    _, UpRRDBNet, UpSRVGG = import_upstream()
    torch.manual_seed(20)
    probe = torch.from_numpy(probe_rgb).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        if kind == "rrdb":
            net = UpRRDBNet(num_in_ch=3, num_out_ch=3, num_feat=64, num_block=23,
                            num_grow_ch=32, scale=4).eval()
            net.conv_last.bias.zero_()
            out = net(probe)
            centred = out - out.mean(dim=(0, 2, 3), keepdim=True)
            net.conv_last.weight.mul_(0.15 / float(centred.std()))
            net.conv_last.bias.copy_(0.5 - net(probe).mean(dim=(0, 2, 3)))
        else:
            net = UpSRVGG(num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=16, upscale=4,
                          act_type="prelu").eval()
            for m in net.body:
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, a=0.25)
                    m.bias.zero_()
            base = nn.functional.interpolate(probe, scale_factor=4, mode="nearest")
            residual = net(probe) - base
            net.body[-1].weight.mul_(0.1 / float(residual.std()))
            residual = net(probe) - base
            net.body[-1].bias.sub_(residual.mean(dim=(0, 2, 3)).repeat_interleave(16))
        out = net(probe)
    spread = {"probe_output_mean": round(float(out.mean()), 4),
              "probe_output_std": round(float(out.std()), 4),
              "probe_output_clipped_fraction": round(float(((out < 0) | (out > 1)).float().mean()), 5)}
    return net, spread


# --- the runs ----------------------------------------------------------------------------------------

def time_upstream(net, weights: Path, frames, tile: int):
    import torch

    RealESRGANer, _, _ = import_upstream()
    upsampler = RealESRGANer(scale=4, model_path=str(weights), model=net, tile=tile, tile_pad=10,
                             pre_pad=0, half=False, device=torch.device("cpu"))
    with contextlib.redirect_stdout(io.StringIO()):  # tile_process prints "Tile i/n"
        upsampler.enhance(frames[0][:32, :32], outscale=4)  # warm-up: threads, allocator
        outputs, started, cpu = [], time.perf_counter(), time.process_time()
        for frame in frames:
            out, _ = upsampler.enhance(frame, outscale=4)
            outputs.append(out)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds / len(frames), outputs, cpu / len(frames)


def time_ours(loaded, frames_u16, precision: str, tile):
    from restoration.repair.tiling import upscale_frames_with_report

    upscale_frames_with_report(loaded.net, frames_u16[:1, :32, :32], loaded.scale,
                               overlap=OVERLAP, precision=precision)  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    report = upscale_frames_with_report(loaded.net, frames_u16, loaded.scale, tile=tile,
                                        overlap=OVERLAP, precision=precision)
    n = len(frames_u16)
    return (time.perf_counter() - started) / n, report, (time.process_time() - cpu) / n


def to_8bit(pixels_u16):
    import numpy as np

    return ((pixels_u16.astype(np.uint32) + 128) // 257).astype(np.int16)


def max_diff_8bit(ours_u16, upstream_bgr: list) -> tuple[int, float]:
    """(largest |ours - upstream| in 8-bit codes, fraction of samples that differ)."""
    import numpy as np

    ours = to_8bit(ours_u16)
    theirs = np.stack([o[..., ::-1] for o in upstream_bgr]).astype(np.int16)  # BGR -> RGB
    diff = np.abs(ours - theirs)
    return int(diff.max()), float((diff > 0).mean())


def bench_network(kind: str, frames_bgr, count: int, repeats: int, workdir: Path) -> dict:
    import numpy as np
    import torch

    from restoration.repair.models import load_model
    from restoration.repair.tiling import calibrate_tile

    h, w = frames_bgr[0].shape[:2]
    probe = frames_bgr[0][: min(h, 64), : min(w, 64), ::-1].copy()
    net, spread = upstream_network(kind, probe)
    weights = workdir / f"random_{kind}_x4.pth"
    torch.save({"params_ema": net.state_dict()}, weights)
    frames = frames_bgr[:count]
    label = "RRDBNet" if kind == "rrdb" else "SRVGGNetCompact"
    loaded = load_model(weights, device="cpu")
    frames_u16 = np.stack([f[..., ::-1] for f in frames]).astype(np.uint16) * np.uint16(257)
    tile = calibrate_tile(loaded.net, h, w, loaded.scale, device="cpu", overlap=OVERLAP)
    upstream: dict[int, tuple[float, list, float]] = {}
    ours = bf16 = None
    # Interleaved repeats, best of each: the machine is shared, and the quietest pass of each
    # side is the fairest comparison.
    for r in range(repeats):
        for up_tile in UPSTREAM_TILES:
            log(f"sr_speed: {label}: upstream RealESRGANer, tile {up_tile}, {count} frame(s), "
                f"pass {r + 1}/{repeats}...")
            run = time_upstream(net, weights, frames, up_tile)
            log(f"sr_speed:   {run[0]:.2f} s/frame ({run[2]:.2f} s CPU)")
            if up_tile not in upstream or run[0] < upstream[up_tile][0]:
                upstream[up_tile] = run
        for precision in ("fp32", "bf16"):
            log(f"sr_speed: {label}: ours {precision} (tile {tile}), {count} frame(s), "
                f"pass {r + 1}/{repeats}...")
            run = time_ours(loaded, frames_u16, precision, tile)
            log(f"sr_speed:   {run[0]:.2f} s/frame ({run[2]:.2f} s CPU)")
            best = ours if precision == "fp32" else bf16
            if best is None or run[0] < best[0]:
                best = run
            ours, bf16 = (best, bf16) if precision == "fp32" else (ours, best)
    best_tile = min(upstream, key=lambda t: upstream[t][0])
    up_s = upstream[best_tile][0]
    (ours_s, ours, ours_cpu), (bf16_s, bf16, bf16_cpu) = ours, bf16
    diffs = {t: max_diff_8bit(ours.pixels, upstream[t][1]) for t in upstream}
    dev16 = np.abs(bf16.pixels.astype(np.int32) - ours.pixels.astype(np.int32))
    dev8 = np.abs(to_8bit(bf16.pixels) - to_8bit(ours.pixels))
    return {
        "net": label,
        "frame_size": f"{w}x{h}",
        "frames": count,
        "repeats": repeats,
        "upstream_s_per_frame": round(up_s, 3),
        "upstream_tile": best_tile,
        "ours_s_per_frame": round(ours_s, 3),
        "ratio": round(up_s / ours_s, 3),
        # against upstream's whole-frame output (the network's own result; upstream's tiles
        # have seams where tile_pad is less than the receptive radius)
        "max_abs_diff_8bit": diffs[0][0],
        "max_abs_diff_8bit_by_upstream_tile": {str(t): d[0] for t, d in diffs.items()},
        "fraction_differing_8bit_by_upstream_tile": {str(t): round(d[1], 6)
                                                     for t, d in diffs.items()},
        "upstream_s_per_frame_by_tile": {str(t): round(v[0], 3) for t, v in upstream.items()},
        # process CPU time (user + system, all threads): less disturbed by other work on a
        # shared machine than wall time, though contention still inflates both
        "upstream_cpu_s_per_frame_by_tile": {str(t): round(v[2], 3)
                                             for t, v in upstream.items()},
        "ours_cpu_s_per_frame": round(ours_cpu, 3),
        "cpu_ratio": round(upstream[best_tile][2] / ours_cpu, 3),
        "ours_tile": ours.tile,
        "ours_overlap": ours.overlap,
        "ours_feather": ours.feather,
        "ours_windows_per_frame": ours.windows_per_frame,
        "ours_fps": round(1.0 / ours_s, 4),
        "upstream_fps": round(1.0 / up_s, 4),
        "ours_bf16_s_per_frame": round(bf16_s, 3),
        "ours_bf16_ratio": round(up_s / bf16_s, 3),
        "ours_bf16_cpu_s_per_frame": round(bf16_cpu, 3),
        "bf16_max_abs_diff_vs_fp32": int(dev16.max()),  # uint16 code values
        "bf16_max_abs_diff_vs_fp32_8bit": int(dev8.max()),
        "bf16_max_abs_diff_vs_fp32_float": round(float(dev16.max()) / 65535, 6),
        "weights": spread,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--frames", type=int, default=None,
                        help="frames per network (default: 2 for SRVGGNetCompact, 1 for RRDBNet)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="interleaved passes, best of each side kept (default: 3 for "
                             "SRVGGNetCompact, 1 for RRDBNet)")
    parser.add_argument("--nets", default=",".join(NETS), help="comma-separated: srvgg,rrdb")
    parser.add_argument("--quick", action="store_true", help="128x96 frames: a smoke run")
    args = parser.parse_args()
    nets = [n.strip() for n in args.nets.split(",") if n.strip()]
    if not nets or any(n not in NETS for n in nets):
        parser.error(f"--nets takes a comma-separated list of {', '.join(NETS)}")
    if not in_bench_venv():
        ensure_venv_and_reexec()

    import torch

    width, height = (128, 96) if args.quick else (720, 480)
    counts = {n: args.frames or {"srvgg": 2, "rrdb": 1}[n] for n in nets}
    repeats = {n: args.repeat or {"srvgg": 3, "rrdb": 1}[n] for n in nets}
    frames = make_frames(max(counts.values()), height, width)
    results = []
    with tempfile.TemporaryDirectory(prefix="sr_speed_") as tmp:
        for kind in nets:
            results.append(bench_network(kind, frames, counts[kind], repeats[kind], Path(tmp)))
    result = {
        "benchmark": "sr_speed",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "device": "cpu",
        "targets": {"SRVGGNetCompact": 2.0, "RRDBNet": 1.5, "max_abs_diff_8bit": 1},
        "nets": results,
    }
    log("")
    log(f"{'net':16} {'frame':8} {'upstream fps':>12} {'(tile)':>6} {'ours fps':>9} "
        f"{'ratio':>6} {'max diff':>8} {'bf16 fps':>9} {'bf16 ratio':>10} {'bf16 dev':>8}")
    for r in results:
        log(f"{r['net']:16} {r['frame_size']:8} {r['upstream_fps']:12.3f} "
            f"{r['upstream_tile']:>6} {r['ours_fps']:9.3f} {r['ratio']:6.2f} "
            f"{r['max_abs_diff_8bit']:8d} {1 / r['ours_bf16_s_per_frame']:9.3f} "
            f"{r['ours_bf16_ratio']:10.2f} {r['bf16_max_abs_diff_vs_fp32_8bit']:8d}")
    log("(max diff: 8-bit codes against upstream's whole-frame output; bf16 dev: 8-bit codes "
        "against our fp32)")
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
