"""Running a repair recipe over a frame sequence.

A recipe is an ordered list of steps, `{"op": NAME, ...params}`: the classical operations of
`restoration.repair.ops` (each over a window of frames) and, last if at all, `upscale` with a
Real-ESRGAN-family weight file. Frames outside the requested range are read as context, as far
as the recipe's temporal operations reach, so any split into chunks gives the same bytes.
Output frames keep the input's names and format at 16 bits; `provenance.json` beside them
records the run. The input is only read.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from restoration.derived import (
    DerivedReport,
    Writes,
    code_version,
    plan_frames,
    write_provenance,
)

log = logging.getLogger(__name__)

UPSCALE = "upscale"
UPSCALE_PARAMS = {
    "model": "path to a Real-ESRGAN-family .pth weight file (required)",
    "tile": "tile size in input pixels, 0 = chosen once from the memory available (default 0)",
    "overlap": "context pixels around each tile, 0-256 (default 16)",
    "batch": "tiles per forward pass, 1-64 (default 1)",
    "precision": "fp32 (default), bf16 (CPU) or fp16 (CUDA): the faster modes deviate slightly",
}


class RepairError(RuntimeError):
    """A frame could not be repaired; the message names it."""


RepairReport = DerivedReport  # what a repair run wrote


def _recipe_error(message: str):
    from restoration.repair.ops import RecipeError

    return RecipeError(message)


def check_recipe(recipe: Any) -> list[dict[str, Any]]:
    """Validate a recipe and fill in every default; raise RecipeError naming the step."""
    from restoration.repair.ops import check_step

    if not isinstance(recipe, list) or not recipe:
        raise _recipe_error("a recipe is a non-empty JSON list of {\"op\": NAME, ...} steps")
    steps = []
    for i, step in enumerate(recipe, 1):
        if not isinstance(step, dict) or "op" not in step:
            raise _recipe_error(f"step {i}: expected an object with an \"op\", got {step!r}")
        if step["op"] == UPSCALE:
            if i != len(recipe):
                raise _recipe_error(f"step {i}: upscale must be the last step")
            unknown = set(step) - {"op", *UPSCALE_PARAMS}
            if unknown:
                raise _recipe_error(f"step {i} (upscale): unknown parameter(s) "
                                    f"{', '.join(sorted(unknown))}; known: "
                                    f"{', '.join(UPSCALE_PARAMS)}")
            if not step.get("model"):
                raise _recipe_error(f"step {i} (upscale): \"model\" (a weight file) is required")
            precision = step.get("precision", "fp32")
            if precision not in ("fp32", "bf16", "fp16"):
                raise _recipe_error(f"step {i} (upscale): precision {precision!r}; expected "
                                    "fp32, bf16 or fp16")
            values = {"op": UPSCALE, "model": str(step["model"]),
                      "tile": int(step.get("tile", 0)), "overlap": int(step.get("overlap", 16)),
                      "batch": int(step.get("batch", 1)), "precision": precision}
            if not 0 <= values["overlap"] <= 256 or not 1 <= values["batch"] <= 64 or \
                    values["tile"] < 0:
                raise _recipe_error(f"step {i} (upscale): tile >= 0, overlap 0-256 and "
                                    "batch 1-64 expected")
            steps.append(values)
        else:
            try:
                steps.append({"op": step["op"], **check_step(step)})
            except Exception as exc:
                raise _recipe_error(f"step {i}: {exc}") from None
    return steps


def recipe_context(steps: list[dict[str, Any]]) -> int:
    """Frames of context needed on each side of a range for all the steps together."""
    from restoration.repair.ops import OPS

    return sum(OPS[s["op"]].context for s in steps if s["op"] != UPSCALE)


def repair_sequence(in_dir: Path, out_dir: Path, recipe: Any, *,
                    frames: tuple[int, int] | None = None, pattern: str | None = None,
                    device: str | None = None, chunk: int = 8,
                    on_progress: Callable[[int, int], None] | None = None,
                    tiling: dict[str, Any] | None = None,
                    provenance_path: Path | None | bool = True,
                    exclude: tuple[str, ...] | list[str] = ()) -> RepairReport:
    """Apply `recipe` to the frames of `in_dir` numbered within `frames` (inclusive, the files'
    own numbers; all when None) and write them, same names, 16-bit, into `out_dir`.

    `chunk` frames are held with their context at a time (memory stays bounded).
    `tiling`, when given, is the ``"tiling"`` of an earlier run's provenance: its tile (``None``
    = whole frames) is used instead of one chosen from the memory available, so a resume or
    another chunk of the same run gives the same bytes. `provenance_path`: True writes
    ``out_dir/provenance.json``, a path writes it there, False or None writes none (the
    report's ``data`` holds it either way). Files named in `exclude` (unreadable frames) are
    treated as missing: not read, not written, and context reaches across them.
    A fast precision (bf16, fp16) is measured against fp32 on the run's first frame and the
    deviation (in 16-bit code values) is recorded under ``tiling.deviation_vs_fp32``.
    """
    from restoration.io import read_frame, write_frame
    from restoration.repair.ops import OPS, RecipeError, apply_op

    started = time.perf_counter()
    steps = check_recipe(recipe)
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    plan, names, order, targets = plan_frames(in_dir, out_dir, pattern, frames, RecipeError,
                                              exclude)
    context = recipe_context(steps)
    classical = [s for s in steps if s["op"] != UPSCALE]
    upscale = next((s for s in steps if s["op"] == UPSCALE), None)
    model_facts: list[dict[str, Any]] = []
    loaded = None
    fixed = dict(tiling) if tiling else None
    tiling = {}
    if upscale is not None:
        from restoration.repair.models import load_model, pick_device

        dev = pick_device(device)
        loaded = load_model(upscale["model"], device=dev)
        model_facts.append({"file": str(upscale["model"]), "name": loaded.name,
                            "sha256": loaded.sha256, "arch": loaded.arch,
                            "scale": loaded.scale})
    out_dir.mkdir(parents=True, exist_ok=True)
    names_written: list[str] = []

    def read(i: int):
        try:
            return read_frame(in_dir / names[order[i]])
        except Exception as exc:
            raise RepairError(f"frame {order[i]} ({names[order[i]]}): {exc}") from None

    def write(pixels, i: int, like) -> None:
        try:
            write_frame(pixels, out_dir / names[order[i]], like=like)
        except Exception as exc:
            raise RepairError(f"frame {order[i]} ({names[order[i]]}): {exc}") from None

    blocks = [targets[c0:c0 + chunk] for c0 in range(0, len(targets), chunk)]

    def span(block: list[int]) -> tuple[int, int]:
        return max(0, block[0] - context), min(len(order) - 1, block[-1] + context)

    # Reading, computing and writing overlap: the next block's new frames are read on one
    # thread and finished frames are written on another while this block is computed. Each
    # step's results are kept while the next block still needs them (they are exact: every
    # window they were computed from was complete), so no frame is read or computed twice.
    from concurrent.futures import Future, ThreadPoolExecutor

    source: dict[int, Any] = {}
    levels: list[dict[int, Any]] = [{} for _ in classical]
    with ThreadPoolExecutor(1, thread_name_prefix="repair-read") as reader, \
            ThreadPoolExecutor(1, thread_name_prefix="repair-write") as writer:
        writes = Writes(writer, len(targets), on_progress, limit=chunk)

        def fetch(block: list[int]) -> Future:
            lo, hi = span(block)
            return reader.submit(lambda: {i: read(i) for i in range(lo, hi + 1)
                                          if i not in source})

        ahead = fetch(blocks[0])
        for b, block in enumerate(blocks):
            lo, hi = span(block)
            source.update(ahead.result())
            if b + 1 < len(blocks):
                ahead = fetch(blocks[b + 1])
            current = {i: source[i].pixels for i in range(lo, hi + 1)}
            remaining = context
            for level, step in zip(levels, classical, strict=True):
                op = OPS[step["op"]]
                remaining -= op.context
                keep = range(max(lo, block[0] - remaining), min(hi, block[-1] + remaining) + 1)
                params = {k: v for k, v in step.items() if k != "op"}
                for i in keep:
                    if i not in level:
                        w0, w1 = max(lo, i - op.context), min(hi, i + op.context)
                        window = [current[j] for j in range(w0, w1 + 1)]
                        level[i] = apply_op(step["op"], window, i - w0, **params)
                current = level
            results = {i: current[i] for i in block}
            if loaded is not None:
                import numpy as np

                from restoration.repair.tiling import (
                    calibrate_tile,
                    precision_deviation,
                    upscale_frames_with_report,
                )

                first = results[block[0]]
                if "tile" not in tiling:  # chosen once per run, used by every chunk
                    if fixed is not None and "tile" in fixed:
                        tiling["tile"] = fixed["tile"]
                    else:
                        tiling["tile"] = upscale["tile"] or calibrate_tile(
                            loaded.net, first.shape[0], first.shape[1], loaded.scale, device=dev,
                            overlap=upscale["overlap"], batch=upscale["batch"],
                            precision=upscale["precision"])
                    if upscale["precision"] != "fp32":
                        dev_report = precision_deviation(
                            loaded.net, first[None], loaded.scale, precision=upscale["precision"],
                            tile=tiling["tile"], overlap=upscale["overlap"],
                            batch=upscale["batch"], device=dev)
                        tiling["deviation_vs_fp32"] = {
                            "frame": order[block[0]], "max_abs_16bit": dev_report.max_abs,
                            "mean_abs_16bit": round(dev_report.mean_abs, 4),
                            "rms_16bit": round(dev_report.rms, 4)}
                report = upscale_frames_with_report(
                    loaded.net, np.stack([results[i] for i in block]), loaded.scale,
                    tile=tiling["tile"], overlap=upscale["overlap"], batch=upscale["batch"],
                    device=dev, precision=upscale["precision"])
                deviation = tiling.get("deviation_vs_fp32")
                tiling.update(report.provenance())
                if deviation is not None:
                    tiling["deviation_vs_fp32"] = deviation
                results = {i: report.pixels[k] for k, i in enumerate(block)}
            for i in block:
                writes.submit(write, results[i], i, source[i])
                names_written.append(names[order[i]])
            if b + 1 < len(blocks):  # forget what the next block does not need
                first_next = blocks[b + 1][0]
                for i in [i for i in source if i < first_next - context]:
                    del source[i]
                remaining = context
                for level, step in zip(levels, classical, strict=True):
                    remaining -= OPS[step["op"]].context
                    for i in [i for i in level if i < first_next - remaining]:
                        del level[i]
        written = writes.finish()  # a write that failed stops the run here
    provenance = {
        "code": code_version(),
        "input": {"folder": str(in_dir), "pattern": plan.pattern,
                  "left_out": sorted(exclude)},
        "frames": [order[targets[0]], order[targets[-1]]],
        "frames_written": written,
        "recipe": steps,
        "context_frames": context,
        "models": model_facts,
        "tiling": tiling or None,
        "device": str(dev) if upscale is not None else "cpu (numpy)",
        "invents_detail": [s["op"] for s in steps
                           if s["op"] == UPSCALE or OPS[s["op"]].invents_detail],
        "output_bits": 16,
        "seconds": round(time.perf_counter() - started, 3),
    }
    prov_path = write_provenance(out_dir, provenance_path, provenance)
    return RepairReport(written, out_dir, prov_path, time.perf_counter() - started,
                        names=names_written, data=provenance)
