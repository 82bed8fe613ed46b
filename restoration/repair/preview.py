"""Before and after a repair, side by side: display images of the same frames and the analysis
of both, for the restorer choosing a recipe.

The before and after images of a frame are made the same display size (an upscaled frame is
shown at the size of its source) with the same viewing transform, so a toggle or a slider
between them shows what the recipe changed and nothing else. Nothing here knows about Django.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Comparison:
    """What :func:`compare` wrote into its folder.

    Attributes
    ----------
    frames : frame numbers, in order.
    images : ``{frame: {"before": name, "after": name}}``: JPEG names under the folder.
    metrics : ``{"before": rows, "after": rows}``: :meth:`AnalysisResult.to_rows` of each side.
    """

    frames: list[int]
    images: dict[int, dict[str, str]]
    metrics: dict[str, list[dict[str, Any]]]

    def to_json(self) -> dict[str, Any]:
        return {"frames": self.frames,
                "images": {str(k): v for k, v in self.images.items()},
                "metrics": self.metrics}


def compare(before_dir: Path, after_dir: Path, entries: list[tuple[int, str]], out_dir: Path, *,
            kind: str = "display", max_side: int = 960,
            on_progress: Callable[[int, int], None] | None = None) -> Comparison:
    """Write before/after JPEGs of each frame and the per-frame analysis of both sides.

    Parameters
    ----------
    before_dir, after_dir : folders holding the frames before and after the repair, with the
        same file names.
    entries : (frame number, file name) of the frames to compare, in playing order.
    out_dir : where ``before-<frame>.jpg``, ``after-<frame>.jpg`` and ``comparison.json`` go.
    kind : viewing transform (:func:`restoration.proxies.viewing_transform`).
    max_side : longest side of the images, pixels.

    Returns
    -------
    Comparison
    """
    from restoration.analysis import analyze_frames
    from restoration.fixity import write_atomic
    from restoration.io import read_frame
    from restoration.proxies import thumbnail, write_jpeg

    out_dir.mkdir(parents=True, exist_ok=True)
    images: dict[int, dict[str, str]] = {frame: {} for frame, _ in entries}
    sizes: dict[int, int] = {}
    done = 0

    def side(label: str, folder: Path):  # streamed: one frame held at a time
        nonlocal done
        for frame, name in entries:
            pixels = read_frame(folder / name).pixels
            # both sides at the source's display size (an upscaled frame is shown smaller)
            size = sizes.setdefault(frame, min(max_side, max(pixels.shape[:2])))
            target = f"{label}-{frame}.jpg"
            write_jpeg(thumbnail(pixels, kind, size), out_dir / target)
            images[frame][label] = target
            done += 1
            if on_progress:
                on_progress(done, 2 * len(entries))
            yield frame, pixels

    metrics = {label: analyze_frames(side(label, folder)).to_rows()
               for label, folder in (("before", before_dir), ("after", after_dir))}
    result = Comparison([f for f, _ in entries], images, metrics)
    write_atomic(out_dir / "comparison.json", json.dumps(result.to_json()).encode())
    return result
