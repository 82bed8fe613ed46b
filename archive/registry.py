"""Registering repair-model weight files placed in MODEL_DIR (no download, ever)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from archive.models import RepairModel


class RegistryError(ValueError):
    """The file cannot be registered; the message names it and says why."""


def resolve_model_file(path: str | Path) -> Path:
    """The real file `path` names, which must lie inside MODEL_DIR (links and `..` resolved)."""
    root = Path(settings.MODEL_DIR).resolve()
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        real = candidate.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise RegistryError(f"{path}: no such file (weights are placed in {root}, never "
                            "downloaded)") from None
    if not real.is_relative_to(root) or not real.is_file():
        raise RegistryError(f"{path}: not a file inside MODEL_DIR ({root})")
    return real


def register_model(path: str | Path, name: str, *, by: Any, notes: str = "") -> RepairModel:
    """Load the weights through the same code that repair uses, then record what they are."""
    from restoration.repair.models import ModelError, load_model

    real = resolve_model_file(path)
    try:
        loaded = load_model(real, device="cpu")
    except ModelError as exc:
        raise RegistryError(str(exc)) from None
    same = RepairModel.objects.filter(sha256=loaded.sha256).first()
    if same is not None:
        raise RegistryError(f"{real.name}: the same weights are already registered as "
                            f"{same.name!r}")
    try:
        with transaction.atomic():
            return RepairModel.objects.create(
                name=name, file_name=str(real.relative_to(Path(settings.MODEL_DIR).resolve())),
                sha256=loaded.sha256, size=real.stat().st_size, arch=loaded.arch,
                scale=loaded.scale, params=dict(loaded.params), notes=notes, registered_by=by)
    except IntegrityError:
        raise RegistryError(f"a model named {name!r} is already registered") from None


def model_path(model: RepairModel) -> Path:
    """The registered file, checked against its recorded digest before any use."""
    from restoration.repair.models import file_sha256

    path = resolve_model_file(model.file_name)
    actual = file_sha256(path)
    if actual != model.sha256:
        raise RegistryError(f"{path}: its SHA-256 is {actual}, not the {model.sha256} "
                            f"registered for {model.name!r}: the file was changed or replaced")
    return path
