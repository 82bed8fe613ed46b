"""Proxies of a sequence for people to look at: thumbnails, contact sheets, a viewing transform.

Scans in printing density or logarithmic encoding look washed out on a display as they are, so
the viewing transform decodes them with the Cineon log curve (colour-science), then encodes
sRGB for the screen. Proxies are written under the sequence's storage folder; the source
frames are only read.
"""
from __future__ import annotations

import io as _io
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# DPX transfer codes (SMPTE ST 268) that mean log / printing-density encoded scans.
LOG_TRANSFERS = {1, 3}  # printing density, logarithmic
LINEAR_TRANSFERS = {2}


def transfer_kind(transfer_code: int | None) -> str:
    """'log', 'linear' or 'display' (video or unknown: shown as it is)."""
    if transfer_code in LOG_TRANSFERS:
        return "log"
    if transfer_code in LINEAR_TRANSFERS:
        return "linear"
    return "display"


def _colour():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # colour-science warns that SciPy/Matplotlib are absent
        import colour
    return colour


def viewing_transform(pixels: np.ndarray, kind: str) -> np.ndarray:
    """Display-ready 8-bit RGB (or grey) from a frame.

    Parameters
    ----------
    pixels : (h, w, c) uint16 at full range (value/65535) or float in [0, 1].
    kind : 'log' (Cineon printing density: decoded to linear, then sRGB), 'linear' (sRGB
        encoded) or 'display' (shown as it is).
    """
    x = pixels.astype(np.float32) / 65535.0 if pixels.dtype == np.uint16 else \
        pixels.astype(np.float32)
    if x.ndim == 3 and x.shape[2] == 4:
        x = x[..., :3]  # alpha is not shown
    if kind in ("log", "linear"):
        colour = _colour()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "log":
                x = colour.models.log_decoding_Cineon(x)
            x = colour.cctf_encoding(np.clip(x, 0.0, 1.0), function="sRGB")
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _image(arr: np.ndarray):
    from PIL import Image

    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    return Image.fromarray(arr)


def thumbnail(pixels: np.ndarray, kind: str, max_side: int = 320) -> np.ndarray:
    """An 8-bit thumbnail whose longest side is `max_side` pixels."""
    im = _image(viewing_transform(pixels, kind))
    im.thumbnail((max_side, max_side))
    return np.asarray(im)


def write_jpeg(arr: np.ndarray, path: Path, quality: int = 85) -> None:
    """Write a JPEG to a temporary name beside `path`, then rename it into place."""
    from restoration.fixity import write_atomic

    buf = _io.BytesIO()
    _image(arr).convert("RGB").save(buf, "JPEG", quality=quality)
    write_atomic(path, buf.getvalue(), sync=False)


def contact_sheet(thumbs: Sequence[tuple[int, np.ndarray]], columns: int = 6,
                  gap: int = 4, label_height: int = 14) -> np.ndarray:
    """A grid of thumbnails, each labelled with its frame number, on a dark ground."""
    from PIL import Image, ImageDraw

    if not thumbs:
        raise ValueError("a contact sheet needs at least one thumbnail")
    cell_w = max(t.shape[1] for _, t in thumbs)
    cell_h = max(t.shape[0] for _, t in thumbs) + label_height
    rows = -(-len(thumbs) // columns)
    sheet = Image.new("RGB", (columns * (cell_w + gap) + gap, rows * (cell_h + gap) + gap),
                      (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for i, (frame, t) in enumerate(thumbs):
        x = gap + (i % columns) * (cell_w + gap)
        y = gap + (i // columns) * (cell_h + gap)
        sheet.paste(_image(t).convert("RGB"), (x, y))
        draw.text((x + 2, y + t.shape[0] + 1), str(frame), fill=(220, 220, 220))
    return np.asarray(sheet)


@dataclass
class ProxyReport:
    thumbnails: list[tuple[int, str]] = field(default_factory=list)  # (frame, file name)
    sheets: list[tuple[int, int, str]] = field(default_factory=list)  # (first, last, file name)
    errors: list[str] = field(default_factory=list)


def make_proxies(folder: Path, entries: Sequence[tuple[int, str]], out_dir: Path, *,
                 kind: str, every: int = 24, sheet_frames: int = 1440, max_side: int = 320,
                 read: Callable[[Path], np.ndarray] | None = None,
                 on_progress: Callable[[int, int], None] | None = None) -> ProxyReport:
    """Thumbnails of every `every`-th frame of `entries`, and one contact sheet per block of
    `sheet_frames` frames, under `out_dir/thumbs` and `out_dir/sheets`.

    A frame that cannot be read is reported and skipped; the source folder is only read.
    """
    if read is None:
        from restoration.io import read_frame

        def read(path: Path) -> np.ndarray:
            return read_frame(path).pixels

    chosen = [e for i, e in enumerate(entries) if i % max(1, every) == 0]
    report = ProxyReport()
    blocks: dict[int, list[tuple[int, np.ndarray]]] = {}
    for n, (frame, name) in enumerate(chosen, 1):
        try:
            thumb = thumbnail(read(folder / name), kind, max_side)
        except Exception as exc:  # a damaged frame: its error is already in the import
            report.errors.append(f"{name}: no thumbnail ({exc})")
            continue
        target = out_dir / "thumbs" / f"{frame:09d}.jpg"
        write_jpeg(thumb, target)
        report.thumbnails.append((frame, target.name))
        blocks.setdefault(entries_block(frame, entries[0][0], sheet_frames), []).append(
            (frame, thumb))
        if on_progress:
            on_progress(n, len(chosen))
    for _, thumbs in sorted(blocks.items()):
        name = f"sheet-{thumbs[0][0]:09d}-{thumbs[-1][0]:09d}.jpg"
        write_jpeg(contact_sheet(thumbs), out_dir / "sheets" / name)
        report.sheets.append((thumbs[0][0], thumbs[-1][0], name))
    return report


def entries_block(frame: int, first: int, size: int) -> int:
    return (frame - first) // max(1, size)
