"""Grading speed: our `grade_sequence` against colour-science and OpenColorIO alone.

    python benchmarks/grading.py --json [--frames 48] [--colour-frames 3] [--width 2048]
                                 [--height 1080]

Generates (in a temporary folder) a 16-bit uncompressed RGB TIFF sequence of smooth, moving
pictures, a 33-point .cube (a smooth colour twist) and grades it with a CDL, that LUT and a
Cineon -> Rec. 709 conversion (decode to encode) three ways, in the same run:

* ours: `restoration.grading.grade_sequence`, disk to disk (read, grade, write overlapped);
* colour-science: the same maths per frame in memory (no I/O): the ASC CDL in numpy as
  colour-science would write it, `LUT3D.apply` (trilinear, its default),
  `log_decoding_Cineon`, `RGB_to_RGB(..., apply_cctf_encoding=True)`; on `--colour-frames`
  frames only (it is slow), fps measured on those;
* OpenColorIO alone: our processor (the same GroupTransform) applied with one
  `PackedImageDesc` per whole frame, uint16 in and out, frames already in memory.

Ours runs with trilinear ("linear") LUT interpolation so all three do the same maths.
`preview_s`: one graded still (grade_preview: grade_frame + downscale to 1024 wide) of a 2K
frame, plus its four scopes (waveform, RGB parade, vectorscope, histogram) as the grading
page makes them, written as PNGs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restoration.grading import GradeSpec, grade_preview, grade_sequence, processor_for  # noqa: E402
from restoration.interchange import CDL  # noqa: E402

CDL_BENCH = CDL(slope=(1.08, 1.0, 0.93), offset=(0.01, -0.005, 0.02), power=(0.95, 1.0, 1.07),
                saturation=1.1)


def preview_scopes(still: np.ndarray, folder: Path) -> dict:
    """The graded still's scopes, written as the grading page writes them (timed inside
    `preview_s`)."""
    from restoration.scopes import write_scopes

    return write_scopes(still, folder, "scope")


def make_cube(path: Path, size: int = 33) -> Path:
    """A smooth 33-point 3D LUT (red fastest), values within 0..1."""
    g = np.linspace(0.0, 1.0, size)
    b, gg, r = np.meshgrid(g, g, g, indexing="ij")  # r varies fastest when flattened
    rgb = np.stack([r, gg, b], axis=-1).reshape(-1, 3)
    twist = np.array([[0.9, 0.08, 0.02], [0.05, 0.9, 0.05], [0.02, 0.1, 0.88]])
    out = np.clip((rgb @ twist.T) ** 0.95 + 0.01 * np.sin(6 * rgb[:, [1, 2, 0]]), 0, 1)
    lines = [f"TITLE \"bench twist\"\nLUT_3D_SIZE {size}\n"]
    lines += [f"{a:.6f} {b_:.6f} {c:.6f}\n" for a, b_, c in out]
    path.write_text("".join(lines))
    return path


def make_frames(folder: Path, count: int, width: int, height: int) -> list[Path]:
    import tifffile

    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(1895)
    paths = []
    for n in range(count):
        phase = n * 0.07
        pic = np.stack([0.5 + 0.4 * np.sin(x / 97 + phase) * np.cos(y / 131),
                        0.5 + 0.4 * np.sin((x + y) / 173 - phase),
                        0.5 + 0.4 * np.cos(x / 61 - y / 89 + phase)], axis=-1)
        pic += rng.normal(0, 0.01, pic.shape).astype(np.float32)
        codes = np.rint(np.clip(pic, 0, 1) * 65535).astype(np.uint16)
        path = folder / f"bench.{n + 1:06d}.tif"
        tifffile.imwrite(path, codes, photometric="rgb", compression=None)
        paths.append(path)
    return paths


def colour_grade(pixels: np.ndarray, lut, colour) -> np.ndarray:
    """The grade maths as colour-science users would write them, float64."""
    rgb = pixels.astype(np.float64) / 65535.0
    rgb = np.clip(rgb * np.array(CDL_BENCH.slope) + np.array(CDL_BENCH.offset), 0, 1)
    rgb = rgb ** np.array(CDL_BENCH.power)
    luma = rgb @ np.array([0.2126, 0.7152, 0.0722])
    rgb = np.clip(luma[..., None] + CDL_BENCH.saturation * (rgb - luma[..., None]), 0, 1)
    rgb = lut.apply(rgb)
    rgb = colour.models.log_decoding_Cineon(rgb)
    rgb = colour.RGB_to_RGB(rgb, "ITU-R BT.709", "ITU-R BT.709", apply_cctf_encoding=True)
    return np.rint(np.clip(rgb, 0, 1) * 65535).astype(np.uint16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--colour-frames", type=int, default=3)
    parser.add_argument("--ocio-frames", type=int, default=12)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    import PyOpenColorIO as ocio

    from restoration.io import read_frame

    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        tmp = Path(tmp)
        cube = make_cube(tmp / "twist.cube")
        paths = make_frames(tmp / "scan", args.frames, args.width, args.height)
        spec = GradeSpec(cdl=CDL_BENCH, lut=str(cube), interpolation="linear",
                         in_transfer="cineon", out_space="rec709")
        processor_for(spec, "uint16")  # build once, outside every timing

        t0 = time.perf_counter()
        report = grade_sequence(tmp / "scan", tmp / "out", spec)
        ours_s = time.perf_counter() - t0
        ours_fps = report.frames_written / ours_s

        frames = [read_frame(p).pixels for p in paths[:max(args.colour_frames,
                                                            args.ocio_frames)]]
        lut = colour.read_LUT(str(cube))
        t0 = time.perf_counter()
        for pixels in frames[:args.colour_frames]:
            colour_out = colour_grade(pixels, lut, colour)
        colour_fps = args.colour_frames / (time.perf_counter() - t0)
        ours_one = read_frame(tmp / "out" / paths[args.colour_frames - 1].name).pixels
        max_diff_vs_colour = int(np.abs(ours_one.astype(np.int64) - colour_out).max())

        cpu = processor_for(spec, "uint16")
        h, w = frames[0].shape[:2]
        t0 = time.perf_counter()
        for pixels in frames[:args.ocio_frames]:
            out = np.empty_like(pixels)
            cpu.apply(ocio.PackedImageDesc(pixels, w, h, 3, ocio.BIT_DEPTH_UINT16, 2, 6, 6 * w),
                      ocio.PackedImageDesc(out, w, h, 3, ocio.BIT_DEPTH_UINT16, 2, 6, 6 * w))
        ocio_fps = args.ocio_frames / (time.perf_counter() - t0)

        still = np.ascontiguousarray(frames[0])
        t0 = time.perf_counter()
        preview = grade_preview(still, spec, width=1024)
        preview_scopes(preview, Path(tmp) / "scopes")
        preview_s = time.perf_counter() - t0

    result = {
        "frames": report.frames_written,
        "frame_size": [args.width, args.height],
        "ours_fps": round(ours_fps, 2),
        "colour_fps": round(colour_fps, 3),
        "colour_frames_measured": args.colour_frames,
        "ocio_inmemory_fps": round(ocio_fps, 2),
        "ocio_frames_measured": args.ocio_frames,
        "ratio_vs_colour": round(ours_fps / colour_fps, 2),
        "ratio_vs_ocio_inmemory": round(ours_fps / ocio_fps, 2),
        "preview_s": round(preview_s, 3),
        "max_diff_vs_colour_16bit": max_diff_vs_colour,
        "targets_met": bool(ours_fps / colour_fps >= 8 and ours_fps / ocio_fps >= 0.5
                            and preview_s < 1.0),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
