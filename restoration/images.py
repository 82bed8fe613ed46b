"""Still images for the record (inspection photos): checking an upload and thumbnailing it.

Pillow is used here only for web previews and photographs of the physical reel; scan frames are
read elsewhere with OpenImageIO/tifffile, which keep their bit depth.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Formats a camera or a phone writes; the value is the file extension we store them under.
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "TIFF": "tif", "WEBP": "webp", "MPO": "jpg"}


class InvalidImage(ValueError):
    """The file is not an image we can use; the message names the file and what was expected."""


@dataclass(frozen=True)
class ImageFacts:
    format: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True)
class ThumbnailReport:
    source: Path
    target: Path
    width: int
    height: int


def check_image(path: Path, *, name: str | None = None, max_pixels: int = 200_000_000) -> ImageFacts:
    """Open, identify and fully decode an image file.

    Parameters
    ----------
    path : file to check.
    name : how to name the file in errors (an upload's original name); defaults to the path.
    max_pixels : larger images are refused (a decompression bomb guard).

    Raises
    ------
    InvalidImage
        When the file is not a complete JPEG, PNG, TIFF or WebP image.
    """
    from PIL import Image, UnidentifiedImageError

    label = name or str(path)
    expected = ", ".join(sorted(set(PHOTO_FORMATS) - {"MPO"}))
    try:
        with Image.open(path) as im:
            fmt = im.format or ""
            if fmt not in PHOTO_FORMATS:
                raise InvalidImage(f"{label}: a {fmt or 'unknown'} image; expected one of {expected}")
            width, height = im.size
            if width * height > max_pixels:
                raise InvalidImage(
                    f"{label}: {width}x{height} pixels is more than the {max_pixels} allowed")
            im.load()  # decodes every pixel: a truncated file fails here
    except InvalidImage:
        raise
    except UnidentifiedImageError:
        raise InvalidImage(f"{label}: not an image; expected one of {expected}") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage(f"{label}: damaged or incomplete image ({exc})") from None
    return ImageFacts(fmt, PHOTO_FORMATS[fmt], width, height)


def make_thumbnail(
    source: Path,
    target: Path,
    *,
    max_side: int = 360,
    quality: int = 85,
    on_progress: Callable[[int, int], None] | None = None,
) -> ThumbnailReport:
    """Write a JPEG thumbnail (sRGB-ish 8-bit, longest side `max_side` pixels) of `source`.

    The thumbnail is written to a temporary file beside `target` and renamed into place, so a
    crash never leaves a half-written file under the final name.
    """
    from PIL import Image, ImageOps

    if on_progress:
        on_progress(0, 2)
    check_image(source)
    with Image.open(source) as im:
        im = ImageOps.exif_transpose(im)
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.thumbnail((max_side, max_side))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".jpg")
        try:
            with os.fdopen(fd, "wb") as fh:
                im.save(fh, "JPEG", quality=quality)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        size = im.size
    if on_progress:
        on_progress(2, 2)
    return ThumbnailReport(source, target, size[0], size[1])
