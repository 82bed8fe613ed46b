"""Scan-import speed: our inspection + SHA-256 manifest against the disk and hashing limits.

    python benchmarks/ingest.py --json [--frames 120] [--repeat 3] [--dir DIR]

Writes N frames of 2K (2048x1556) 10-bit DPX with film-like content (grain over soft
gradients, different per frame) with OpenImageIO, warms the page cache, then times, best of
--repeat each, all reading the same files:
  (a) cat of the files (the read limit), (b) coreutils sha256sum, (c) a bare two-thread hashlib
  SHA-256 pass reading 4 MiB chunks (the compute limit), (d) our inspect_sequence with the
  SHA-256 manifest in-process (2 workers), (e) `python -m restoration inspect --json
  --manifest` as a subprocess, start-up included. Proxies and the fast digest are off.
Peak memory (max RSS) of (e)-style runs at N/2 and N frames shows memory does not grow with
the sequence. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
W, H = 2048, 1556


def write_frames(folder: Path, n: int, start: int = 86400) -> list[Path]:
    import numpy as np
    import OpenImageIO as oiio

    rng = np.random.default_rng(1895)
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    base = 0.35 + 0.25 * np.sin(x / 310.0)[..., None] * np.cos(y / 270.0)[..., None] * \
        np.array([1.0, 0.9, 0.8], np.float32)
    grain = [rng.normal(0, 0.02, (H, W, 3)).astype(np.float32) for _ in range(4)]
    paths = []
    for i in range(n):
        flicker = 1.0 + 0.03 * np.sin(i / 3.0)
        img = base * flicker + np.roll(grain[i % 4], shift=(i * 7, i * 13), axis=(0, 1))
        codes = np.clip(img * 1023.0 + 0.5, 0, 1023).astype(np.uint16)
        pixels = (codes << 6) | (codes >> 4)  # full-range uint16, as OpenImageIO expects
        path = folder / f"reel.{start + i:07d}.dpx"
        out = oiio.ImageOutput.create(str(path))
        spec = oiio.ImageSpec(W, H, 3, "uint16")
        spec.attribute("oiio:BitsPerSample", 10)
        spec.attribute("dpx:Transfer", "Printing density")
        spec.attribute("dpx:Colorimetric", "Printing density")
        spec.attribute("dpx:FrameRate", 24.0)
        if not out.open(str(path), spec):
            raise RuntimeError(oiio.geterror())
        out.write_image(pixels)
        out.close()
        paths.append(path)
    return paths


def best(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def hashlib_two_threads(paths: list[Path]) -> None:
    def one(p: Path) -> str:
        h = hashlib.sha256()
        with open(p, "rb", buffering=0) as fh:
            while chunk := fh.read(4 * 2**20):
                h.update(chunk)
        return h.hexdigest()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, paths))


# VmHWM (peak resident memory) of this process alone: ru_maxrss would carry over, through
# fork and exec, the benchmark's own peak from writing the frames.
RSS_SCRIPT = """
import sys
from pathlib import Path
from restoration.inspect import inspect_sequence
inspect_sequence(Path(sys.argv[1]), manifest_dir=Path(sys.argv[2]), workers=2)
status = Path("/proc/self/status").read_text().splitlines()
print(int(next(l for l in status if l.startswith("VmHWM:")).split()[1]) * 1024)
"""


def peak_rss(folder: Path, out: Path) -> int:
    result = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(folder), str(out)],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return int(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the frames")
    args = parser.parse_args()

    from restoration.inspect import inspect_sequence

    work = Path(tempfile.mkdtemp(prefix="rk-ingest-bench-", dir=args.dir))
    try:
        frames_dir = work / "scan"
        frames_dir.mkdir()
        paths = write_frames(frames_dir, args.frames)
        half_dir = work / "half"
        half_dir.mkdir()
        for p in paths[: args.frames // 2]:
            os.link(p, half_dir / p.name)
        total = sum(p.stat().st_size for p in paths)
        names = [str(p) for p in paths]
        subprocess.run(["cat", *names], stdout=subprocess.DEVNULL, check=True)  # warm the cache

        cat_s = best(args.repeat, lambda: subprocess.run(
            ["cat", *names], stdout=subprocess.DEVNULL, check=True))
        sha256sum_s = best(args.repeat, lambda: subprocess.run(
            ["sha256sum", *names], stdout=subprocess.DEVNULL, check=True))
        two_thread_s = best(args.repeat, lambda: hashlib_two_threads(paths))
        ours_s = best(args.repeat, lambda: inspect_sequence(
            frames_dir, manifest_dir=work / "m-inproc", workers=2))
        ours_cli_s = best(args.repeat, lambda: subprocess.run(
            [sys.executable, "-m", "restoration", "inspect", str(frames_dir), "--json",
             "--manifest", str(work / "m-cli"), "--workers", "2"],
            cwd=ROOT, stdout=subprocess.DEVNULL, check=True))
        # the manifest of record must match coreutils' digests
        ours = (work / "m-cli" / "manifest-sha256.txt").read_text().split()
        theirs = subprocess.run(["sha256sum", *[p.name for p in paths]], cwd=frames_dir,
                                capture_output=True, text=True, check=True).stdout.split()
        assert ours == theirs, "our manifest differs from sha256sum's"
        result = {
            "frames": args.frames, "bytes": total,
            "cat_s": round(cat_s, 4), "sha256sum_s": round(sha256sum_s, 4),
            "sha256_2thread_s": round(two_thread_s, 4), "ours_s": round(ours_s, 4),
            "ours_cli_s": round(ours_cli_s, 4),
            "ratio_vs_sha256sum": round(sha256sum_s / ours_cli_s, 3),
            "ratio_vs_sha256_2thread": round(two_thread_s / ours_s, 3),  # c/d: 0.8 = within 1.25x
            "peak_rss_bytes": {str(args.frames // 2): peak_rss(half_dir, work / "m-half"),
                               str(args.frames): peak_rss(frames_dir, work / "m-full")},
            "manifest_matches_sha256sum": True,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
