"""A raw-scan Sequence as the JSON object `import_scan` prints (the same keys as
`python -m restoration inspect`, plus the archive's own)."""
from __future__ import annotations

from typing import Any


def sequence_report(seq: Any) -> dict[str, Any]:
    return {
        "accession": seq.reel.accession, "sequence": seq.pk, "version": seq.version,
        "state": seq.state, "folder": seq.root_path, "pattern": seq.pattern,
        "frames": seq.frame_count, "first": seq.first_frame, "last": seq.last_frame,
        "missing": seq.missing, "duplicates": seq.duplicates, "bad_frames": seq.bad_frames,
        "warnings": seq.warnings, "width": seq.width, "height": seq.height,
        "bit_depth": seq.bit_depth, "channels": seq.channels, "descriptor": seq.descriptor,
        "transfer": seq.transfer, "colorimetric": seq.colorimetric, "fps": seq.fps,
        "timecode": seq.start_timecode or None, "keycode": seq.keycode_first,
        "keycode_last": seq.keycode_last, "scanner": seq.scanner or None,
        "creator": seq.creator or None, "bytes": seq.bytes,
        "manifest": seq.manifest_path or None, "manifest_digest": seq.manifest_digest or None,
        "algorithms": [seq.manifest_algorithm] if seq.manifest_algorithm else [],
        "error": seq.error or None,
    }


def import_progress(sequence: Any) -> tuple[int, int]:
    """(files done, files to do) of a sequence's import, or of a repair's output; resumed
    attempts counted once."""
    from workflow.models import Job, JobState

    if sequence.kind in ("repaired", "graded"):
        kind = "repair_chunk" if sequence.kind == "repaired" else "grade_chunk"
        total = sequence.frame_count
    else:
        kind = "ingest_chunk"
        total = sequence.frame_count + sum(len(group) - 1 for group in sequence.duplicates)
    finished: set[tuple[int, int]] = set()
    running = 0
    for job in Job.objects.filter(kind=kind, args__sequence=sequence.pk):
        if job.state == JobState.DONE:
            finished.add((job.args["start"], job.args["stop"]))
        elif job.state == JobState.RUNNING:
            running += job.done
    done = sum(stop - start for start, stop in finished) + running
    return min(done, total), total
