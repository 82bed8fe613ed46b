"""Repair recipes as the web app keeps them: an `upscale` step names a registered model.

`restoration.repair.pipeline.check_recipe` checks the operations and their parameters; here a
model's name is checked against the registry, and, when a run starts, replaced by its file
(whose SHA-256 is checked again, see `archive.registry.model_path`).
"""
from __future__ import annotations

from typing import Any

from archive.models import RepairModel

UPSCALE = "upscale"


class RecipeRefused(ValueError):
    """The recipe cannot be used; the message names the step and what was expected."""


def default_recipe() -> list[dict[str, Any]]:
    """The classical recipe a new repair stage starts from (no step invents detail)."""
    from restoration.repair import ops

    steps = getattr(ops, "DEFAULT_RECIPE", None) or [
        {"op": "deflicker"}, {"op": "dust"}, {"op": "scratch"}, {"op": "denoise"}]
    return check_named_recipe([dict(s) for s in steps])


def check_named_recipe(recipe: Any) -> list[dict[str, Any]]:
    """The recipe with every default filled in; RecipeRefused names what is wrong."""
    from restoration.repair.ops import RecipeError
    from restoration.repair.pipeline import check_recipe

    try:
        steps = check_recipe(recipe)
    except RecipeError as exc:
        raise RecipeRefused(str(exc)) from None
    for i, step in enumerate(steps, 1):
        if step["op"] == UPSCALE and not RepairModel.objects.filter(name=step["model"]).exists():
            known = ", ".join(RepairModel.objects.values_list("name", flat=True)) or "none yet"
            raise RecipeRefused(f"step {i} (upscale): no registered model is named "
                                f"{step['model']!r} (registered: {known})")
    return steps


def resolve_recipe(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps for `restoration`: each model name replaced by its checked file path, with the
    name and digest kept beside it (`model_name`, `model_sha256`) for the provenance."""
    from archive.registry import RegistryError, model_path

    resolved = []
    for i, step in enumerate(check_named_recipe(steps), 1):
        if step["op"] == UPSCALE:
            model = RepairModel.objects.get(name=step["model"])
            try:
                path = model_path(model)
            except RegistryError as exc:
                raise RecipeRefused(f"step {i} (upscale): {exc}") from None
            step = {**step, "model": str(path), "model_name": model.name,
                    "model_sha256": model.sha256}
        resolved.append(step)
    return resolved


def for_pipeline(resolved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A resolved recipe without the registry's notes, as `repair_sequence` takes it."""
    return [{k: v for k, v in s.items() if k not in ("model_name", "model_sha256")}
            for s in resolved]


def invents_detail(steps: list[dict[str, Any]]) -> list[str]:
    """The steps (by op) that can invent detail: super-resolution, anything generative."""
    from restoration.repair.ops import OPS

    return [s["op"] for s in steps if s["op"] == UPSCALE or (
        s["op"] in OPS and OPS[s["op"]].invents_detail)]
