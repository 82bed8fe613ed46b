"""Proxies: the viewing transform against the Cineon and sRGB definitions, sheets, sampling."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from restoration import proxies


def code10(v: int) -> int:
    """A 10-bit code widened to 16 bits by bit replication."""
    return (v << 6) | (v >> 4)


def test_transfer_kinds():
    assert proxies.transfer_kind(1) == "log"      # printing density
    assert proxies.transfer_kind(3) == "log"      # logarithmic
    assert proxies.transfer_kind(2) == "linear"
    assert proxies.transfer_kind(6) == "display"  # Rec. 709 video
    assert proxies.transfer_kind(None) == "display"


def test_log_scan_is_decoded_with_the_cineon_curve():
    # Cineon: black at code 95, white at code 685 (of 1023), 0.002 density per code, gamma 0.6
    px = np.array([[[code10(95)] * 3, [code10(685)] * 3, [code10(1023)] * 3]], np.uint16)
    out = proxies.viewing_transform(px, "log")
    assert out.dtype == np.uint8 and out.shape == (1, 3, 3)
    assert out[0, 0, 0] == 0 and out[0, 1, 0] == 255 and out[0, 2, 0] == 255
    mid = 445  # 10^((445-685)*0.002/0.6) = 10^-0.8 = 0.1585; black-offset: (0.1585-b)/(1-b)
    b = 10 ** ((95 - 685) * 0.002 / 0.6)
    lin = (10 ** ((mid - 685) * 0.002 / 0.6) - b) / (1 - b)
    srgb = 1.055 * lin ** (1 / 2.4) - 0.055
    got = proxies.viewing_transform(np.full((1, 1, 3), code10(mid), np.uint16), "log")[0, 0, 0]
    assert abs(int(got) - round(srgb * 255)) <= 1


def test_linear_is_srgb_encoded_and_display_is_shown_as_it_is():
    px = np.full((1, 1, 3), round(0.18 * 65535), np.uint16)
    assert abs(int(proxies.viewing_transform(px, "linear")[0, 0, 0]) - 118) <= 1  # sRGB(0.18)
    assert int(proxies.viewing_transform(px, "display")[0, 0, 0]) == round(0.18 * 255)


def test_alpha_is_dropped_and_thumbnail_keeps_the_aspect():
    px = np.zeros((100, 400, 4), np.uint16)
    t = proxies.thumbnail(px, "display", max_side=200)
    assert t.shape == (50, 200, 3)


def test_contact_sheet_grid():
    thumbs = [(n, np.full((30, 40, 3), n, np.uint8)) for n in range(7)]
    sheet = proxies.contact_sheet(thumbs, columns=3, gap=4, label_height=14)
    assert sheet.shape == (3 * (30 + 14 + 4) + 4, 3 * (40 + 4) + 4, 3)
    with pytest.raises(ValueError):
        proxies.contact_sheet([])


def test_make_proxies_samples_every_nth_and_reports_bad_frames(tmp_path):
    entries = [(100 + i, f"f.{100 + i}.dpx") for i in range(7)]

    def read(path):
        if path.name == "f.104.dpx":
            raise OSError("truncated")
        return np.full((20, 30, 3), 30000, np.uint16)

    report = proxies.make_proxies(tmp_path / "src", entries, tmp_path / "out", kind="display",
                                  every=2, sheet_frames=4, read=read)
    assert [f for f, _ in report.thumbnails] == [100, 102, 106]
    assert report.errors == ["f.104.dpx: no thumbnail (truncated)"]
    assert [(a, b) for a, b, _ in report.sheets] == [(100, 102), (106, 106)]
    with Image.open(tmp_path / "out" / "thumbs" / "000000100.jpg") as im:
        assert im.format == "JPEG" and im.size == (30, 20)
    assert not (tmp_path / "src").exists()  # nothing was written beside the source
