"""The grading stage's pages: the base grade, the LUT, the shots (from the scene cuts or an
EDL) each with its CDL, a graded still per shot with its scopes, and the render."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from archive.models import Reel, Sequence, SequenceKind, SequenceState
from workflow import transitions
from workflow.forms import (
    CopyGradeForm,
    GradeBaseForm,
    GradingFileForm,
    ShotGradeForm,
    cdl_initial,
    cdl_value,
)
from workflow.models import GradeRecord, Job, JobState, Shot, StageRun
from workflow.transitions import NotAllowed, TransitionRefused
from workflow.views import (
    SAFE_NAME,
    _act,
    _reel_page,
    _run_of,
    staff_required,
    stored_provenance,
    worked_run_of,
)

MAX_GRADING_FILE = 50 * 1024 * 1024  # bytes: a 65-point LUT is about 10 MB


def grading_context(request: HttpRequest, reel: Reel, run: StageRun, verbs: set[str],
                    work_form: Any = None) -> dict[str, Any]:
    record = GradeRecord.objects.select_related("source", "sequence").filter(run=run).first()
    base = (record.base if record else None) or {}
    if work_form is None:
        initial = {"use_cdl": bool(base.get("cdl")) or not base,
                   "interpolation": base.get("interpolation") or "tetrahedral",
                   "in_transfer": base.get("in_transfer") or "",
                   "out_space": base.get("out_space") or "",
                   "notes": record.notes if record else "", **cdl_initial(base.get("cdl"))}
        work_form = GradeBaseForm(initial=initial)
    editable = "edit" in verbs
    if not editable:
        for field in work_form.fields.values():
            field.disabled = True
    shots = list(record.shots.all()) if record else []
    for shot in shots:
        shot.form = ShotGradeForm(prefix=f"s{shot.number}", initial={
            "use_base": shot.cdl is None, **cdl_initial(shot.cdl or base.get("cdl"))})
        if not editable:
            for field in shot.form.fields.values():
                field.disabled = True
    output = record.sequence if record else None
    running = output is not None and output.state == SequenceState.IMPORTING
    busy = running and Job.objects.filter(
        kind__in=transitions.RENDERS[SequenceKind.GRADED].jobs, args__sequence=output.pk,
        state__in=(JobState.QUEUED, JobState.RUNNING)).exists()
    source = (record.source if record and record.source else None) or \
        transitions.grade_source(reel)
    return {
        "work_form": work_form, "grade": record, "base": base, "shots": shots,
        "grade_source": source, "graded": output, "render_running": running,
        "can_resume_render": editable and output is not None and (
            output.state == SequenceState.FAILED or (running and not busy)),
        "file_form": GradingFileForm(), "copy_form": CopyGradeForm(),
        "render_provenance": stored_provenance(output),
    }




def save_base(request: HttpRequest, pk: int, run: StageRun) -> HttpResponse:
    """Called by `views.save_work` for a grading run."""
    form = GradeBaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not saved — check the base grade.")
        return _reel_page(request, pk, work_form=form, status=400)
    try:
        transitions.save_grade(run, {"base": form.base(), "notes": form.cleaned_data["notes"]},
                               by=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except TransitionRefused as exc:
        form.add_error(None, str(exc))
        messages.error(request, "Not saved — see the base grade.")
        return _reel_page(request, pk, work_form=form, status=400)
    messages.success(request, "Base grade saved.")
    return redirect("workflow:reel", pk=pk)


def _uploaded(request: HttpRequest) -> tuple[Any, str]:
    form = GradingFileForm(request.POST, request.FILES)
    if not form.is_valid():
        raise TransitionRefused("choose a file")
    upload = form.cleaned_data["file"]
    if upload.size > MAX_GRADING_FILE:
        raise TransitionRefused(f"{upload.name}: {upload.size} bytes; at most "
                                f"{MAX_GRADING_FILE} are taken")
    return upload, os.path.basename(upload.name)


def _save_to(upload: Any, folder: Path, suffix: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload.", suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        for block in upload.chunks():
            fh.write(block)
    return Path(tmp)


@require_POST
@staff_required
def attach_lut(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    """Store an uploaded LUT under its SHA-256 (checked by reading it) and use it."""
    from restoration.interchange import InterchangeError, read_lut_info

    run = worked_run_of(request, pk, run_id)

    def action() -> Any:
        upload, name = _uploaded(request)
        suffix = Path(name).suffix.lower()
        if suffix not in (".cube", ".spi3d", ".3dl"):
            raise TransitionRefused(f"{name}: a .cube, .spi3d or .3dl LUT is expected")
        folder = Path(settings.STORAGE_ROOT) / run.reel.accession / "grading" / "luts"
        tmp = _save_to(upload, folder, suffix)
        try:
            info = read_lut_info(tmp)
        except InterchangeError as exc:
            tmp.unlink(missing_ok=True)
            raise TransitionRefused(str(exc).replace(str(tmp), name)) from None
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        final = folder / f"{digest}{suffix}"
        os.replace(tmp, final)
        return transitions.attach_lut(run, {
            "name": name, "sha256": digest, "file": str(final), "kind": info.get("kind"),
            "size": info.get("size") or info.get("sizes")}, by=request.user)

    return _act(request, run.reel, action, "LUT attached.")


@require_POST
@staff_required
def remove_lut(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = worked_run_of(request, pk, run_id)
    return _act(request, run.reel, lambda: transitions.attach_lut(run, None, by=request.user),
                "LUT removed.")


@require_POST
@staff_required
def shots_from_cuts(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = worked_run_of(request, pk, run_id)
    return _act(request, run.reel, lambda: transitions.shots_from_cuts(run, by=request.user),
                "Shots set from the scene cuts.")


@require_POST
@staff_required
def shots_from_edl(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = worked_run_of(request, pk, run_id)

    def action() -> Any:
        upload, name = _uploaded(request)
        with tempfile.TemporaryDirectory() as folder:
            path = _save_to(upload, Path(folder), ".edl")
            return transitions.shots_from_edl(run, path, name=name, by=request.user)

    return _act(request, run.reel, action, "Shots set from the EDL.")


def _shot_of(request: HttpRequest, pk: int, run_id: int, number: int) -> Shot:
    run = worked_run_of(request, pk, run_id)
    return get_object_or_404(Shot, record__run=run, number=number)


@require_POST
@staff_required
def grade_shot(request: HttpRequest, pk: int, run_id: int, number: int) -> HttpResponse:
    shot = _shot_of(request, pk, run_id, number)
    form = ShotGradeForm(request.POST, prefix=f"s{number}")
    if not form.is_valid():
        errors = "; ".join(f"{form[f].label}: {' '.join(e)}" if f in form.fields else " ".join(e)
                           for f, e in form.errors.items())
        messages.error(request, f"Shot {number} not saved — {errors}")
        return redirect(f"{shot.record.run.reel.get_absolute_url()}#shot-{number}")
    cdl = None if form.cleaned_data["use_base"] else cdl_value(form.cleaned_data)
    return _act(request, shot.record.run.reel,
                lambda: transitions.set_shot_grade(shot, cdl, by=request.user),
                f"Shot {number} graded.")


@require_POST
@staff_required
def copy_grade(request: HttpRequest, pk: int, run_id: int, number: int) -> HttpResponse:
    shot = _shot_of(request, pk, run_id, number)
    form = CopyGradeForm(request.POST)

    def action() -> Any:
        if not form.is_valid():
            raise TransitionRefused(" ".join(form.errors.get("to", ["name the shots"])))
        return transitions.copy_shot_grade(shot, form.cleaned_data["to"], by=request.user)

    return _act(request, shot.record.run.reel, action, f"Shot {number}'s grade copied.")


@require_POST
@staff_required
def render_grade(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = worked_run_of(request, pk, run_id)
    return _act(request, run.reel, lambda: transitions.start_grade_render(run, by=request.user),
                "Render started on the cpu workers. You can leave this page; it goes on.")


# Preview ----------------------------------------------------------------------------------

def _preview_folder(reel: Reel, key: str) -> Path:
    return Path(settings.STORAGE_ROOT) / reel.accession / "grading" / "previews" / key


@require_GET
@staff_required
def shot_preview(request: HttpRequest, pk: int, run_id: int, number: int) -> HttpResponse:
    """A graded still of the shot's middle frame (or `?frame=`), before and after, with the
    scopes of the graded still: made on request (well under a second for a 2K frame) and kept
    under the grade's digest."""
    import time

    from workflow.jobs import grade_spec
    from workflow.repair_views import _name_of

    run = _run_of(pk, run_id)
    shot = get_object_or_404(Shot.objects.select_related("record__source"), record__run=run,
                             number=number)
    record = shot.record
    source = record.source or transitions.grade_source(run.reel)
    if source is None:
        raise Http404("nothing to grade")
    try:
        frame = int(request.GET.get("frame", (shot.first_frame + shot.last_frame) // 2))
    except ValueError:
        raise Http404("frame must be a number") from None
    frame = min(max(frame, shot.first_frame), shot.last_frame)
    name = _name_of(source, frame)
    if name is None:
        raise Http404(f"{source} has no frame {frame}")
    grade = {"base": record.base, "cdl": shot.cdl, "source": source.pk, "frame": frame}
    key = hashlib.sha256(json.dumps(grade, sort_keys=True).encode()).hexdigest()[:32]
    folder = _preview_folder(run.reel, key)
    started = time.perf_counter()
    if not (folder / "done").exists():
        _make_preview(Path(source.root_path) / name, grade_spec(record.base, shot.cdl),
                      source, folder)
    return render(request, "workflow/_shot_preview.html", {
        "reel": run.reel, "run": run, "shot": shot, "frame": frame, "key": key,
        "seconds": time.perf_counter() - started,
        "scopes": ("waveform", "parade", "vectorscope", "histogram")})


def _make_preview(path: Path, spec: Any, source: Sequence, folder: Path) -> None:
    from restoration.grading import grade_frame
    from restoration.io import read_frame
    from restoration.proxies import thumbnail, transfer_kind, write_jpeg
    from restoration.scopes import write_scopes

    pixels = read_frame(path).pixels
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    rgb = pixels[:, :, :3] if pixels.shape[2] >= 3 else np.repeat(pixels[:, :, :1], 3, axis=2)
    # graded at the size shown (at most 1024 px across), so a 2K still takes well under 1 s
    step = max(1, -(-max(rgb.shape[:2]) // 1024))
    resized = _resize16(rgb, step)
    graded = grade_frame(resized, spec)
    kind = transfer_kind((source.transfer or {}).get("code"))
    folder.mkdir(parents=True, exist_ok=True)
    write_jpeg(thumbnail(resized, kind, 1024), folder / "before.jpg")
    # the graded still is what the grade made; shown as encoded (no viewing transform on top)
    write_jpeg(thumbnail(graded, "display" if spec.out_space else kind, 1024),
               folder / "after.jpg")
    write_scopes(graded, folder, "scope")
    (folder / "done").write_text("ok")


def _resize16(rgb: Any, step: int) -> Any:
    """A 16-bit frame reduced `step` times by averaging step x step boxes."""
    if step == 1:
        return rgb
    h, w = (rgb.shape[0] // step) * step, (rgb.shape[1] // step) * step
    boxed = rgb[:h, :w].astype(np.float32).reshape(h // step, step, w // step, step, -1)
    return np.rint(boxed.mean(axis=(1, 3))).astype(np.uint16)


@require_GET
@staff_required
def preview_image(request: HttpRequest, pk: int, key: str, name: str) -> HttpResponse:
    reel = get_object_or_404(Reel, pk=pk)
    if not SAFE_NAME.match(key) or not SAFE_NAME.match(name) or name.startswith("."):
        raise Http404("no such file")
    folder = _preview_folder(reel, key).resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise Http404("no such file")
    kind = "image/png" if name.endswith(".png") else "image/jpeg"
    return FileResponse(open(path, "rb"), content_type=kind)
