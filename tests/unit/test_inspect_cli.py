"""`python -m restoration inspect`: real and damaged sequences, exit codes, untouched sources."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.external import external
from fixtures.frames import write_dpx

ROOT = Path(__file__).resolve().parents[2]
PAIR = external("sequence", "dpx_wav_pair")


def run_cli(command: str, *args: str) -> tuple[int, dict | None, str]:
    result = subprocess.run([sys.executable, "-m", "restoration", command, *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": os.environ["PATH"]})
    data = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result.returncode, data, result.stderr


def cli(*args: str) -> tuple[int, dict | None, str]:
    return run_cli("inspect", *args)


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir())}


def test_real_dpx_and_wav_pair(tmp_path):
    before = snapshot(PAIR)
    code, data, err = cli(str(PAIR), "--json", "--manifest", str(tmp_path))
    assert code == 0, err
    # PROVENANCE.md: 13 frames by FFmpeg, 176x144 RGB 8-bit, little-endian
    assert (data["frames"], data["first"], data["last"]) == (13, 1, 13)
    assert (data["width"], data["height"], data["bit_depth"]) == (176, 144, 8)
    assert data["descriptor"] == {"code": 50, "name": "RGB"}
    assert data["missing"] == [] and data["duplicates"] == [] and data["bad_frames"] == []
    assert data["others"] == ["test_000001.wav"]
    assert data["algorithms"] == ["sha256"]
    coreutils = subprocess.run(["sha256sum", *sorted(p.name for p in PAIR.glob("*.dpx"))],
                               cwd=PAIR, capture_output=True, text=True, check=True).stdout
    assert Path(data["manifest"]).read_text() == coreutils
    assert "87b7052d8ed95e374eaad29ddd82888c4bdaa6164c53e99f9d53511438b3c2ce  test_000001.dpx" \
        in coreutils  # the SHA-256 PROVENANCE.md gives
    info = (tmp_path / "bag-info.txt").read_text()
    assert f"Payload-Oxum: {13 * 77696}.13\n" in info
    assert snapshot(PAIR) == before


@pytest.fixture
def scan(tmp_path):
    folder = tmp_path / "scan"
    folder.mkdir()
    for i, frame in enumerate(range(86400, 86412)):
        if frame == 86403:
            continue  # a gap
        write_dpx(folder / f"reel.{frame:07d}.dpx", seed=i)
    return folder


def test_damaged_frames_are_named_and_the_rest_read(scan, tmp_path):
    truncated = scan / "reel.0086405.dpx"
    full = truncated.stat().st_size
    truncated.write_bytes(truncated.read_bytes()[: full - 100])
    (scan / "reel.0086406.dpx").write_bytes(b"")
    (scan / "reel.0086407.dpx").write_text("scanner log: this is not a picture\n" * 100)
    write_dpx(scan / "reel.0086408.dpx", width=64)           # another frame size
    write_dpx(scan / "reel.0086409.dpx", bits=16)            # another bit depth
    write_dpx(scan / "reel.086410.dpx")                      # a duplicate of frame 86410
    before = snapshot(scan)
    code, data, err = cli(str(scan), "--json", "--manifest", str(tmp_path / "m"))
    assert code == 0, err
    assert (data["frames"], data["first"], data["last"]) == (11, 86400, 86411)
    assert data["missing"] == [86403]
    assert data["duplicates"] == [["reel.0086410.dpx", "reel.086410.dpx"]]
    bad = {b["frame"]: b["error"] for b in data["bad_frames"]}
    assert sorted(bad) == [86405, 86406, 86407, 86408, 86409]
    assert "truncated" in bad[86405] and str(full - 100) in bad[86405]
    assert "truncated" in bad[86406] or "empty" in bad[86406]
    assert "not a DPX file" in bad[86407]
    assert "64x20" in bad[86408] and "48x20" in bad[86408]
    assert "16-bit" in bad[86409] and "10-bit" in bad[86409]
    assert (data["width"], data["height"], data["bit_depth"], data["fps"]) == (48, 20, 10, 24.0)
    assert isinstance(data["frames"], int) and all(isinstance(m, int) for m in data["missing"])
    names = [line.split("  ")[1] for line in Path(data["manifest"]).read_text().splitlines()]
    assert names[:3] == ["reel.0086400.dpx", "reel.0086401.dpx", "reel.0086402.dpx"]
    assert len(names) == 12  # every file received, the duplicate included, in frame order
    assert snapshot(scan) == before


def test_several_sequences_need_a_choice(scan):
    write_dpx(scan / "other.0001.dpx")
    write_dpx(scan / "other.0002.dpx")
    code, data, err = cli(str(scan), "--json")
    assert code == 1
    assert "reel.#######.dpx" in err and "other.####.dpx" in err
    code, data, _ = cli(str(scan), "--json", "--sequence", "other.####.dpx")
    assert code == 0 and data["frames"] == 2
    code, data, _ = cli(str(scan), "--json", "--sequence", "reel.*.dpx")
    assert code == 0 and data["frames"] == 11


def test_unusable_and_refused(tmp_path, scan):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(str(empty), "--json")[0] == 1
    assert cli(str(tmp_path / "nowhere"), "--json")[0] == 2
    code, _, err = cli(str(scan), "--json", "--manifest", str(scan / "meta"))
    assert code == 2 and "source folder" in err and not (scan / "meta").exists()
    assert cli(str(scan), "--bogus-flag")[0] == 2
    junk = tmp_path / "junk"
    junk.mkdir()
    for i in range(3):
        (junk / f"f.{i:04d}.dpx").write_bytes(b"nope")
    code, data, _ = cli(str(junk), "--json")
    assert code == 1 and len(data["bad_frames"]) == 3 and data["width"] is None


def test_tiff_sequence_with_lzw_and_a_bad_frame(tmp_path):
    import numpy as np
    import tifffile

    folder = tmp_path / "tiffs"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for n in range(1, 6):
        tifffile.imwrite(folder / f"neg_{n:04d}.tif",
                         rng.integers(0, 65535, (24, 40, 3), dtype=np.uint16),
                         photometric="rgb", compression="lzw")
    bad = folder / "neg_0004.tif"
    bad.write_bytes(bad.read_bytes()[:300])
    before = snapshot(folder)
    code, data, err = cli(str(folder), "--json")
    assert code == 0, err
    assert (data["frames"], data["width"], data["height"], data["bit_depth"]) == (5, 40, 24, 16)
    assert data["channels"] == 3
    assert [b["frame"] for b in data["bad_frames"]] == [4]
    # DPX-only facts are null for TIFF
    assert data["descriptor"] is None and data["timecode"] is None and data["keycode"] is None
    assert snapshot(folder) == before


def analyze(*args: str) -> tuple[int, dict | None, str]:
    return run_cli("analyze", *args)


def test_analyze_cli_reports_metrics_and_names_unreadable_frames(tmp_path, scan):
    (scan / "reel.0086407.dpx").write_text("not a frame")
    code, data, err = analyze(str(scan), "--json", "--save", str(tmp_path / "m.npz"))
    assert code == 0, err
    assert data["frames"] == 10  # 11 files, one unreadable
    assert [u["frame"] for u in data["unreadable"]] == [86407]
    assert len(data["metrics"]) == 10 and "mean_luma" in data["metrics"][0]
    assert "summary" in data["defects"]
    assert (tmp_path / "m.npz").stat().st_size > 0
    assert analyze(str(scan), "--json", "--save", str(scan / "m.npz"))[0] == 2
    assert analyze(str(tmp_path / "nope"))[0] == 2
