"""Repair recipes over real DPX sequences: chunking invariance, ranges, upscale, provenance."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.frames import write_sequence
from restoration.repair.ops import RecipeError
from restoration.repair.pipeline import check_recipe, repair_sequence

ROOT = Path(__file__).resolve().parents[2]


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*.dpx"))}


@pytest.fixture
def scan(tmp_path):
    folder = tmp_path / "scan"
    write_sequence(folder, range(100, 112), width=32, height=24)
    return folder


RECIPE = [{"op": "dust"}, {"op": "deflicker"}, {"op": "denoise"}]


def test_any_chunking_gives_the_same_bytes(scan, tmp_path):
    a = repair_sequence(scan, tmp_path / "a", RECIPE, chunk=12)
    b = repair_sequence(scan, tmp_path / "b", RECIPE, chunk=3)
    assert a.frames_written == b.frames_written == 12
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert sorted(digests(tmp_path / "a")) == sorted(p.name for p in scan.glob("*.dpx"))


def test_a_range_reads_its_context_and_matches_the_full_run(scan, tmp_path):
    repair_sequence(scan, tmp_path / "full", RECIPE)
    part = repair_sequence(scan, tmp_path / "part", RECIPE, frames=(104, 107))
    assert part.frames_written == 4
    full, partial = digests(tmp_path / "full"), digests(tmp_path / "part")
    assert partial == {k: full[k] for k in partial}
    assert sorted(partial) == [f"reel.{n:07d}.dpx" for n in range(104, 108)]


def test_output_is_16_bit_and_provenance_records_the_run(scan, tmp_path):
    import OpenImageIO as oiio

    before = digests(scan)
    report = repair_sequence(scan, tmp_path / "out", [{"op": "dust"}])
    spec = oiio.ImageInput.open(str(tmp_path / "out" / "reel.0000100.dpx")).spec()
    assert spec.get_int_attribute("oiio:BitsPerSample") == 16
    prov = json.loads(report.provenance.read_text())
    assert prov["frames"] == [100, 111] and prov["frames_written"] == 12
    assert prov["recipe"][0]["op"] == "dust" and len(prov["recipe"][0]) > 1  # defaults filled
    assert prov["invents_detail"] == [] and prov["models"] == []
    assert digests(scan) == before  # the input is only read


def test_upscale_records_model_digest_and_tile(scan, tmp_path):
    import torch

    from restoration.repair.networks import SRVGGNetCompact

    torch.manual_seed(0)
    weights = tmp_path / "tiny-x2.pth"
    torch.save({"params": SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2).state_dict()},
               weights)
    report = repair_sequence(scan, tmp_path / "up", [{"op": "upscale", "model": str(weights),
                                                      "tile": 16}], frames=(100, 101))
    import OpenImageIO as oiio

    spec = oiio.ImageInput.open(str(tmp_path / "up" / "reel.0000100.dpx")).spec()
    assert (spec.width, spec.height) == (64, 48)
    prov = json.loads(report.provenance.read_text())
    assert prov["models"][0]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert prov["invents_detail"] == ["upscale"] and prov["tiling"]["tile"] == 16


@pytest.mark.parametrize("recipe,words", [
    ([], "non-empty"), ([{"op": "sharpen"}], "sharpen"), ([{"op": "dust", "speed": 3}], "speed"),
    ([{"op": "upscale"}], "model"), ([{"op": "upscale", "model": "m.pth"}, {"op": "dust"}],
                                     "last"), ("dust", "list"),
])
def test_bad_recipes_are_refused_by_name(recipe, words):
    with pytest.raises(RecipeError, match=words):
        check_recipe(recipe)


def cli(*args: str) -> tuple[int, str, str]:
    r = subprocess.run([sys.executable, "-m", "restoration", "repair", *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=120,
                       env={"PATH": os.environ["PATH"]})
    return r.returncode, r.stdout, r.stderr


def test_cli_exit_codes(scan, tmp_path):
    good = tmp_path / "r.json"
    good.write_text(json.dumps([{"op": "scratch"}]))
    code, out, err = cli("--recipe", str(good), str(scan), str(tmp_path / "o"), "--json",
                         "--frames", "100-102")
    assert code == 0, err
    data = json.loads(out)
    assert data["frames_written"] == 3 and Path(data["provenance"]).exists()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"op": "dust", "threshold": "high"}]))
    assert cli("--recipe", str(bad), str(scan), str(tmp_path / "o2"))[0] == 2
    assert cli("--recipe", str(good), str(scan), str(scan / "inside"))[0] == 2
    assert cli("--recipe", str(good), str(scan), str(tmp_path / "o3"), "--frames", "9-1")[0] == 2
    (scan / "reel.0000105.dpx").write_bytes(b"broken")
    code, _, err = cli("--recipe", str(good), str(scan), str(tmp_path / "o4"))
    assert code == 1 and "105" in err
    assert "dust" in cli("--help")[1] or "dust" in subprocess.run(
        [sys.executable, "-m", "restoration", "repair", "--help"], cwd=ROOT,
        capture_output=True, text=True).stdout


def test_each_frame_is_read_once_however_small_the_chunks(scan, tmp_path, monkeypatch):
    import restoration.io

    reads: list[str] = []
    real = restoration.io.read_frame

    def counting(path, *args, **kwargs):
        reads.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(restoration.io, "read_frame", counting)
    repair_sequence(scan, tmp_path / "a", RECIPE, chunk=2, frames=(103, 108))
    # deflicker reaches 10 frames each side: the whole 12-frame scan is context, read once each
    assert sorted(reads) == sorted(p.name for p in scan.glob("*.dpx"))


def test_a_fast_precision_records_its_measured_deviation(scan, tmp_path):
    import numpy as np
    import torch

    from restoration.io import read_frame
    from restoration.repair.networks import SRVGGNetCompact

    torch.manual_seed(1)
    weights = tmp_path / "tiny-x2.pth"
    torch.save({"params": SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2).state_dict()},
               weights)
    step = {"op": "upscale", "model": str(weights), "tile": 16}
    exact = repair_sequence(scan, tmp_path / "fp32", [step], frames=(100, 100))
    fast = repair_sequence(scan, tmp_path / "bf16", [{**step, "precision": "bf16"}],
                           frames=(100, 100))
    assert exact.data["tiling"].get("deviation_vs_fp32") is None
    recorded = fast.data["tiling"]["deviation_vs_fp32"]
    # the recorded figure is what the two runs' files really differ by
    a = read_frame(tmp_path / "fp32" / "reel.0000100.dpx").pixels.astype(np.int64)
    b = read_frame(tmp_path / "bf16" / "reel.0000100.dpx").pixels.astype(np.int64)
    assert recorded["frame"] == 100 and recorded["max_abs_16bit"] == int(np.abs(a - b).max()) > 0


def test_the_readme_lists_every_parameter_with_its_unit_range_and_default():
    from restoration.repair.ops import OPS

    readme = (ROOT / "README.md").read_text()
    for name, op in OPS.items():
        for p in op.params:
            row = (f"| `{name}` | `{p.name}` | {p.unit} | {p.low:g}–{p.high:g} | "
                   f"{p.default:g} |")
            assert row in readme, f"README lacks or misstates {name}.{p.name}: {row}"
        assert f"`{name}` {op.context}" in readme.replace(",", "") or op.context == 0, name
    for key in ("model", "tile", "overlap", "batch", "precision"):
        assert f"| `upscale` | `{key}` |" in readme
