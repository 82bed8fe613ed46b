"""Colour-decision interchange: ASC CDL (.cdl, .cc, .ccc), CMX3600 EDL comments, LUT files.

Nothing here knows about Django; files are read into plain values and written back.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CDL:
    """One ASC CDL v1.2 colour correction.

    ``slope``, ``offset`` and ``power`` are per channel (R, G, B); ``saturation`` is applied
    after them with Rec. 709 luma weights. ``id`` is the ColorCorrection's id (``None`` when
    the source gave none); ``description`` the text of its Description elements.
    """

    slope: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    power: tuple[float, float, float] = (1.0, 1.0, 1.0)
    saturation: float = 1.0
    id: str | None = None
    description: tuple[str, ...] = field(default=())

    @property
    def is_identity(self) -> bool:
        return (self.slope, self.offset, self.power, self.saturation) == (
            (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), 1.0)
