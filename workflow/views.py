"""Pages. Each view parses input, checks who is asking, calls one transition, then redirects
(or, when the input is refused, shows the same page again with the errors and a 400)."""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from archive.models import Collection, Reel, Sequence, SequenceKind, SequenceState, Title
from restoration.images import InvalidImage
from workflow import transitions
from workflow.forms import (
    ImportScanForm,
    InspectionForm,
    NotesForm,
    PhotoForm,
    ReturnForm,
    ScanSettingsForm,
    SignOffForm,
    WithdrawForm,
)
from workflow.models import (
    ACTIVE,
    PRESERVED,
    Event,
    GradeRecord,
    Inspection,
    InspectionPhoto,
    Job,
    JobState,
    RepairRecord,
    ScanRecord,
    Stage,
    StageRun,
    Status,
)
from workflow.photos import store_photo
from workflow.roles import Role, has_role, is_staff_member
from workflow.scanreport import import_progress
from workflow.transitions import NotAllowed, TransitionRefused

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Logged in and holding at least one role; anyone else is an outsider and gets 403."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_member(request.user):
            raise PermissionDenied("you hold no role in this archive")
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*roles: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        @staff_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied(f"this needs the {' or '.join(roles)} role")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _act(request: HttpRequest, reel: Reel, action: Callable[[], Any], done: str) -> HttpResponse:
    """Run one transition for a plain form POST: 403 when the person may not, else redirect."""
    try:
        action()
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("workflow:reel", pk=reel.pk)


def _run_of(pk: int, run_id: int) -> StageRun:
    return get_object_or_404(StageRun.objects.select_related("reel"), pk=run_id, reel_id=pk)


def worked_run_of(request: HttpRequest, pk: int, run_id: int) -> StageRun:
    """The run, when the person asking holds its stage's role (else 403)."""
    run = _run_of(pk, run_id)
    if not run.can_be_worked_by(request.user):
        raise PermissionDenied(f"this needs the {run.role} role")
    return run


def stored_provenance(sequence: Sequence | None) -> dict[str, Any] | None:
    """The provenance of a finished derived sequence (a repair's, a render's), or None."""
    import json
    from pathlib import Path

    if sequence is None or sequence.state in (SequenceState.IMPORTING, SequenceState.FAILED):
        return None
    path = Path(sequence.storage_dir) / "provenance.json"
    return json.loads(path.read_text()) if path.exists() else None


# Words for the pages ------------------------------------------------------------------------

JOB_LABELS = {
    "thumbnail_photo": "Photo thumbnail",
    "always_fails": "Self-test failure",
    "ingest_chunk": "Scan import (part)",
    "ingest_finish": "Scan import (manifest)",
}
VERB_LABELS = {
    "opened": "opened", "started": "started", "edited": "edited", "signed_off": "signed off",
    "withdrawn": "withdrawn", "approved": "approved", "returned": "returned",
    "preserved": "preserved", "photo_added": "photo added", "job_done": "job done",
    "job_failed": "job failed", "import_started": "scan import started",
    "import_resumed": "scan import resumed", "scan_imported": "scan imported",
    "import_failed": "scan import failed",
}


def stage_label(value: str) -> str:
    """A stage by its label; `preserved` (past the last stage) and anything else as words."""
    if value in Stage.values:
        return Stage(value).label
    return value.replace("_", " ")


def state_label(value: str) -> str:
    """A run status by its label (`in_progress` is "in progress"); a stage by its label."""
    if value in Status.values:
        return Status(value).label
    return stage_label(value)


def _label_job(job: Job) -> Job:
    job.kind_label = JOB_LABELS.get(job.kind, job.kind.replace("_", " ").capitalize())
    return job


def _label_event(event: Event) -> Event:
    event.verb_label = VERB_LABELS.get(event.verb, event.verb.replace("_", " "))
    event.stage_label = stage_label(event.stage)
    before, after = event.from_state, event.to_state
    if before == Status.NOT_STARTED and after == Status.OPEN:
        event.change = "opened"
    elif not after or before == after:
        event.change = state_label(before or after)
    elif not before:
        event.change = state_label(after)
    else:
        event.change = f"{state_label(before)} → {state_label(after)}"
    return event


def _events(queryset: Any) -> list[Event]:
    return [_label_event(e) for e in queryset]


# Dashboard, lists --------------------------------------------------------------------------

@require_GET
@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    counts = dict(Reel.objects.values_list("current_stage").annotate(n=Count("pk")))
    stages = [(s, counts.get(s.value, 0)) for s in Stage.chain()]
    user = request.user
    mine = (StageRun.objects.assigned_to(user)
            .select_related("reel__title").order_by("opened_at")[:50])
    my_signoffs = (StageRun.objects.awaiting_approval().filter(signed_off_by=user)
                   .select_related("reel__title"))
    queue_count = (StageRun.objects.awaiting_approval().exclude(signed_off_by=user).count()
                   if has_role(user, Role.SUPERVISOR) else None)
    failed_jobs = [_label_job(j) for j in
                   Job.objects.filter(state=JobState.FAILED).select_related("reel")[:10]]
    return render(request, "workflow/dashboard.html", {
        "stages": stages, "preserved": counts.get(PRESERVED, 0), "mine": mine,
        "my_signoffs": my_signoffs, "queue_count": queue_count, "failed_jobs": failed_jobs,
    })


@require_GET
@staff_required
def reel_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    stage = request.GET.get("stage", "")
    reels = Reel.objects.search(q)
    active = StageRun.objects.filter(reel=OuterRef("pk"), status__in=ACTIVE).values("status")
    reels = reels.select_related("title__collection").annotate(run_status=Subquery(active[:1]))
    if stage:
        reels = reels.filter(current_stage=stage)
    page = Paginator(reels, 50).get_page(request.GET.get("page"))
    for reel in page:
        reel.stage_label = stage_label(reel.current_stage)
        reel.state_label = (state_label(reel.run_status) if reel.run_status
                            else "" if reel.current_stage == PRESERVED else "not in the chain yet")
    return render(request, "workflow/reel_list.html", {
        "page": page, "q": q, "stage": stage,
        "stage_choices": [*Stage.choices, (PRESERVED, "preserved")],
    })


@require_GET
@staff_required
def collection_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    collections = Collection.objects.annotate(
        n_titles=Count("titles", distinct=True), n_reels=Count("titles__reels"))
    if q:
        collections = collections.filter(name__icontains=q)
    return render(request, "archive/collection_list.html", {"collections": collections, "q": q})


@require_GET
@staff_required
def title_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    titles = Title.objects.search(q).select_related("collection").prefetch_related(
        Prefetch("reels", queryset=Reel.objects.order_by("reel_number", "accession")))
    collection = request.GET.get("collection")
    if collection:
        titles = titles.filter(collection_id=collection)
    page = Paginator(titles, 50).get_page(request.GET.get("page"))
    for title in page:
        for reel in title.reels.all():
            reel.stage_label = stage_label(reel.current_stage)
    return render(request, "archive/title_list.html", {"page": page, "q": q})


# The reel page -----------------------------------------------------------------------------

def _timeline(reel: Reel, runs: list[StageRun]) -> list[dict[str, Any]]:
    latest: dict[str, StageRun] = {}
    for run in runs:
        latest[run.stage] = run
    return [{"stage": s, "run": latest.get(s.value)} for s in Stage.chain()]


RUN_PEOPLE = ("opened_by", "started_by", "signed_off_by", "approved_by", "returned_by")


def _with_thumbnail_state(photos: Any) -> list[InspectionPhoto]:
    """Mark each photo whose thumbnail is not there yet as still pending, or as failed when the
    latest job making it has failed (then the page stops asking)."""
    photos = list(photos)
    for photo in photos:
        photo.thumbnail_failed = False
        if not photo.thumbnail:
            job = (Job.objects.filter(kind="thumbnail_photo", args__photo=photo.pk)
                   .order_by("-pk").first())
            photo.thumbnail_failed = job is not None and job.state == JobState.FAILED
    return photos


def _reel_jobs(reel: Reel, focus: StageRun | None) -> tuple[list[Job], list[Job]]:
    """The jobs of the run in focus plus any unfinished or failed job; and the earlier ones."""
    shown: list[Job] = []
    earlier: list[Job] = []
    for job in Job.objects.filter(reel=reel)[:200]:
        _label_job(job)
        current = focus is not None and job.run_id == focus.pk
        if current or not job.is_finished or job.state == JobState.FAILED:
            shown.append(job)
        elif len(earlier) < 50:
            earlier.append(job)
    return shown, earlier


def _reel_page(request: HttpRequest, pk: int, *, work_form: Any = None,
               return_form: ReturnForm | None = None, import_form: Any = None,
               preview_form: Any = None, status: int = 200) -> HttpResponse:
    """The reel page. A POST view that refused its input passes its bound form (with the
    errors beside the fields and the values as typed) and a 400 status."""
    reel = get_object_or_404(Reel.objects.select_related("title__collection"), pk=pk)
    runs = list(StageRun.objects.filter(reel=reel).select_related(*RUN_PEOPLE).order_by("pk"))
    current = next((r for r in runs if r.is_active), None)
    jobs, earlier_jobs = _reel_jobs(reel, current or (runs[-1] if runs else None))
    context: dict[str, Any] = {
        "reel": reel, "runs": runs, "current": current, "timeline": _timeline(reel, runs),
        "stage_label": stage_label(reel.current_stage),
        "events": _events(Event.objects.filter(reel=reel).select_related("run")
                          .order_by("-seq")[:200]),
        "jobs": jobs, "earlier_jobs": earlier_jobs,
        "can_open_first": not runs and has_role(
            request.user, Role.TECHNICIAN, Role.SUPERVISOR, Role.ARCHIVIST),
        "preserved": reel.current_stage == PRESERVED,
    }
    context["raw_scan"] = (Sequence.objects.filter(reel=reel, kind=SequenceKind.RAW_SCAN,
                                                   superseded_at=None)
                           .exclude(state="importing").order_by("-version").first()
                           if current is None or current.stage != Stage.SCAN else None)
    if context["raw_scan"] is not None and (current is None or current.stage != Stage.REPAIR):
        # (at the repair stage the charts are shown beside the recipe)
        from workflow.repair_views import scan_charts

        context["raw_scan_charts"] = scan_charts(context["raw_scan"])
    if current is not None:
        verbs = transitions.allowed_verbs(current, request.user)
        context.update(verbs=verbs, signoff_form=SignOffForm(), withdraw_form=WithdrawForm(),
                       return_form=return_form or ReturnForm(stage=current.stage),
                       return_open=return_form is not None)
        if current.status == Status.SIGNED_OFF:
            context["digest_holds"] = transitions.current_digest(current) == current.signed_digest
            context["signer_is_supervisor"] = has_role(current.signed_off_by, Role.SUPERVISOR)
        if current.stage == Stage.INSPECTION:
            inspection = Inspection.objects.filter(run=current).first()
            if work_form is not None:
                form = work_form
            elif inspection is None:
                # A return re-opens the inspection: start from what was recorded last time.
                earlier = (Inspection.objects.filter(run__reel=reel).order_by("-run_id").first())
                form = InspectionForm(instance=Inspection(run=current), initial=(
                    {f: getattr(earlier, f) for f in Inspection.WORK_FIELDS} if earlier else None))
            else:
                form = InspectionForm(instance=inspection)
            if "edit" not in verbs:
                for field in form.fields.values():
                    field.disabled = True
            context.update(
                inspection=inspection, work_form=form, photo_form=PhotoForm(),
                photos=_with_thumbnail_state(inspection.photos.all()) if inspection else [],
            )
        elif current.stage == Stage.SCAN:
            context.update(_scan_context(request, reel, current, verbs, work_form, import_form))
        elif current.stage == Stage.REPAIR:
            from workflow.repair_views import repair_context

            context.update(repair_context(request, reel, current, verbs, work_form,
                                          preview_form))
        elif current.stage == Stage.GRADING:
            from workflow.grading_views import grading_context

            context.update(grading_context(request, reel, current, verbs, work_form))
        else:
            context["work_form"] = work_form or NotesForm(initial={"notes": current.notes})
            if "edit" not in verbs:
                context["work_form"].fields["notes"].disabled = True
    return render(request, "workflow/reel_detail.html", context, status=status)


def ingest_folders(limit: int = 1000) -> list[tuple[str, str]]:
    """Folders under the ingest roots, two levels deep: (absolute path, path shown)."""
    from django.conf import settings

    found: list[tuple[str, str]] = []

    def walk(folder: Any, root: Any, depth: int) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if len(found) >= limit:
                return
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            found.append((entry.path, f"{root.name}/{os.path.relpath(entry.path, root)}"))
            if depth < 2:
                walk(entry.path, root, depth + 1)

    for root in settings.INGEST_ROOTS:
        walk(root, root, 1)
    return found


def _scan_context(request: HttpRequest, reel: Reel, run: StageRun, verbs: set[str],
                  work_form: Any, import_form: Any) -> dict[str, Any]:
    record = ScanRecord.objects.select_related("sequence").filter(run=run).first()
    form = work_form or ScanSettingsForm(instance=record or ScanRecord(run=run))
    if "edit" not in verbs:
        for field in form.fields.values():
            field.disabled = True
    sequence = record.sequence if record else None
    importing = sequence is not None and sequence.state == SequenceState.IMPORTING
    busy = importing and Job.objects.filter(
        kind__in=("ingest_chunk", "ingest_finish"), args__sequence=sequence.pk,
        state__in=(JobState.QUEUED, JobState.RUNNING)).exists()
    return {
        "work_form": form, "scan": record, "sequence": sequence, "importing": importing,
        "can_resume": "edit" in verbs and sequence is not None and (
            sequence.state == SequenceState.FAILED or (importing and not busy)),
        "import_form": import_form or ImportScanForm(folders=ingest_folders()),
        "other_sequences": Sequence.objects.filter(reel=reel).exclude(
            pk=sequence.pk if sequence else None).order_by("-version"),
    }


@require_GET
@staff_required
def reel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _reel_page(request, pk)


def _facts(record: Any, fields: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(label, value as shown) for each work field of an inspection or scan record."""
    facts = []
    for name in fields:
        field = record._meta.get_field(name)
        value = getattr(record, f"get_{name}_display")() if field.choices else getattr(record, name)
        facts.append((field.verbose_name[:1].upper() + field.verbose_name[1:],
                      "—" if value in (None, "") else value))
    return facts


@require_GET
@staff_required
def run_detail(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    """One run (one attempt at one stage), read-only: who did what when, and its work record."""
    run = get_object_or_404(
        StageRun.objects.select_related("reel__title__collection", "previous", *RUN_PEOPLE),
        pk=run_id, reel_id=pk)
    context: dict[str, Any] = {
        "reel": run.reel, "run": run, "stage_label": run.get_stage_display(),
        "returned_to_label": stage_label(run.returned_to),
        "events": _events(Event.objects.filter(run=run).order_by("seq")),
        "jobs": [_label_job(j) for j in Job.objects.filter(run=run)[:50]],
        "attempts": list(StageRun.objects.filter(reel_id=pk, stage=run.stage).order_by("attempt")),
        "signer_is_supervisor": has_role(run.signed_off_by, Role.SUPERVISOR)
        if run.signed_off_by else False,
    }
    if run.signed_digest:
        context["digest_holds"] = transitions.current_digest(run) == run.signed_digest
    if run.stage == Stage.INSPECTION:
        inspection = Inspection.objects.filter(run=run).first()
        if inspection is not None:
            context.update(inspection=inspection,
                           facts=_facts(inspection, Inspection.WORK_FIELDS),
                           photos=_with_thumbnail_state(inspection.photos.all()))
    elif run.stage == Stage.SCAN:
        record = ScanRecord.objects.select_related("sequence").filter(run=run).first()
        if record is not None:
            context.update(scan=record, facts=_facts(record, ScanRecord.WORK_FIELDS))
    elif run.stage == Stage.REPAIR:
        from workflow.recipes import invents_detail

        repair = RepairRecord.objects.select_related("source", "sequence").filter(run=run).first()
        if repair is not None:
            context.update(repair=repair, repair_invents=invents_detail(repair.recipe))
    return render(request, "workflow/run_detail.html", context)


@require_POST
@staff_required
def open_first(request: HttpRequest, pk: int) -> HttpResponse:
    reel = get_object_or_404(Reel, pk=pk)
    return _act(request, reel, lambda: transitions.open_first_stage(reel, by=request.user),
                "Inspection opened.")


@require_POST
@staff_required
def start(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = _run_of(pk, run_id)
    return _act(request, run.reel, lambda: transitions.start_stage(run, by=request.user),
                f"{run.stage_enum.label.capitalize()} started.")


@require_POST
@staff_required
def save_work(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = worked_run_of(request, pk, run_id)
    if run.stage == Stage.INSPECTION:
        form = InspectionForm(request.POST)
        if not form.is_valid():
            labels = [form[f].label if f in form.fields else f for f in form.errors]
            messages.error(request, f"Not saved — check {', '.join(labels)}.")
            if run.is_active:
                # The same page again, the values as typed and each error beside its field.
                return _reel_page(request, pk, work_form=form, status=400)
            return redirect("workflow:reel", pk=pk)
        values = {f: form.cleaned_data[f] for f in Inspection.WORK_FIELDS}
        action = lambda: transitions.save_inspection(run, values, by=request.user)  # noqa: E731
    elif run.stage == Stage.SCAN:
        form = ScanSettingsForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Not saved — check the scanner settings.")
            return _reel_page(request, pk, work_form=form, status=400)
        values = {f: form.cleaned_data[f] for f in ScanRecord.WORK_FIELDS}
        action = lambda: transitions.save_scan_settings(  # noqa: E731
            run, values, by=request.user)
    elif run.stage == Stage.REPAIR:
        from workflow.repair_views import save_recipe

        return save_recipe(request, pk, run)
    elif run.stage == Stage.GRADING:
        from workflow.grading_views import save_base

        return save_base(request, pk, run)
    else:
        form = NotesForm(request.POST)
        form.is_valid()
        notes = form.cleaned_data.get("notes", "")
        action = lambda: transitions.save_notes(run, notes, by=request.user)  # noqa: E731
    return _act(request, run.reel, action, "Saved.")


@require_POST
@staff_required
def add_photo(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = worked_run_of(request, pk, run_id)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        name = getattr(request.FILES.get("photo"), "name", "")
        problems = " ".join(e for errors in form.errors.values() for e in errors)
        messages.error(request, f"Photo {name} not added — {problems}".replace("  ", " "))
        return redirect("workflow:reel", pk=pk)
    upload = request.FILES["photo"]
    try:
        stored = store_photo(upload, reel_id=run.reel_id)
    except InvalidImage as exc:
        messages.error(request, str(exc))
        return redirect("workflow:reel", pk=pk)
    stored["caption"] = form.cleaned_data["caption"]
    return _act(request, run.reel,
                lambda: transitions.attach_photo(run, stored, by=request.user),
                f"Photo {upload.name} added; its thumbnail is being made.")


@require_POST
@staff_required
def sign_off(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = _run_of(pk, run_id)
    form = SignOffForm(request.POST)
    form.is_valid()
    comment = form.cleaned_data.get("comment", "")
    return _act(request, run.reel,
                lambda: transitions.sign_off(run, by=request.user, comment=comment),
                "Signed off. It now waits for a supervisor's approval.")


@require_POST
@staff_required
def withdraw(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = _run_of(pk, run_id)
    form = WithdrawForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    return _act(request, run.reel,
                lambda: transitions.withdraw(run, by=request.user, reason=reason),
                "Sign-off withdrawn; the work is open for changes again.")


def _approved_message(run: StageRun, opened: StageRun | None) -> str:
    if opened is None:
        return f"{run.reel.accession}: {run.get_stage_display()} approved. The reel is preserved."
    return f"{run.reel.accession}: {run.get_stage_display()} approved; " \
           f"{opened.get_stage_display()} is open."


@require_POST
@role_required(Role.SUPERVISOR)
def approve(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = _run_of(pk, run_id)
    return _decide(request, run, lambda: transitions.approve_stage(run, by=request.user),
                   lambda opened: _approved_message(run, opened))


@require_POST
@role_required(Role.SUPERVISOR)
def return_run(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = _run_of(pk, run_id)
    htmx = is_htmx(request)
    form = ReturnForm(request.POST, stage=run.stage,
                      auto_id=f"id_r{run.pk}_%s" if htmx else "id_%s")
    if not form.is_valid():
        text = "Not returned — " + "; ".join(
            f"{form[k].label if k in form.fields else k}: {' '.join(v)}"
            for k, v in form.errors.items())
        if htmx:
            return _queue_row(request, run, error=text, return_form=form)
        messages.error(request, text)
        if not request.POST.get("next") and run.status == Status.SIGNED_OFF:
            # From the reel page: the page again, the Return box open with what was typed.
            return _reel_page(request, pk, return_form=form, status=400)
        return redirect(_back(request, run))
    to_stage, reason = form.cleaned_data["to_stage"], form.cleaned_data["reason"]
    return _decide(
        request, run,
        lambda: transitions.return_reel(run, by=request.user, to_stage=to_stage, reason=reason),
        lambda opened: f"{run.reel.accession}: {run.get_stage_display()} returned; "
                       f"{opened.get_stage_display()} is open again.",
        returning=True)


def _decide(request: HttpRequest, run: StageRun, action: Callable[[], Any],
            message: Callable[[Any], str], *, returning: bool = False) -> HttpResponse:
    """Approve or return: inline in the queue (htmx) or as a plain POST and redirect."""
    if is_htmx(request):
        return _queue_row_result(request, run, action, message, returning=returning)
    try:
        result = action()
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, message(result))
    return redirect(_back(request, run))


def _back(request: HttpRequest, run: StageRun) -> str:
    """Where to go after a decision: the page it came from (the queue), else the reel."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return run.reel.get_absolute_url()


# The supervisors' queue --------------------------------------------------------------------

@require_GET
@role_required(Role.SUPERVISOR)
def queue(request: HttpRequest) -> HttpResponse:
    stage = request.GET.get("stage", "")
    runs = StageRun.objects.awaiting_approval().select_related("reel__title", "signed_off_by")
    if stage:
        runs = runs.filter(stage=stage)
    runs = list(runs)
    inspections = {i.run_id: i for i in Inspection.objects.filter(run__in=runs)}
    scans = {r.run_id: r.sequence for r in
             ScanRecord.objects.filter(run__in=runs).select_related("sequence")}
    repairs = {r.run_id: r for r in
               RepairRecord.objects.filter(run__in=runs).select_related("sequence")}
    grades = {g.run_id: g for g in
              GradeRecord.objects.filter(run__in=runs).select_related("sequence")}
    for run in runs:
        run.return_form = _return_form(run)
        run.facts = inspections.get(run.pk)
        _with_repair(run, repairs.get(run.pk))
        run.grade_record = grades.get(run.pk)
        run.sequence = scans.get(run.pk) or run.sequence or (
            run.grade_record.sequence if run.grade_record else None)
    return render(request, "workflow/queue.html", {
        "runs": runs, "stage": stage, "stage_choices": Stage.choices,
    })


def _queue_row(request: HttpRequest, run: StageRun, *, error: str = "", done: str = "",
               return_form: ReturnForm | None = None, return_open: bool = False) -> HttpResponse:
    run = StageRun.objects.select_related("reel__title", "signed_off_by").get(pk=run.pk)
    run.return_form = return_form or _return_form(run)
    run.facts = Inspection.objects.filter(run=run).first()
    _with_repair(run, RepairRecord.objects.select_related("sequence").filter(run=run).first())
    run.grade_record = GradeRecord.objects.select_related("sequence").filter(run=run).first()
    record = ScanRecord.objects.select_related("sequence").filter(run=run).first()
    run.sequence = record.sequence if record else run.sequence or (
        run.grade_record.sequence if run.grade_record else None)
    return render(request, "workflow/_queue_row.html", {
        "run": run, "error": error, "done": done,
        "return_open": return_open or return_form is not None,
    })


def _with_repair(run: StageRun, record: RepairRecord | None) -> None:
    """What the queue shows of a repair: its steps, what invents detail, its output."""
    from workflow.recipes import invents_detail

    run.repair_record = record
    run.sequence = record.sequence if record else None
    run.invents = invents_detail(record.recipe) if record and record.recipe else []


def _return_form(run: StageRun) -> ReturnForm:
    return ReturnForm(stage=run.stage, auto_id=f"id_r{run.pk}_%s")


def _queue_row_result(request: HttpRequest, run: StageRun, action: Callable[[], Any],
                      message: Callable[[Any], str], *, returning: bool) -> HttpResponse:
    """htmx: do the action and answer with the queue row as it now stands. The queue has
    changed (by this decision, or by someone else's if refused), so the header's count is told
    to look again."""
    try:
        result = action()
    except TransitionRefused as exc:
        response = _queue_row(request, run, error=str(exc), return_open=returning)
    else:
        response = _queue_row(request, run, done=message(result))
    response["HX-Trigger"] = "queue-changed"
    return response


@require_GET
@role_required(Role.SUPERVISOR)
def queue_count(request: HttpRequest) -> HttpResponse:
    n = StageRun.objects.awaiting_approval().exclude(signed_off_by=request.user).count()
    return HttpResponse(str(n))


# Jobs and photos ---------------------------------------------------------------------------

@require_GET
@staff_required
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=job_id)
    response = render(request, "workflow/_job.html", {"job": _label_job(job)})
    if job.kind == "repair_preview" and job.state == JobState.DONE:
        response["HX-Refresh"] = "true"  # the page shows the preview itself
    return response


@require_GET
@staff_required
def photo_card(request: HttpRequest, photo_id: int) -> HttpResponse:
    """One photo as the reel page shows it; while its thumbnail is pending the card asks again."""
    item = get_object_or_404(InspectionPhoto, pk=photo_id)
    return render(request, "workflow/_photo.html", {"p": _with_thumbnail_state([item])[0]})


@require_GET
@staff_required
def photo(request: HttpRequest, photo_id: int, size: str) -> HttpResponse:
    from django.conf import settings

    if size not in ("full", "thumb"):
        raise Http404("no such size")
    item = get_object_or_404(InspectionPhoto, pk=photo_id)
    name = item.image.name if size == "full" else item.thumbnail
    if not name:
        raise Http404("the thumbnail is not made yet")
    path = (settings.MEDIA_ROOT / name).resolve()
    if not path.is_relative_to(settings.MEDIA_ROOT) or not path.is_file():
        raise Http404("photo file missing")
    return FileResponse(open(path, "rb"))


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page links no icon (the admin's): the SVG one."""
    from django.templatetags.static import static

    return redirect(static("favicon.svg"), permanent=True)


# Scan import --------------------------------------------------------------------------------

@require_POST
@staff_required
def import_scan(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    from restoration.inspect import UnusableSequence

    run = worked_run_of(request, pk, run_id)
    form = ImportScanForm(request.POST, folders=ingest_folders())
    if not form.is_valid():
        messages.error(request, "Not imported — choose a folder from the list.")
        return _reel_page(request, pk, import_form=form, status=400)
    folder, pattern = form.cleaned_data["folder"], form.cleaned_data["pattern"] or None
    try:
        sequence = transitions.start_scan_import(run, folder, pattern, by=request.user)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None
    except (TransitionRefused, UnusableSequence) as exc:
        form.add_error("pattern" if isinstance(exc, UnusableSequence) else "folder", str(exc))
        messages.error(request, "Not imported — see the import form.")
        return _reel_page(request, pk, import_form=form, status=400)
    messages.success(request, f"Importing {sequence.pattern}: {sequence.frame_count} frames. "
                              "You can leave this page; the import goes on.")
    return redirect("workflow:reel", pk=pk)


@require_POST
@staff_required
def resume_import(request: HttpRequest, pk: int, seq_id: int) -> HttpResponse:
    sequence = get_object_or_404(Sequence, pk=seq_id, reel_id=pk)
    return _act(request, sequence.reel,
                lambda: transitions.resume_scan_import(sequence, by=request.user),
                "Import resumed: the parts not yet read are read again.")


@require_POST
@staff_required
def resume_render(request: HttpRequest, pk: int, seq_id: int) -> HttpResponse:
    """Resume a repair or a grading render: only the chunks not yet done are done again."""
    sequence = get_object_or_404(Sequence, pk=seq_id, reel_id=pk,
                                 kind__in=list(transitions.RENDERS))
    noun = transitions.RENDERS[sequence.kind].noun
    return _act(request, sequence.reel,
                lambda: transitions.resume_render(sequence, by=request.user),
                f"{noun.capitalize()} resumed: only the chunks not yet done are done again.")


@require_GET
@staff_required
def sequence_card(request: HttpRequest, pk: int, seq_id: int) -> HttpResponse:
    """A sequence's summary, asked for again while its thumbnails are being made."""
    sequence = get_object_or_404(Sequence, pk=seq_id, reel_id=pk)
    return render(request, "workflow/_sequence.html", {"sequence": sequence})


@require_GET
@staff_required
def sequence_progress(request: HttpRequest, pk: int, seq_id: int) -> HttpResponse:
    """The import's progress bar; once the import has ended, the page reloads itself."""
    sequence = get_object_or_404(Sequence, pk=seq_id, reel_id=pk)
    done, total = import_progress(sequence)
    response = render(request, "workflow/_import_progress.html", {
        "sequence": sequence, "done": done, "total": total,
        "percent": int(100 * done / total) if total else 0})
    if sequence.state != SequenceState.IMPORTING:
        response["HX-Refresh"] = "true"
    return response


SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


@require_GET
@staff_required
def sequence_file(request: HttpRequest, pk: int, seq_id: int, kind: str, name: str
                  ) -> HttpResponse:
    """A proxy (thumbnail, contact sheet) or the manifest / bag-info of a sequence."""
    from pathlib import Path

    sequence = get_object_or_404(Sequence, pk=seq_id, reel_id=pk)
    folders = {"thumbs": "proxies/thumbs", "sheets": "proxies/sheets", "meta": ""}
    if kind not in folders or not SAFE_NAME.match(name) or name.startswith("."):
        raise Http404("no such file")
    if kind == "meta" and name not in ("manifest-sha256.txt", "bag-info.txt",
                                       "fixity-xxh3_128.txt", "provenance.json"):
        raise Http404("no such file")
    storage = Path(sequence.storage_dir).resolve()
    path = (storage / folders[kind] / name).resolve()
    if not path.is_relative_to(storage) or not path.is_file():
        raise Http404("no such file")
    content_type = ("application/json" if name.endswith(".json") else
                    "text/plain; charset=utf-8" if kind == "meta" else "image/jpeg")
    return FileResponse(open(path, "rb"), content_type=content_type)
