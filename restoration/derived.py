"""What every derived sequence (a repair's, a grade's) shares: where it may be written, which
frames it covers, its report and its provenance file.

A derived sequence keeps its source's file names and format at 16 bits, in a folder that is
never the source folder nor inside it; a duplicated frame number is taken from its first file,
as the manifest lists it.
"""
from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DerivedReport:
    """What a run wrote: `names` are the output files in frame order, `data` the provenance
    (also written to `provenance` unless the caller asked for none)."""

    frames_written: int
    output: Path
    provenance: Path | None
    seconds: float
    names: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def code_version() -> str:
    """``"reelkeeper <version>"`` as installed, for provenance."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"reelkeeper {version('reelkeeper')}"
    except PackageNotFoundError:
        return "reelkeeper (not installed)"


def plan_frames(in_dir: Path, out_dir: Path, pattern: str | None,
                frames: tuple[int, int] | None, refuse: type[Exception],
                exclude: Collection[str] = ()):
    """The source's plan, its frames in order (``{frame: file name}`` and the sorted numbers)
    and the positions of those within `frames` (inclusive, the files' own numbers; all when
    None). Files named in `exclude` (frames that cannot be read) are left out as if they were
    missing: they are neither read nor written, and temporal context reaches across them.
    `refuse` (an exception class) is raised for an output inside the input or an empty range;
    restoration.inspect.UnusableSequence when there is no sequence."""
    from restoration.inspect import plan_sequence

    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if out_dir.resolve() == in_dir.resolve() or out_dir.resolve().is_relative_to(
            in_dir.resolve()):
        raise refuse(f"{out_dir}: the output must not be inside the input folder")
    plan = plan_sequence(in_dir, pattern)
    names: dict[int, str] = {}
    skipped = set(exclude)
    for frame, name in plan.entries:
        if name not in skipped:
            names.setdefault(frame, name)  # a duplicate's first name, as the manifest lists it
    order = sorted(names)
    targets = [i for i, f in enumerate(order) if frames is None or frames[0] <= f <= frames[1]]
    if not targets:
        raise refuse(f"no frame of {plan.pattern} is numbered within {frames[0]}-{frames[1]}"
                     if frames else f"{plan.pattern}: empty")
    return plan, names, order, targets


def write_provenance(out_dir: Path, provenance_path: Path | None | bool,
                     data: dict[str, Any]) -> Path | None:
    """True writes ``out_dir/provenance.json``, a path writes it there, False or None none."""
    from restoration.fixity import write_atomic

    if not provenance_path:
        return None
    path = Path(out_dir) / "provenance.json" if provenance_path is True else Path(
        provenance_path)
    write_atomic(path, json.dumps(data, indent=2).encode())
    return path


class Writes:
    """Finished frames handed to a writer thread while the next ones are computed.

    At most `limit` writes wait; each one that lands is counted and reported through
    `on_progress(written, total)`, and a write that failed raises here, in the caller's thread.
    """

    def __init__(self, executor: Any, total: int, on_progress: Any = None, limit: int = 2):
        self.executor, self.total = executor, total
        self.on_progress, self.limit = on_progress, limit
        self.pending: list[Any] = []
        self.written = 0

    def submit(self, fn: Any, *args: Any) -> None:
        self.pending.append(self.executor.submit(fn, *args))
        self._drain(self.limit)

    def finish(self) -> int:
        """Wait for every write; the number written."""
        self._drain(0)
        while self.pending:
            self._land()
        return self.written

    def _drain(self, limit: int) -> None:
        while self.pending and (len(self.pending) > limit or self.pending[0].done()):
            self._land()

    def _land(self) -> None:
        self.pending.pop(0).result()
        self.written += 1
        if self.on_progress:
            self.on_progress(self.written, self.total)
