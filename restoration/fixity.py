"""Fixity: one read of each file feeds every digest (and whatever else wants the bytes).

SHA-256 is the fixity of record, written as a BagIt payload manifest (`manifest-sha256.txt`: one
line per file, `<lowercase hex><two spaces><path relative to the folder>\\n`, in the order given,
which for a sequence is frame order, so the same frames always give the same bytes). A fast
non-cryptographic digest (xxh3-128) may be kept beside it for copy checks; every digest is
stored with its algorithm's name.

Files are read whole into one buffer each (frames are megabytes, not gigabytes) on a pool of
threads: `readinto` and hashlib's update both release the GIL on large buffers, so two threads
use two cores.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# BagIt manifests may only use hashlib algorithms; xxh3_128 is a side file for copy checks.
MANIFEST_ALGORITHMS = ("sha256", "sha512", "sha1", "md5")
FAST_ALGORITHMS = ("xxh3_128",)
STREAM_ABOVE = 512 * 2**20  # larger files are hashed in chunks and not handed on whole
CHUNK = 8 * 2**20
HASH_SLICE = 2 * 2**20  # read and hash in slices that stay in cache


class FixityError(OSError):
    """A file could not be read; the message names it."""


def new_hasher(algorithm: str) -> Any:
    """A hashlib-style object (`update`, `hexdigest`) for one of the supported algorithms."""
    if algorithm in MANIFEST_ALGORITHMS:
        return hashlib.new(algorithm)
    if algorithm == "xxh3_128":
        import xxhash

        return xxhash.xxh3_128()
    raise ValueError(f"unknown digest algorithm {algorithm!r}; expected one of "
                     f"{', '.join(MANIFEST_ALGORITHMS + FAST_ALGORITHMS)}")


@dataclass
class FileResult:
    """What one read of one file gave: its size, digests and what the inspector said."""

    name: str
    size: int
    digests: dict[str, str]
    extra: Any = None  # the inspector's result (e.g. a DPX FrameCheck)
    error: str = ""  # the file could not be read at all


_local = threading.local()


def _thread_buffer(size: int) -> memoryview:
    """A reusable buffer per reading thread: frames of a sequence are all about the same size,
    and reusing one buffer keeps the process's memory flat (fresh 10-50 MB allocations per
    frame fragment the allocator's per-thread arenas). What `inspect` returns must not keep a
    reference to it."""
    buf = getattr(_local, "buf", None)
    if buf is None or len(buf) < size:
        buf = bytearray(max(size, 1))
        _local.buf = buf
    return memoryview(buf)[:size]


def digest_file(path: Path, algorithms: Sequence[str],
                inspect: Callable[[memoryview, str, int], Any] | None = None,
                name: str | None = None) -> FileResult:
    """Read `path` once, feed every digest and (for files up to STREAM_ABOVE) `inspect`.

    `inspect(buffer, name, size)` sees the whole file's bytes; for a larger file it sees only the
    first chunk. The buffer is reused for the next file read on this thread, so `inspect` must
    copy whatever it keeps. A read failure becomes `FileResult.error`, never an exception.
    """
    label = name or path.name
    hashers = {a: new_hasher(a) for a in algorithms}
    try:
        with open(path, "rb", buffering=0) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size <= STREAM_ABOVE:
                view = _thread_buffer(size)
                got = 0
                while got < size:
                    # Hash each slice as soon as it is read, while it is still in the CPU cache.
                    n = fh.readinto(view[got:got + HASH_SLICE])
                    if not n:
                        break
                    for h in hashers.values():
                        h.update(view[got:got + n])
                    got += n
                if got != size:  # the file shrank while we read it
                    view = view[:got]
                    size = got
                extra = inspect(view, label, size) if inspect else None
            else:
                first: memoryview | None = None
                chunk = bytearray(CHUNK)
                cview = memoryview(chunk)
                total = 0
                while True:
                    n = fh.readinto(cview)
                    if not n:
                        break
                    for h in hashers.values():
                        h.update(cview[:n])
                    if first is None:
                        first = memoryview(bytes(cview[:n]))
                    total += n
                size = total
                extra = inspect(first or memoryview(b""), label, size) if inspect else None
    except OSError as exc:
        return FileResult(label, 0, {}, None, f"{label}: cannot be read ({exc.strerror or exc})")
    return FileResult(label, size, {a: h.hexdigest() for a, h in hashers.items()}, extra)


def digest_files(paths: Iterable[Path], algorithms: Sequence[str] = ("sha256",), *,
                 inspect: Callable[[memoryview, str, int], Any] | None = None,
                 workers: int | None = None,
                 on_progress: Callable[[int, int], None] | None = None,
                 names: Iterable[str] | None = None) -> Iterator[FileResult]:
    """Digest many files on `workers` threads; results come back in the order given.

    At most about 2 x workers files are in memory at once, however many files there are.
    """
    paths = list(paths)
    labels = list(names) if names is not None else [p.name for p in paths]
    total = len(paths)
    workers = workers or min(8, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fixity") as pool:
        window: list[Any] = []
        it = iter(zip(paths, labels, strict=True))
        done = 0

        def submit_next() -> bool:
            try:
                p, label = next(it)
            except StopIteration:
                return False
            window.append(pool.submit(digest_file, p, algorithms, inspect, label))
            return True

        for _ in range(2 * workers):
            if not submit_next():
                break
        while window:
            result = window.pop(0).result()
            submit_next()
            done += 1
            if on_progress:
                on_progress(done, total)
            yield result


@dataclass
class Manifest:
    path: Path
    digest: str  # SHA-256 of the manifest file's own bytes
    algorithm: str
    files: int
    bytes: int
    extra_files: list[Path] = field(default_factory=list)


def manifest_text(entries: Iterable[tuple[str, str]]) -> str:
    """BagIt manifest lines for (relative path, hex digest) pairs, in the order given."""
    lines = []
    for rel, digest in entries:
        if "\n" in rel or "\r" in rel:
            raise ValueError(f"{rel!r}: a file name with a line break cannot go in a manifest")
        lines.append(f"{digest.lower()}  {rel}\n")
    return "".join(lines)


def write_atomic(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write to a temporary name beside `path`, then rename: never a half-written file.
    `sync` (default) makes the bytes durable before the rename; images made for the screen,
    which can be made again, skip it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_manifest(folder: Path, results: Sequence[FileResult], *, algorithm: str = "sha256",
                   bag_info: dict[str, str] | None = None) -> Manifest:
    """Write `manifest-<algorithm>.txt` and `bag-info.txt` into `folder`.

    `bag-info.txt` holds Payload-Oxum (`<bytes>.<files>`) and the `bag_info` facts, one
    `Label: value` line each, in the order given.
    """
    if algorithm not in MANIFEST_ALGORITHMS:
        raise ValueError(f"{algorithm}: a BagIt manifest needs one of {MANIFEST_ALGORITHMS}")
    good = [r for r in results if algorithm in r.digests]
    text = manifest_text((r.name, r.digests[algorithm]) for r in good).encode("utf-8")
    path = folder / f"manifest-{algorithm}.txt"
    write_atomic(path, text)
    total = sum(r.size for r in good)
    info = {"Payload-Oxum": f"{total}.{len(good)}", **(bag_info or {})}
    info_text = "".join(f"{k}: {' '.join(str(v).split())}\n" for k, v in info.items())
    write_atomic(folder / "bag-info.txt", info_text.encode("utf-8"))
    extra = []
    for fast in FAST_ALGORITHMS:
        if all(fast in r.digests for r in good) and good:
            side = folder / f"fixity-{fast}.txt"
            write_atomic(side, manifest_text((r.name, r.digests[fast]) for r in good).encode())
            extra.append(side)
    return Manifest(path, hashlib.sha256(text).hexdigest(), algorithm, len(good), total, extra)


def read_manifest(path: Path) -> list[tuple[str, str]]:
    """(relative path, digest) pairs of a manifest, checked line by line."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep or not digest or not rel or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{path}: line {number} is not '<hex digest>  <path>': {line!r}")
        pairs.append((rel, digest))
    return pairs
