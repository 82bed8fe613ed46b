"""Fixity: digests and manifests checked against coreutils and the BagIt layout, not ourselves."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from restoration import fixity


def make_files(folder: Path, sizes: list[int]) -> list[Path]:
    paths = []
    for i, size in enumerate(sizes):
        p = folder / f"f.{i:04d}.bin"
        p.write_bytes(os.urandom(size))
        paths.append(p)
    return paths


def test_digests_agree_with_coreutils_and_come_back_in_order(tmp_path):
    paths = make_files(tmp_path, [0, 1, 4096, 3 * 2**20 + 7, 17, 2**20])
    results = list(fixity.digest_files(paths, ("sha256", "md5"), workers=3))
    assert [r.name for r in results] == [p.name for p in paths]
    for tool, algo in (("sha256sum", "sha256"), ("md5sum", "md5")):
        out = subprocess.run([tool, *[p.name for p in paths]], cwd=tmp_path, capture_output=True,
                             text=True, check=True).stdout.split()
        assert [r.digests[algo] for r in results] == out[0::2]
    assert [r.size for r in results] == [p.stat().st_size for p in paths]


def test_large_files_are_streamed_with_the_same_digest(tmp_path, monkeypatch):
    monkeypatch.setattr(fixity, "STREAM_ABOVE", 1000)
    monkeypatch.setattr(fixity, "CHUNK", 333)
    (path,) = make_files(tmp_path, [5000])
    seen = {}

    def inspect(buf, name, size):
        seen["len"], seen["size"] = len(buf), size
        return "checked"

    result = fixity.digest_file(path, ("sha256",), inspect)
    assert result.digests["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.extra == "checked" and seen == {"len": 333, "size": 5000}


def test_manifest_is_bagit_format_and_matches_sha256sum_check(tmp_path):
    src = tmp_path / "scan"
    src.mkdir()
    paths = make_files(src, [10, 20, 30])
    results = list(fixity.digest_files(paths))
    out = tmp_path / "meta"
    manifest = fixity.write_manifest(out, results, bag_info={"Frame-Count": "3"})
    text = manifest.path.read_bytes()
    assert manifest.path.name == "manifest-sha256.txt"
    assert manifest.digest == hashlib.sha256(text).hexdigest()
    lines = text.decode().splitlines(keepends=True)
    assert len(lines) == 3 and all(line.endswith("\n") for line in lines)
    assert lines[0] == f"{hashlib.sha256(paths[0].read_bytes()).hexdigest()}  f.0000.bin\n"
    # coreutils can check our manifest as it is
    check = subprocess.run(["sha256sum", "--check", "--strict", str(manifest.path)], cwd=src,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert (out / "bag-info.txt").read_text() == "Payload-Oxum: 60.3\nFrame-Count: 3\n"
    assert fixity.read_manifest(manifest.path) == [(r.name, r.digests["sha256"]) for r in results]


def test_same_frames_give_the_same_manifest_bytes(tmp_path):
    paths = make_files(tmp_path, [100, 200, 300, 400])
    a = fixity.write_manifest(tmp_path / "a", list(fixity.digest_files(paths, workers=1)))
    b = fixity.write_manifest(tmp_path / "b", list(fixity.digest_files(paths, workers=4)))
    assert a.digest == b.digest


def test_fast_digest_side_file(tmp_path):
    import xxhash

    paths = make_files(tmp_path, [1000, 2000])
    results = list(fixity.digest_files(paths, ("sha256", "xxh3_128")))
    m = fixity.write_manifest(tmp_path / "m", results)
    side = (tmp_path / "m" / "fixity-xxh3_128.txt").read_text().split()
    assert side[0] == xxhash.xxh3_128(paths[0].read_bytes()).hexdigest()
    assert m.extra_files == [tmp_path / "m" / "fixity-xxh3_128.txt"]


def test_unreadable_file_is_reported_by_name_not_raised(tmp_path):
    result = fixity.digest_file(tmp_path / "gone.dpx", ("sha256",))
    assert result.error.startswith("gone.dpx: cannot be read")


@pytest.mark.parametrize("line", ["nothex  a.dpx", "abc a.dpx", "  a.dpx", "abc  "])
def test_malformed_manifest_lines_are_named(tmp_path, line):
    path = tmp_path / "manifest-sha256.txt"
    path.write_text(f"{'a' * 64}  ok.dpx\n{line}\n")
    with pytest.raises(ValueError, match="line 2"):
        fixity.read_manifest(path)


def test_unknown_algorithm_refused():
    with pytest.raises(ValueError, match="unknown digest algorithm 'crc32'"):
        fixity.new_hasher("crc32")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    fixity.write_atomic(tmp_path / "x.txt", b"one")
    fixity.write_atomic(tmp_path / "x.txt", b"two")
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]
    assert (tmp_path / "x.txt").read_bytes() == b"two"
