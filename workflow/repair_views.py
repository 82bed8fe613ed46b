"""The repair stage's pages: the recipe, a preview of a few frames before and after, the full
run on the `gpu` workers, and the analysis charts with the frame under a click."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from archive.models import Reel, RepairModel, Sequence, SequenceKind, SequenceState
from workflow import transitions
from workflow.charts import charts
from workflow.forms import RepairPreviewForm, RepairRecipeForm
from workflow.models import Job, JobState, RepairRecord, StageRun
from workflow.recipes import default_recipe, invents_detail
from workflow.transitions import NotAllowed, TransitionRefused
from workflow.views import (
    SAFE_NAME,
    _act,
    _reel_page,
    staff_required,
    stored_provenance,
    worked_run_of,
)


def ops_help() -> list[dict[str, Any]]:
    """Every operation with its parameters (unit, range, default) for the recipe form."""
    from restoration.repair.ops import OPS
    from restoration.repair.pipeline import UPSCALE_PARAMS

    rows = [{"name": name, "help": op.help, "context": op.context,
             "invents_detail": op.invents_detail,
             "params": [{"name": p.name, "unit": p.unit, "low": p.low, "high": p.high,
                         "default": p.default, "help": p.help} for p in op.params]}
            for name, op in OPS.items()]
    rows.append({"name": "upscale", "help": "super-resolution with a registered model; the "
                 "last step", "context": 0, "invents_detail": True,
                 "params": [{"name": k, "help": v} for k, v in UPSCALE_PARAMS.items()]})
    return rows


def _metrics_of(sequence: Sequence | None):
    """(frames, metrics) of a sequence's stored analysis, or None."""
    if sequence is None or not sequence.analysis.get("file"):
        return None
    from restoration.analysis import load_metrics

    try:
        result = load_metrics(Path(sequence.storage_dir) / sequence.analysis["file"])
    except (OSError, ValueError):
        return None
    return result.frames, result.metrics


def scan_charts(sequence: Sequence | None) -> list[dict[str, Any]]:
    """The charts of a sequence's stored analysis (none before it is analysed)."""
    metrics = _metrics_of(sequence)
    return charts({"scan": metrics}) if metrics else []


def _rows_to_arrays(rows: list[dict[str, Any]]):
    import numpy as np

    from restoration.analysis import METRICS

    frames = np.array([r["frame"] for r in rows], np.int64)
    metrics = np.array([[r[m] for m in METRICS] for r in rows], np.float64).reshape(
        len(rows), len(METRICS))
    return frames, metrics


def _preview(run: StageRun) -> dict[str, Any] | None:
    job = (Job.objects.filter(run=run, kind="repair_preview").order_by("-pk").first())
    if job is None:
        return None
    from workflow.jobs import preview_dir

    preview: dict[str, Any] = {"job": job, "first": job.args["first"], "last": job.args["last"],
                               "recipe": job.args["recipe"],
                               "invents_detail": invents_detail(job.args["recipe"])}
    path = preview_dir(job) / "comparison.json"
    if job.state == JobState.DONE and path.exists():
        data = json.loads(path.read_text())
        preview["frames"] = [(f, data["images"][str(f)]) for f in data["frames"]]
        preview["charts"] = charts({
            "before": _rows_to_arrays(data["metrics"]["before"]),
            "after": _rows_to_arrays(data["metrics"]["after"])})
    return preview


def repair_context(request: HttpRequest, reel: Reel, run: StageRun, verbs: set[str],
                   work_form: Any = None, preview_form: Any = None) -> dict[str, Any]:
    record = RepairRecord.objects.select_related("source", "sequence").filter(run=run).first()
    if work_form is None:
        recipe = record.recipe if record and record.recipe else None
        if recipe is None:  # a returned repair starts from the recipe used last time
            earlier = RepairRecord.objects.filter(run__reel=reel).exclude(recipe=[]).order_by(
                "-run_id").first()
            recipe = earlier.recipe if earlier else default_recipe()
        work_form = RepairRecipeForm(initial={"recipe": json.dumps(recipe, indent=1),
                                              "notes": record.notes if record else ""})
    if "edit" not in verbs:
        for field in work_form.fields.values():
            field.disabled = True
    source = transitions.current_raw_scan(reel)
    output = record.sequence if record else None
    running = output is not None and output.state == SequenceState.IMPORTING
    busy = running and Job.objects.filter(
        kind__in=transitions.RENDERS[SequenceKind.REPAIRED].jobs, args__sequence=output.pk,
        state__in=(JobState.QUEUED, JobState.RUNNING)).exists()
    saved = record.recipe if record else []
    if preview_form is None and source is not None and source.first_frame is not None:
        last = min(source.last_frame, source.first_frame + 11)
        preview_form = RepairPreviewForm(initial={"first": source.first_frame, "last": last})
    return {
        "work_form": work_form, "repair": record, "saved_recipe": saved,
        "recipe_invents": invents_detail(saved) if saved else [],
        "ops_help": ops_help(), "repair_models": RepairModel.objects.all(),
        "source": source, "repaired": output, "repair_running": running,
        "can_resume_repair": "edit" in verbs and output is not None and (
            output.state == SequenceState.FAILED or (running and not busy)),
        "preview_form": preview_form, "preview": _preview(run),
        "preview_max": settings.REPAIR_PREVIEW_MAX_FRAMES,
        "scan_charts": scan_charts(source),
        "provenance": stored_provenance(output),
    }




def save_recipe(request: HttpRequest, pk: int, run: StageRun) -> HttpResponse:
    """Called by `views.save_work` for a repair run."""
    form = RepairRecipeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not saved — check the recipe.")
        return _reel_page(request, pk, work_form=form, status=400)
    values = {"recipe": form.cleaned_data["recipe"], "notes": form.cleaned_data["notes"]}
    try:
        transitions.save_repair_recipe(run, values, by=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except TransitionRefused as exc:
        form.add_error("recipe", str(exc))
        messages.error(request, "Not saved — see the recipe.")
        return _reel_page(request, pk, work_form=form, status=400)
    messages.success(request, "Recipe saved.")
    return redirect("workflow:reel", pk=pk)


@require_POST
@staff_required
def preview(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = worked_run_of(request, pk, run_id)
    form = RepairPreviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "No preview — check the frame range.")
        return _reel_page(request, pk, preview_form=form, status=400)
    first, last = form.cleaned_data["first"], form.cleaned_data["last"]
    try:
        transitions.start_repair_preview(run, first, last, by=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except TransitionRefused as exc:
        form.add_error(None, str(exc))
        messages.error(request, "No preview — see the preview form.")
        return _reel_page(request, pk, preview_form=form, status=400)
    messages.success(request, f"Previewing frames {first}-{last} with the saved recipe.")
    return redirect(f"{run.reel.get_absolute_url()}#repair-preview")


@require_POST
@staff_required
def run_repair(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = worked_run_of(request, pk, run_id)
    return _act(request, run.reel, lambda: transitions.start_repair(run, by=request.user),
                "Repair started on the gpu workers. You can leave this page; it goes on.")


@require_GET
@staff_required
def preview_file(request: HttpRequest, pk: int, job_id: int, name: str) -> HttpResponse:
    """A before or after image of a preview."""
    from workflow.jobs import preview_dir

    job = get_object_or_404(Job.objects.select_related("reel"), pk=job_id, reel_id=pk,
                            kind="repair_preview")
    if not SAFE_NAME.match(name) or not name.endswith(".jpg") or name.startswith("."):
        raise Http404("no such file")
    folder = preview_dir(job).resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise Http404("no such file")
    return FileResponse(open(path, "rb"), content_type="image/jpeg")


@require_GET
@staff_required
def sequence_frame(request: HttpRequest, pk: int, seq_id: int, frame: int) -> HttpResponse:
    """One frame of a sequence for the screen (the viewing transform, at most 960 px), made on
    first request and kept beside the sequence's proxies."""
    from restoration.proxies import thumbnail, transfer_kind, write_jpeg

    sequence = get_object_or_404(Sequence, pk=seq_id, reel_id=pk)
    if sequence.state in (SequenceState.IMPORTING, SequenceState.FAILED):
        raise Http404("the sequence is not stored yet")
    storage = Path(sequence.storage_dir)
    target = storage / "proxies" / "frames" / f"{frame}.jpg"
    if not target.is_file():
        name = _name_of(sequence, frame)
        if name is None:
            raise Http404(f"{sequence} has no frame {frame}")
        from restoration.io import read_frame

        try:
            pixels = read_frame(Path(sequence.root_path) / name).pixels
        except Exception as exc:
            raise Http404(f"frame {frame} ({name}) cannot be read: {exc}") from None
        write_jpeg(thumbnail(pixels, transfer_kind((sequence.transfer or {}).get("code")), 960),
                   target)
    return FileResponse(open(target, "rb"), content_type="image/jpeg")


def _name_of(sequence: Sequence, frame: int) -> str | None:
    """The file of `frame` in a stored sequence (its plan lists them), or None."""
    plan_path = Path(sequence.storage_dir) / "plan.json"
    if not plan_path.exists():
        return None
    bad = {b["file"] for b in sequence.bad_frames}
    for number, name in json.loads(plan_path.read_text())["entries"]:
        if number == frame and name not in bad:
            return name
    return None
