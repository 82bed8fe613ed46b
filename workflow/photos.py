"""Storing uploaded inspection photos: hashed while written, checked, renamed into place."""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from restoration.images import InvalidImage, check_image


def store_photo(upload: Any, *, reel_id: int) -> dict[str, Any]:
    """Write an uploaded file under MEDIA_ROOT and return the fields of its InspectionPhoto.

    Raises InvalidImage (naming the upload) when it is too large or not a complete image; then
    nothing is left on disk.
    """
    media = Path(settings.MEDIA_ROOT)
    incoming = media / "photos" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    tmp = incoming / f".{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as fh:
            for chunk in upload.chunks():
                size += len(chunk)
                if size > settings.PHOTO_MAX_BYTES:
                    raise InvalidImage(
                        f"{upload.name}: larger than {settings.PHOTO_MAX_BYTES // 2**20} MiB")
                digest.update(chunk)
                fh.write(chunk)
        if size == 0:
            raise InvalidImage(f"{upload.name}: the file is empty")
        facts = check_image(tmp, name=upload.name)
        sha = digest.hexdigest()
        name = f"photos/{reel_id}/{sha[:2]}/{sha}.{facts.extension}"
        final = media / name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return {"image": name, "sha256": sha, "ext": facts.extension, "width": facts.width,
            "height": facts.height, "original_name": upload.name[:255]}
