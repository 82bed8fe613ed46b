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
