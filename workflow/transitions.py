"""Every change of a reel's workflow state, one function per verb.

Each function is atomic, locks the reel row first (so two people acting on one reel are served
one after the other), re-reads the run, checks the actor's role against the fresh state, moves
the state with a conditional UPDATE whose row count is checked, and appends one event per
change. Views, commands and jobs call these; nothing else writes workflow state.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from archive.models import Reel, Sequence, SequenceKind, SequenceState
from workflow.history import append_event, digest_of
from workflow.models import (
    PRESERVED,
    Event,
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
from workflow.roles import Role, has_role, roles_of


class TransitionRefused(Exception):
    """The change was not made; the message says why, in words a person can act on."""


class NotAllowed(TransitionRefused):
    """Refused because of who is asking (their roles, or their own sign-off), not the state."""


def _lock_reel(reel_id: int) -> Reel:
    return Reel.objects.select_for_update().get(pk=reel_id)


def _fresh_run(run: StageRun | int) -> tuple[Reel, StageRun]:
    run_id = run if isinstance(run, int) else run.pk
    reel_id = StageRun.objects.values_list("reel_id", flat=True).get(pk=run_id)
    reel = _lock_reel(reel_id)
    return reel, StageRun.objects.select_related("reel", "signed_off_by").get(pk=run_id)


def _event(reel: Reel, run: StageRun | None, verb: str, by: Any, **facts: Any) -> Event:
    return append_event(
        reel, verb, run=run, stage=run.stage if run else "", actor=by, **facts
    )


def _move(run: StageRun, expected: str, to: str, **fields: Any) -> None:
    moved = StageRun.objects.filter(pk=run.pk, status=expected).update(status=to, **fields)
    if moved != 1:  # cannot happen while the reel row is locked; kept as the last guard
        raise TransitionRefused(f"{run} is no longer {expected}")


def _require_role(run: StageRun, by: Any, verb: str) -> None:
    if not run.can_be_worked_by(by):
        raise NotAllowed(
            f"{by} may not {verb} the {run.stage} stage: it needs the {run.role} role"
        )


def _describe(run: StageRun) -> str:
    if run.status == Status.APPROVED:
        who = run.approved_by.get_username() if run.approved_by else "someone"
        return f"already approved by {who}"
    if run.status == Status.RETURNED:
        who = run.returned_by.get_username() if run.returned_by else "someone"
        return f"already returned by {who}"
    return f"it is {run.get_status_display()}"


# Opening stages ---------------------------------------------------------------------------

def _open(reel: Reel, stage: str, by: Any, previous: StageRun | None, reason: str = "") -> StageRun:
    if StageRun.objects.filter(reel=reel).active().exists():
        raise TransitionRefused(f"{reel.accession} already has an open stage")
    attempt = StageRun.objects.filter(reel=reel, stage=stage).count() + 1
    run = StageRun.objects.create(
        reel=reel, stage=stage, attempt=attempt, status=Status.OPEN, previous=previous,
        opened_at=timezone.now(), opened_by=by,
    )
    Reel.objects.filter(pk=reel.pk).update(current_stage=stage)
    reel.current_stage = stage
    _event(reel, run, "opened", by, from_state=Status.NOT_STARTED, to_state=Status.OPEN,
           reason=reason, data={"attempt": attempt})
    return run


@transaction.atomic
def open_first_stage(reel: Reel, *, by: AbstractBaseUser) -> StageRun:
    """Put a newly catalogued reel into the chain: its inspection opens."""
    if not has_role(by, Role.TECHNICIAN, Role.SUPERVISOR, Role.ARCHIVIST):
        raise NotAllowed(f"{by} may not open a reel's inspection")
    reel = _lock_reel(reel.pk)
    if StageRun.objects.filter(reel=reel).exists():
        raise TransitionRefused(f"{reel.accession} is already in the chain")
    return _open(reel, Stage.INSPECTION, by, None)


# Doing the work ---------------------------------------------------------------------------

def _ensure_started(reel: Reel, run: StageRun, by: Any) -> StageRun:
    if run.status == Status.OPEN:
        now = timezone.now()
        _move(run, Status.OPEN, Status.IN_PROGRESS, started_at=now, started_by=by)
        _event(reel, run, "started", by, from_state=Status.OPEN, to_state=Status.IN_PROGRESS)
        run.status, run.started_at, run.started_by = Status.IN_PROGRESS, now, by
    elif run.status != Status.IN_PROGRESS:
        raise TransitionRefused(
            f"the {run.stage} work of {reel.accession} is locked: {_describe(run)}"
        )
    return run


@transaction.atomic
def start_stage(run: StageRun, *, by: AbstractBaseUser) -> StageRun:
    reel, run = _fresh_run(run)
    _require_role(run, by, "start")
    if run.status != Status.OPEN:
        raise TransitionRefused(f"the {run.stage} stage cannot be started: {_describe(run)}")
    return _ensure_started(reel, run, by)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _save_record(run: StageRun, model: Any, stage: str, values: dict[str, Any],
                 by: AbstractBaseUser) -> Any:
    """Record a stage's facts in its own model (the first save starts the stage); every change
    appends one `edited` event with the changed fields and the digest of the work after it."""
    reel, run = _fresh_run(run)
    if run.stage != stage:
        raise TransitionRefused(f"{run} is not a {stage} run")
    _require_role(run, by, "record")
    _ensure_started(reel, run, by)
    record, _ = model.objects.get_or_create(run=run)
    before = record.work()
    for name in model.WORK_FIELDS:
        if name in values:
            setattr(record, name, values[name])
    record.full_clean()
    record.save()
    changed = _changes(before, record.work())
    if changed:
        _event(reel, run, "edited", by, from_state=run.status, to_state=run.status,
               digest=digest_of(_work(run)), data={"changed": changed})
    return record


@transaction.atomic
def save_inspection(run: StageRun, values: dict[str, Any], *, by: AbstractBaseUser) -> Inspection:
    """Record inspection facts (the first save starts the stage). Appends an `edited` event."""
    return _save_record(run, Inspection, Stage.INSPECTION, values, by)


@transaction.atomic
def save_notes(run: StageRun, notes: str, *, by: AbstractBaseUser) -> StageRun:
    """Record a stage's work as notes (the stages whose own forms come in later issues)."""
    reel, run = _fresh_run(run)
    _require_role(run, by, "record")
    _ensure_started(reel, run, by)
    if notes != run.notes:
        old = run.notes
        StageRun.objects.filter(pk=run.pk).update(notes=notes)
        run.notes = notes
        _event(reel, run, "edited", by, from_state=run.status, to_state=run.status,
               digest=digest_of(_work(run)), data={"changed": {"notes": [old, notes]}})
    return run


def _work(run: StageRun) -> dict[str, Any]:
    """What a sign-off of this run covers."""
    work: dict[str, Any] = {"stage": run.stage, "run": run.pk, "notes": run.notes}
    if run.stage == Stage.INSPECTION:
        inspection = Inspection.objects.filter(run=run).first()
        work["inspection"] = inspection.work() if inspection else None
    if run.stage == Stage.SCAN:
        record = ScanRecord.objects.select_related("sequence").filter(run=run).first()
        work["scan"] = record.work() if record else None
    if run.stage == Stage.REPAIR:
        repair = RepairRecord.objects.select_related("source", "sequence").filter(run=run).first()
        work["repair"] = repair.work() if repair else None
    if run.stage == Stage.GRADING:
        from workflow.models import GradeRecord

        grade = GradeRecord.objects.select_related("source", "sequence").filter(run=run).first()
        work["grade"] = grade.work() if grade else None
    return work


def _check_repair_ready(run: StageRun) -> None:
    """A repair is signed off only with its output finished: the sign-off binds its manifest."""
    record = RepairRecord.objects.select_related("sequence").filter(run=run).first()
    seq = record.sequence if record else None
    _check_finished(seq, "run the repair", f"the repair ({seq})", "resume it or run it again")


def _check_scan_ready(run: StageRun) -> None:
    """A scan is signed off only with a finished import: the sign-off binds its manifest."""
    record = ScanRecord.objects.select_related("sequence").filter(run=run).first()
    _check_finished(record.sequence if record else None, "import the scan",
                    f"the import of {record.sequence.pattern}" if record and record.sequence
                    else "", "resume it or import again")


def _check_finished(seq: Sequence | None, first: str, what: str, remedy: str) -> None:
    """The sequence a sign-off binds must be stored whole, with its manifest."""
    if seq is None:
        raise TransitionRefused(f"{first} before signing it off")
    if seq.state == SequenceState.IMPORTING:
        raise TransitionRefused(f"{what} is still running")
    if seq.state == SequenceState.FAILED or not seq.manifest_digest:
        raise TransitionRefused(f"{what} failed: {remedy}")


def current_digest(run: StageRun) -> str:
    """The digest of the run's work as it is stored now; equals `signed_digest` unless tampered."""
    return digest_of(_work(run))


def attach_photo(run: StageRun, stored: dict[str, Any], *, by: AbstractBaseUser) -> Any:
    """Attach an already stored, checked photo to the inspection and queue its thumbnail."""
    from workflow.runner import enqueue

    with transaction.atomic():
        reel, run = _fresh_run(run)
        if run.stage != Stage.INSPECTION:
            raise TransitionRefused(f"{run} is not an inspection")
        _require_role(run, by, "add photos to")
        _ensure_started(reel, run, by)
        inspection, _ = Inspection.objects.get_or_create(run=run)
        photo = InspectionPhoto.objects.create(inspection=inspection, uploaded_by=by, **stored)
        _event(reel, run, "photo_added", by, from_state=run.status, to_state=run.status,
               digest=digest_of(_work(run)),
               data={"photo": photo.pk, "sha256": photo.sha256, "name": photo.original_name})
        enqueue("thumbnail_photo", reel=reel, run=run, by=by, args={"photo": photo.pk})
    return photo


# Sign-off, withdraw, approve, return ------------------------------------------------------

@transaction.atomic
def sign_off(run: StageRun, *, by: AbstractBaseUser, comment: str = "") -> StageRun:
    reel, run = _fresh_run(run)
    _require_role(run, by, "sign off")
    if run.status != Status.IN_PROGRESS:
        raise TransitionRefused(f"the {run.stage} stage cannot be signed off: {_describe(run)}"
                                + (" (record the work first)" if run.status == Status.OPEN else ""))
    if run.stage == Stage.INSPECTION and not Inspection.objects.filter(run=run).exists():
        raise TransitionRefused("record the inspection before signing it off")
    if run.stage == Stage.SCAN:
        _check_scan_ready(run)
    if run.stage == Stage.REPAIR:
        _check_repair_ready(run)
    if run.stage == Stage.GRADING:
        _check_grade_ready(run)
    digest = digest_of(_work(run))
    now = timezone.now()
    _move(run, Status.IN_PROGRESS, Status.SIGNED_OFF, signed_off_at=now, signed_off_by=by,
          signed_digest=digest, sign_off_comment=comment)
    _event(reel, run, "signed_off", by, from_state=Status.IN_PROGRESS,
           to_state=Status.SIGNED_OFF, digest=digest, reason=comment)
    run.refresh_from_db()
    return run


@transaction.atomic
def withdraw(run: StageRun, *, by: AbstractBaseUser, reason: str = "") -> StageRun:
    reel, run = _fresh_run(run)
    if run.status != Status.SIGNED_OFF:
        raise TransitionRefused(f"the sign-off cannot be withdrawn: {_describe(run)}")
    if run.signed_off_by_id != by.pk:
        raise NotAllowed("only the person who signed off may withdraw the sign-off")
    _move(run, Status.SIGNED_OFF, Status.IN_PROGRESS, signed_off_at=None, signed_off_by=None,
          signed_digest="", sign_off_comment="")
    _event(reel, run, "withdrawn", by, from_state=Status.SIGNED_OFF,
           to_state=Status.IN_PROGRESS, reason=reason, digest=run.signed_digest)
    run.refresh_from_db()
    return run


@transaction.atomic
def approve_stage(run: StageRun, *, by: AbstractBaseUser) -> StageRun | None:
    """Approve a signed-off run; the next stage opens (or the reel is preserved).

    Returns the newly opened run, or None when the reel has left the chain as preserved.
    """
    reel, run = _fresh_run(run)
    if not has_role(by, Role.SUPERVISOR):
        raise NotAllowed(f"{by} may not approve: it needs the supervisor role")
    if run.status != Status.SIGNED_OFF:
        raise TransitionRefused(f"{run.reel.accession} {run.stage} is not awaiting approval: "
                                f"{_describe(run)}")
    if run.signed_off_by_id == by.pk:
        raise NotAllowed("nobody approves their own signed-off work: "
                                "another supervisor must approve it")
    _move(run, Status.SIGNED_OFF, Status.APPROVED, approved_at=timezone.now(), approved_by=by)
    _event(reel, run, "approved", by, from_state=Status.SIGNED_OFF, to_state=Status.APPROVED,
           digest=run.signed_digest)
    following = Stage(run.stage).next
    if following is None:
        Reel.objects.filter(pk=reel.pk).update(current_stage=PRESERVED)
        _event(reel, None, "preserved", by, from_state=run.stage, to_state=PRESERVED)
        return None
    return _open(reel, following, by, run)


@transaction.atomic
def return_reel(run: StageRun, *, by: AbstractBaseUser, to_stage: str, reason: str) -> StageRun:
    """Return a signed-off run; a new run opens at `to_stage` (this stage or an earlier one)."""
    reel, run = _fresh_run(run)
    if not has_role(by, Role.SUPERVISOR):
        raise NotAllowed(f"{by} may not return work: it needs the supervisor role")
    reason = (reason or "").strip()
    if not reason:
        raise TransitionRefused("a return needs a reason")
    if to_stage not in Stage.values or Stage(to_stage).index > Stage(run.stage).index:
        raise TransitionRefused(
            f"a {run.stage} run can be returned to {run.stage} or an earlier stage, "
            f"not {to_stage!r}"
        )
    if run.status != Status.SIGNED_OFF:
        raise TransitionRefused(f"{run.reel.accession} {run.stage} is not awaiting approval: "
                                f"{_describe(run)}")
    _move(run, Status.SIGNED_OFF, Status.RETURNED, returned_at=timezone.now(), returned_by=by,
          returned_to=to_stage, return_reason=reason)
    _event(reel, run, "returned", by, from_state=Status.SIGNED_OFF, to_state=Status.RETURNED,
           reason=reason, digest=run.signed_digest, data={"to_stage": to_stage})
    return _open(reel, to_stage, by, run, reason=reason)


# Jobs -------------------------------------------------------------------------------------

def _job_event(job: Job, verb: str, **facts: Any) -> None:
    if job.reel_id is None:
        return
    reel = _lock_reel(job.reel_id)
    _event(reel, job.run, verb, job.created_by, data={"job": job.pk, "kind": job.kind}, **facts)


@transaction.atomic
def begin_job(job_id: int, *, worker: str) -> Job:
    moved = Job.objects.filter(pk=job_id, state__in=(JobState.QUEUED, JobState.RUNNING)).update(
        state=JobState.RUNNING, started_at=timezone.now(), worker=worker[:200], error="")
    job = Job.objects.select_related("run").get(pk=job_id)
    if moved != 1:
        raise TransitionRefused(f"job {job_id} has already ended ({job.state})")
    return job


def report_progress(job_id: int, done: int, total: int, message: str = "") -> None:
    """Progress is not workflow state: a plain update, no event, outside any transaction."""
    Job.objects.filter(pk=job_id, state=JobState.RUNNING).update(
        done=done, total=total, message=message[:300])


@transaction.atomic
def finish_job(job_id: int, *, message: str = "") -> Job:
    job = Job.objects.select_related("run").get(pk=job_id)
    moved = Job.objects.filter(pk=job_id, state=JobState.RUNNING).update(
        state=JobState.DONE, ended_at=timezone.now(), message=message[:300],
        done=job.total or job.done)
    if moved == 1:
        _job_event(job, "job_done", reason=message)
    job.refresh_from_db()
    return job


@transaction.atomic
def fail_job(job_id: int, *, error: str) -> Job:
    """Record a job's failure; a job waiting for this one (args["then"]) fails with it, and a
    failed import leaves its sequence marked failed, ready to be resumed."""
    job = Job.objects.select_related("run").get(pk=job_id)
    moved = Job.objects.filter(pk=job_id).exclude(state__in=(JobState.FAILED, JobState.DONE)
                                                   ).update(
        state=JobState.FAILED, ended_at=timezone.now(), error=error)
    if moved == 1:
        _job_event(job, "job_failed", reason=error[:2000])
        then = job.args.get("then")
        if then:
            fail_job(then, error=f"not run: {job.kind} job {job.pk} failed: {error}"[:4000])
        if job.kind in ("ingest_chunk", "ingest_finish", *RENDER_JOBS) and \
                "sequence" in job.args:

            Sequence.objects.filter(pk=job.args["sequence"], state=SequenceState.IMPORTING
                                    ).update(state=SequenceState.FAILED, error=error[:4000])
    job.refresh_from_db()
    return job


def allowed_verbs(run: StageRun, user: Any) -> set[str]:
    """What the page may offer this user on this run (the server checks again on POST)."""
    verbs: set[str] = set()
    if not roles_of(user):
        return verbs
    if run.can_be_worked_by(user):
        if run.status == Status.OPEN:
            verbs |= {"start", "edit"}
        if run.status == Status.IN_PROGRESS:
            verbs |= {"edit", "sign_off"}
    if run.can_be_withdrawn_by(user):
        verbs.add("withdraw")
    if run.can_be_approved_by(user):
        verbs.add("approve")
    if run.can_be_returned_by(user):
        verbs.add("return")
    return verbs


# Scan import ------------------------------------------------------------------------------

def resolve_ingest_folder(path: str | Path) -> Path:
    """The real folder `path` names, which must lie under one of INGEST_ROOTS.

    Symbolic links and `..` are resolved first, so neither leads outside the roots.
    """
    from django.conf import settings

    roots = [Path(r) for r in settings.INGEST_ROOTS]
    if not roots:
        raise TransitionRefused("no INGEST_ROOTS are configured: scans are imported only from "
                                "folders under them")
    try:
        real = Path(path).resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise TransitionRefused(f"{path}: no such folder") from None
    if not any(real == root or real.is_relative_to(root) for root in roots):
        raise TransitionRefused(f"{path}: outside the ingest roots "
                                f"({', '.join(str(r) for r in roots)})")
    if not real.is_dir():
        raise TransitionRefused(f"{path}: not a folder")
    return real


def _check_links(folder: Path, names: list[str]) -> None:
    """A frame that is a symbolic link must not lead outside the ingest roots either."""
    from django.conf import settings

    roots = [Path(r) for r in settings.INGEST_ROOTS]
    wanted = set(names)
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name in wanted and entry.is_symlink():
                target = Path(entry.path).resolve()
                if not any(target.is_relative_to(root) for root in roots):
                    raise TransitionRefused(f"{entry.name}: a link to {target}, outside the "
                                            "ingest roots")


@transaction.atomic
def save_scan_settings(run: StageRun, values: dict[str, Any], *, by: AbstractBaseUser):
    """Record the scanner settings (the first save starts the stage)."""
    return _save_record(run, ScanRecord, Stage.SCAN, values, by)


def _chunks(total: int, size: int) -> list[list[int]]:
    size = max(1, size)
    return [[start, min(start + size, total)] for start in range(0, total, size)]


def start_scan_import(run: StageRun, folder: str | Path, pattern: str | None = None, *,
                      by: AbstractBaseUser):
    """Begin importing the sequence in `folder` into a new raw-scan Sequence of the reel.

    Refuses (TransitionRefused, nothing written) for the wrong role or stage, a folder outside
    the ingest roots, or an import already running; raises restoration's UnusableSequence when
    the folder holds no sequence, or several and `pattern` picks none.
    """
    import json

    from django.conf import settings

    from restoration.fixity import write_atomic
    from restoration.inspect import plan_sequence
    from workflow.runner import enqueue_group

    run = StageRun.objects.select_related("reel").get(pk=run.pk)
    if run.stage != Stage.SCAN:
        raise TransitionRefused(f"{run.reel.accession}: scans are imported at the scan stage, "
                                f"and its current stage is {run.reel.current_stage}")
    _require_role(run, by, "import a scan for")
    if not run.is_editable:
        raise TransitionRefused(f"the scan of {run.reel.accession} is locked: {_describe(run)}")
    real = resolve_ingest_folder(folder)
    plan = plan_sequence(real, pattern)  # reads the folder listing only
    _check_links(real, [name for _, name in plan.entries])
    with transaction.atomic():
        reel, run = _fresh_run(run)
        if not run.is_editable:
            raise TransitionRefused(f"the scan of {reel.accession} is locked: {_describe(run)}")
        if Sequence.objects.filter(reel=reel, kind=SequenceKind.RAW_SCAN,
                                   state=SequenceState.IMPORTING).exists():
            raise TransitionRefused(f"an import for {reel.accession} is already running")
        _ensure_started(reel, run, by)
        version = Sequence.objects.filter(reel=reel, kind=SequenceKind.RAW_SCAN).count() + 1
        storage = Path(settings.STORAGE_ROOT) / reel.accession / f"raw_scan-v{version}"
        if storage.exists() and any(storage.iterdir()):
            raise TransitionRefused(f"{storage} already holds files that this database does "
                                    "not know: move them away before importing")
        sequence = Sequence.objects.create(
            reel=reel, kind=SequenceKind.RAW_SCAN, version=version, root_path=str(real),
            pattern=plan.pattern, storage_dir=str(storage), frame_count=plan.count,
            first_frame=plan.first, last_frame=plan.last, missing_count=len(plan.missing),
            missing=plan.missing, duplicates=plan.duplicates)
        write_atomic(storage / "plan.json", json.dumps(plan.to_json()).encode())
        record, _ = ScanRecord.objects.get_or_create(run=run)
        ScanRecord.objects.filter(pk=record.pk).update(sequence=sequence)
        chunks = _chunks(len(plan.entries), settings.INGEST_CHUNK_FRAMES)
        _event(reel, run, "import_started", by, from_state=run.status, to_state=run.status,
               reason=f"{real} ({plan.pattern}, {plan.count} frames"
                      f"{', ' + str(len(plan.others)) + ' other files left out' if plan.others else ''})",
               data={"sequence": sequence.pk, "folder": str(real), "pattern": plan.pattern,
                     "frames": plan.count, "chunks": len(chunks)})
        enqueue_group("ingest_chunk",
                      [{"sequence": sequence.pk, "start": a, "stop": b} for a, b in chunks],
                      then="ingest_finish", then_args={"sequence": sequence.pk, "chunks": chunks},
                      reel=reel, run=run, by=by)
    return sequence


def resume_scan_import(sequence: Any, *, by: AbstractBaseUser):
    """Run again the chunks of an interrupted or failed import that left no result, then finish.

    Chunk results are written whole or not at all, so a worker killed half-way leaves nothing
    behind that could be counted twice.
    """
    import json

    from django.conf import settings

    from workflow.runner import enqueue_group

    with transaction.atomic():
        reel = _lock_reel(sequence.reel_id)
        sequence = Sequence.objects.get(pk=sequence.pk)
        record = ScanRecord.objects.select_related("run").filter(sequence=sequence).first()
        if record is None:
            raise TransitionRefused(f"{sequence} was not imported at a scan stage")
        run = record.run
        _require_role(run, by, "resume the import of")
        if sequence.state not in (SequenceState.IMPORTING, SequenceState.FAILED):
            raise TransitionRefused(f"{sequence} is already imported")
        if not run.is_editable:
            raise TransitionRefused(f"the scan of {reel.accession} is locked: {_describe(run)}")
        # Jobs of the earlier attempt that never ended (a killed worker) are closed first.
        for job in Job.objects.filter(run=run, kind__in=("ingest_chunk", "ingest_finish"),
                                      state__in=(JobState.QUEUED, JobState.RUNNING)):
            Job.objects.filter(pk=job.pk).update(
                state=JobState.FAILED, ended_at=timezone.now(),
                error="abandoned: the import was resumed")
        storage = Path(sequence.storage_dir)
        plan_total = len(json.loads((storage / "plan.json").read_text())["entries"])
        chunks = _chunks(plan_total, settings.INGEST_CHUNK_FRAMES)
        finish_chunks = next((j.args["chunks"] for j in Job.objects.filter(
            run=run, kind="ingest_finish", args__sequence=sequence.pk).order_by("pk")), chunks)
        todo = [c for c in finish_chunks if not chunk_path(storage, *c).exists()]
        Sequence.objects.filter(pk=sequence.pk).update(state=SequenceState.IMPORTING, error="")
        _event(reel, run, "import_resumed", by, from_state=run.status, to_state=run.status,
               data={"sequence": sequence.pk, "chunks_to_run": len(todo),
                     "chunks": len(finish_chunks)})
        enqueue_group("ingest_chunk",
                      [{"sequence": sequence.pk, "start": a, "stop": b} for a, b in todo],
                      then="ingest_finish",
                      then_args={"sequence": sequence.pk, "chunks": finish_chunks},
                      reel=reel, run=run, by=by)
    return sequence


def chunk_path(storage: Path, start: int, stop: int) -> Path:
    return storage / "chunks" / f"{start:09d}-{stop:09d}.json"


def _record_facts(sequence: Sequence, report: Any, now: Any) -> str:
    """Store what reading a whole sequence found (an import, or a repair's output) and return
    the sequence's new state."""
    f = report.facts
    if f is None:
        state = SequenceState.FAILED
    elif report.bad_frames or report.missing or report.duplicates:
        state = SequenceState.PROBLEMS
    else:
        state = SequenceState.VALID
    manifest = report.manifest
    Sequence.objects.filter(pk=sequence.pk).update(
        state=state, frame_count=report.frames, first_frame=report.first,
        last_frame=report.last, missing=report.missing, missing_count=len(report.missing),
        duplicates=report.duplicates, bad_frames=report.bad_frames, warnings=report.warnings,
        width=f.width if f else None, height=f.height if f else None,
        bit_depth=f.bit_depth if f else None, channels=f.channels if f else None,
        descriptor=f.descriptor if f else None, transfer=f.transfer if f else None,
        colorimetric=f.colorimetric if f else None, fps=f.fps if f else None,
        start_timecode=(f.timecode or "") if f else "",
        keycode_first=f.keycode if f else None, keycode_last=report.keycode_last,
        scanner=(f.scanner or "") if f else "", creator=(f.creator or "") if f else "",
        bytes=report.bytes, manifest_path=str(manifest.path) if manifest else "",
        manifest_algorithm=manifest.algorithm if manifest else "",
        manifest_digest=manifest.digest if manifest else "",
        error="" if f else "no frame of the sequence could be read",
        imported_at=now)
    if state != SequenceState.FAILED:
        Sequence.objects.filter(reel_id=sequence.reel_id, kind=sequence.kind,
                                superseded_at=None, pk__lt=sequence.pk
                                ).update(superseded_at=now, superseded_by=sequence)
    return state


def _after_frames_stored(reel: Reel, run: StageRun | None, sequence: Sequence, by: Any) -> None:
    """Thumbnails and the per-frame analysis of a sequence that has just been stored."""
    from workflow.runner import enqueue

    enqueue("make_proxies", reel=reel, run=run, by=by, args={"sequence": sequence.pk})
    enqueue("analyze_scan", reel=reel, run=run, by=by, args={"sequence": sequence.pk})


@transaction.atomic
def finish_scan_import(sequence_id: int, report: Any, *, by: Any = None):
    """Record what the import found; a newer raw scan supersedes the reel's earlier ones."""
    sequence = Sequence.objects.get(pk=sequence_id)
    reel = _lock_reel(sequence.reel_id)
    state = _record_facts(sequence, report, timezone.now())
    manifest = report.manifest
    record = ScanRecord.objects.select_related("run").filter(sequence_id=sequence.pk).first()
    run = record.run if record else None
    _event(reel, run, "scan_imported" if report.facts else "import_failed", by,
           digest=manifest.digest if manifest else "",
           data={"sequence": sequence.pk, "state": state, "frames": report.frames,
                 "missing": len(report.missing), "bad_frames": len(report.bad_frames),
                 "duplicates": len(report.duplicates)})
    if report.facts is not None:
        _after_frames_stored(reel, run, sequence, by)
    return Sequence.objects.get(pk=sequence.pk)


# Repair -----------------------------------------------------------------------------------



def _newest_stored(reel: Reel, kind: str) -> Sequence | None:
    """The reel's newest stored, current sequence of `kind`."""
    return (Sequence.objects.filter(reel=reel, kind=kind, superseded_at=None,
                                    state__in=(SequenceState.VALID, SequenceState.PROBLEMS))
            .order_by("-version").first())


def current_raw_scan(reel: Reel) -> Sequence | None:
    """The scan a repair works from: the reel's newest raw scan that was imported."""
    return _newest_stored(reel, SequenceKind.RAW_SCAN)


def _editable_run(run: StageRun, by: Any, verb: str, stage: str) -> tuple[Reel, StageRun]:
    """The run, locked with its reel, when it is at `stage`, editable and `by` may work it."""
    reel, run = _fresh_run(run)
    if run.stage != stage:
        raise TransitionRefused(f"{reel.accession}: this is done at the {stage} stage, and its "
                                f"current stage is {reel.current_stage}")
    _require_role(run, by, verb)
    if not run.is_editable:
        raise TransitionRefused(f"the {stage} of {reel.accession} is locked: {_describe(run)}")
    return reel, run


def _repair_run(run: StageRun, by: Any, verb: str) -> tuple[Reel, StageRun]:
    return _editable_run(run, by, verb, Stage.REPAIR)


RENDER_JOBS = ("repair_chunk", "repair_finish", "grade_chunk", "grade_finish")


def _repair_running(reel: Reel) -> bool:
    return Sequence.objects.filter(reel=reel, kind=SequenceKind.REPAIRED,
                                   state=SequenceState.IMPORTING).exists()


@transaction.atomic
def save_repair_recipe(run: StageRun, values: dict[str, Any], *, by: AbstractBaseUser):
    """Record the recipe and notes (the first save starts the stage). The recipe is checked and
    its defaults filled in; an unknown op, parameter or model is refused, nothing saved."""
    from workflow.recipes import RecipeRefused, check_named_recipe

    values = dict(values)
    if "recipe" in values:
        try:
            values["recipe"] = check_named_recipe(values["recipe"])
        except RecipeRefused as exc:
            raise TransitionRefused(f"recipe: {exc}") from None
    reel, _ = _repair_run(run, by, "record")
    if _repair_running(reel) and "recipe" in values:
        record = RepairRecord.objects.filter(run=run).first()
        if record is not None and record.recipe != values["recipe"]:
            raise TransitionRefused("a repair run is under way: the recipe is kept until it "
                                    "ends")
    return _save_record(run, RepairRecord, Stage.REPAIR, values, by)


def _recipe_of(run: StageRun) -> list[dict[str, Any]]:
    record = RepairRecord.objects.filter(run=run).first()
    if record is None or not record.recipe:
        raise TransitionRefused("save a recipe first")
    return record.recipe


def start_repair_preview(run: StageRun, first: int, last: int, *, by: AbstractBaseUser) -> Job:
    """Apply the saved recipe to frames `first`-`last` (the files' own numbers) of the raw scan
    into a preview folder, with thumbnails and the analysis before and after."""
    from django.conf import settings

    from workflow.runner import enqueue

    with transaction.atomic():
        reel, run = _repair_run(run, by, "preview")
        recipe = _recipe_of(run)
        source = current_raw_scan(reel)
        if source is None:
            raise TransitionRefused(f"{reel.accession} has no imported scan to repair")
        longest = settings.REPAIR_PREVIEW_MAX_FRAMES
        if last < first or last - first + 1 > longest:
            raise TransitionRefused(f"preview frames {first}-{last}: a range of 1 to {longest} "
                                    "frames, first to last, is expected")
        frames = [f for f in _frames_of(source) if first <= f <= last]
        if not frames:
            raise TransitionRefused(f"preview frames {first}-{last}: the scan has no frame "
                                    f"there (it holds {source.first_frame}-{source.last_frame})")
        _ensure_started(reel, run, by)
        RepairRecord.objects.filter(run=run).update(source=source)
        return enqueue("repair_preview", reel=reel, run=run, by=by, args={
            "source": source.pk, "first": first, "last": last, "recipe": recipe})


def _repair_chunks(total: int) -> list[list[int]]:
    from django.conf import settings

    return _chunks(total, settings.REPAIR_CHUNK_FRAMES)


def start_repair(run: StageRun, *, by: AbstractBaseUser) -> Sequence:
    """Repair the whole raw scan with the saved recipe into a new `repaired` Sequence version.

    The frames are split into chunks on the `gpu` queue (each reads the context its temporal
    operations need); a final job checks the manifest. The raw scan is only read.
    """
    from django.conf import settings

    from workflow.recipes import RecipeRefused, resolve_recipe

    run = StageRun.objects.select_related("reel").get(pk=run.pk)
    try:  # the model files are read and their digests checked before anything is written
        resolved = resolve_recipe(_recipe_of(run))
    except RecipeRefused as exc:
        raise TransitionRefused(f"recipe: {exc}") from None
    with transaction.atomic():
        reel, run = _repair_run(run, by, "repair")
        recipe = _recipe_of(run)
        source = current_raw_scan(reel)
        if source is None:
            raise TransitionRefused(f"{reel.accession} has no imported scan to repair")
        _ensure_started(reel, run, by)
        frames = _frames_of(source)  # unreadable frames are left out, and listed as missing
        sequence = _start_render(
            RENDERS[SequenceKind.REPAIRED], reel, run, source, frames,
            {"recipe": resolved, "device": settings.REPAIR_DEVICE or None},
            settings.REPAIR_CHUNK_FRAMES, by, digest=digest_of({"recipe": recipe}),
            data={"recipe": recipe})
    return sequence


@dataclass(frozen=True)
class Render:
    """A stage that writes a new Sequence version in chunks: repair, and grading's render."""

    kind: str  # the Sequence kind written
    stage: str
    record: str  # the stage's record model, in workflow.models
    noun: str  # in events and messages
    chunk_job: str
    finish_job: str

    @property
    def jobs(self) -> tuple[str, str]:
        return self.chunk_job, self.finish_job

    def record_model(self) -> Any:
        from workflow import models

        return getattr(models, self.record)


RENDERS = {
    SequenceKind.REPAIRED: Render(SequenceKind.REPAIRED, Stage.REPAIR, "RepairRecord",
                                  "repair", "repair_chunk", "repair_finish"),
    SequenceKind.GRADED: Render(SequenceKind.GRADED, Stage.GRADING, "GradeRecord",
                                "render", "grade_chunk", "grade_finish"),
}


def _start_render(render: Render, reel: Reel, run: StageRun, source: Sequence,
                  frames: list[int], spec: dict[str, Any], chunk_frames: int, by: Any, *,
                  digest: str, data: dict[str, Any]) -> Sequence:
    """A new Sequence version of `render.kind`, its spec (``render.json``: the source, the
    frames, the chunks and what the chunk jobs need), one event, and the chunk jobs with a
    final job. Called inside the caller's transaction, with the reel locked."""
    import json

    from django.conf import settings

    from restoration.fixity import write_atomic
    from workflow.runner import enqueue_group

    if Sequence.objects.filter(reel=reel, kind=render.kind,
                               state=SequenceState.IMPORTING).exists():
        raise TransitionRefused(f"a {render.noun} of {reel.accession} is already running")
    version = Sequence.objects.filter(reel=reel, kind=render.kind).count() + 1
    storage = Path(settings.STORAGE_ROOT) / reel.accession / f"{render.kind}-v{version}"
    if storage.exists() and any(storage.iterdir()):
        raise TransitionRefused(f"{storage} already holds files that this database does "
                                f"not know: move them away before the {render.noun}")
    sequence = Sequence.objects.create(
        reel=reel, kind=render.kind, version=version, root_path=str(storage / "frames"),
        pattern=source.pattern, storage_dir=str(storage), frame_count=len(frames),
        first_frame=frames[0], last_frame=frames[-1])
    chunks = _chunks(len(frames), chunk_frames)
    write_atomic(storage / "render.json", json.dumps({
        "source": {"id": source.pk, "folder": source.root_path, "pattern": source.pattern,
                   "manifest_digest": source.manifest_digest, "kind": source.kind,
                   "version": source.version},
        "frames": frames, "chunks": chunks,
        "exclude": sorted(b["file"] for b in source.bad_frames), **spec}, indent=1).encode())
    record, _ = render.record_model().objects.get_or_create(run=run)
    render.record_model().objects.filter(pk=record.pk).update(source=source, sequence=sequence)
    _event(reel, run, f"{render.noun}_started", by, from_state=run.status, to_state=run.status,
           digest=digest, reason=f"{len(frames)} frames of {source.pattern} ({source})" + (
               f"; {len(source.bad_frames)} unreadable frame(s) left out"
               if source.bad_frames else ""),
           data={"sequence": sequence.pk, "source": source.pk, "chunks": len(chunks), **data})
    enqueue_group(render.chunk_job,
                  [{"sequence": sequence.pk, "start": a, "stop": b} for a, b in chunks],
                  then=render.finish_job, then_args={"sequence": sequence.pk},
                  reel=reel, run=run, by=by)
    return sequence


def render_chunk_path(storage: Path, start: int, stop: int) -> Path:
    return storage / "chunks" / f"{start:09d}-{stop:09d}.json"


def resume_render(sequence: Any, *, by: AbstractBaseUser) -> Sequence:
    """Run again the chunks of an interrupted or failed repair or render that left no result,
    then finish. A chunk's result is written only after all its frames are, so a worker killed
    half-way leaves a chunk that is simply done again (its frames are rewritten whole)."""
    import json

    from workflow.runner import enqueue_group

    with transaction.atomic():
        reel = _lock_reel(sequence.reel_id)
        sequence = Sequence.objects.get(pk=sequence.pk)
        render = RENDERS.get(sequence.kind)
        record = render.record_model().objects.select_related("run").filter(
            sequence=sequence).first() if render else None
        if record is None:
            raise TransitionRefused(f"{sequence} was not made by a repair or a render")
        run = record.run
        _require_role(run, by, f"resume the {render.noun} of")
        if sequence.state not in (SequenceState.IMPORTING, SequenceState.FAILED):
            raise TransitionRefused(f"{sequence} is already finished")
        if not run.is_editable:
            raise TransitionRefused(f"the {run.stage} of {reel.accession} is locked: "
                                    f"{_describe(run)}")
        for job in Job.objects.filter(run=run, kind__in=render.jobs, args__sequence=sequence.pk,
                                      state__in=(JobState.QUEUED, JobState.RUNNING)):
            Job.objects.filter(pk=job.pk).update(
                state=JobState.FAILED, ended_at=timezone.now(),
                error=f"abandoned: the {render.noun} was resumed")
        storage = Path(sequence.storage_dir)
        chunks = json.loads((storage / "render.json").read_text())["chunks"]
        todo = [c for c in chunks if not render_chunk_path(storage, *c).exists()]
        Sequence.objects.filter(pk=sequence.pk).update(state=SequenceState.IMPORTING, error="")
        _event(reel, run, f"{render.noun}_resumed", by, from_state=run.status,
               to_state=run.status, data={"sequence": sequence.pk, "chunks_to_run": len(todo),
                                          "chunks": len(chunks)})
        enqueue_group(render.chunk_job,
                      [{"sequence": sequence.pk, "start": a, "stop": b} for a, b in todo],
                      then=render.finish_job, then_args={"sequence": sequence.pk},
                      reel=reel, run=run, by=by)
    return sequence


@transaction.atomic
def finish_render(sequence_id: int, report: Any, provenance: dict[str, Any], *,
                  by: Any = None) -> Sequence:
    """Record a repaired or graded sequence (its manifest checked against every chunk's
    digests by the final job); a newer one supersedes the reel's earlier ones of its kind. The
    stage's work is then complete and ready to be signed off."""
    sequence = Sequence.objects.get(pk=sequence_id)
    render = RENDERS[sequence.kind]
    reel = _lock_reel(sequence.reel_id)
    state = _record_facts(sequence, report, timezone.now())
    record = render.record_model().objects.select_related("run").filter(
        sequence_id=sequence.pk).first()
    run = record.run if record else None
    manifest = report.manifest
    _event(reel, run, f"{render.noun}_finished" if report.facts else f"{render.noun}_failed",
           by, digest=manifest.digest if manifest else "",
           data={"sequence": sequence.pk, "state": state, "frames": report.frames,
                 "invents_detail": provenance.get("invents_detail", []),
                 "provenance_sha256": provenance.get("sha256", "")})
    if report.facts is not None:
        _after_frames_stored(reel, run, sequence, by)
    return Sequence.objects.get(pk=sequence.pk)


# Grading ----------------------------------------------------------------------------------

IN_TRANSFERS = ("cineon", "adx10", "linear", "rec709")
OUT_SPACES = ("rec709", "p3-d65", "rec2020", "aces2065-1")
INTERPOLATIONS = ("tetrahedral", "linear")
GRADE_JOBS = ("grade_chunk", "grade_finish")


def check_cdl(value: Any, what: str = "CDL") -> dict[str, Any] | None:
    """A CDL as stored: ``{"slope": [r, g, b], "offset": [...], "power": [...],
    "saturation": s}`` with slope >= 0, power > 0 and saturation >= 0 (ASC CDL v1.2), all
    finite; None stays None. TransitionRefused names the field."""
    import math

    if value is None:
        return None
    if not isinstance(value, dict):
        raise TransitionRefused(f"{what}: expected slope, offset, power and saturation")
    out: dict[str, Any] = {}
    for name, low in (("slope", 0.0), ("offset", None), ("power", 0.0)):
        triple = value.get(name, [0.0 if name == "offset" else 1.0] * 3)
        if (not isinstance(triple, list | tuple) or len(triple) != 3 or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in triple)):
            raise TransitionRefused(f"{what}: {name} must be three numbers (R, G, B), "
                                    f"not {triple!r}")
        if low is not None and any(v < low or (name == "power" and v == 0) for v in triple):
            raise TransitionRefused(f"{what}: {name} must be "
                                    f"{'above' if name == 'power' else 'at least'} 0, "
                                    f"not {list(triple)}")
        out[name] = [float(v) for v in triple]
    sat = value.get("saturation", 1.0)
    if isinstance(sat, bool) or not isinstance(sat, int | float) or not math.isfinite(sat) \
            or sat < 0:
        raise TransitionRefused(f"{what}: saturation must be a number of at least 0, "
                                f"not {sat!r}")
    out["saturation"] = float(sat)
    unknown = set(value) - {"slope", "offset", "power", "saturation"}
    if unknown:
        raise TransitionRefused(f"{what}: unknown field(s) {', '.join(sorted(unknown))}")
    return out


def grade_source(reel: Reel) -> Sequence | None:
    """What grading works from: the reel's newest repaired sequence, else its raw scan."""
    return _newest_stored(reel, SequenceKind.REPAIRED) or current_raw_scan(reel)


def _grade_run(run: StageRun, by: Any, verb: str) -> tuple[Reel, StageRun]:
    reel, run = _editable_run(run, by, verb, Stage.GRADING)
    if Sequence.objects.filter(reel=reel, kind=SequenceKind.GRADED,
                               state=SequenceState.IMPORTING).exists():
        raise TransitionRefused("a render is under way: the grade is kept until it ends")
    return reel, run


def _check_base(base: dict[str, Any], lut: Any) -> dict[str, Any]:
    base = dict(base or {})
    unknown = set(base) - {"cdl", "lut", "interpolation", "in_transfer", "out_space"}
    if unknown:
        raise TransitionRefused(f"base grade: unknown field(s) {', '.join(sorted(unknown))}")
    out = {"cdl": check_cdl(base.get("cdl"), "base CDL"), "lut": lut,
           "interpolation": base.get("interpolation") or "tetrahedral",
           "in_transfer": base.get("in_transfer") or "",
           "out_space": base.get("out_space") or ""}
    for key, allowed in (("interpolation", INTERPOLATIONS), ("in_transfer", IN_TRANSFERS),
                         ("out_space", OUT_SPACES)):
        if out[key] and out[key] not in allowed:
            raise TransitionRefused(f"base grade: {key} {out[key]!r}; expected one of "
                                    f"{', '.join(allowed)}")
    return out


@transaction.atomic
def save_grade(run: StageRun, values: dict[str, Any], *, by: AbstractBaseUser):
    """Record the reel's base grade and notes (the first save starts the stage). The LUT is
    kept as attached (see `attach_lut`)."""
    from workflow.models import GradeRecord

    reel, run = _grade_run(run, by, "record")
    record = GradeRecord.objects.filter(run=run).first()
    values = dict(values)
    if "base" in values:
        lut = (record.base.get("lut") if record and record.base else None)
        values["base"] = _check_base(values["base"], lut)
    record = _save_record(run, GradeRecord, Stage.GRADING, values, by)
    if record.source_id is None:
        GradeRecord.objects.filter(pk=record.pk).update(source=grade_source(reel))
        record.refresh_from_db()
    return record


@transaction.atomic
def attach_lut(run: StageRun, lut: dict[str, Any] | None, *, by: AbstractBaseUser):
    """Use a stored, checked LUT file (``{"name", "sha256", "file", ...}``) in the base grade,
    or none."""
    from workflow.models import GradeRecord

    reel, run = _grade_run(run, by, "attach a LUT to")
    _ensure_started(reel, run, by)
    record, _ = GradeRecord.objects.get_or_create(run=run)
    before = record.base.get("lut") if record.base else None
    base = _check_base(record.base, lut)
    GradeRecord.objects.filter(pk=record.pk).update(base=base)
    _event(reel, run, "lut_attached" if lut else "lut_removed", by, from_state=run.status,
           to_state=run.status, digest=digest_of(_work(run)),
           data={"before": before, "after": lut})
    return GradeRecord.objects.get(pk=record.pk)


def _set_shots(reel: Reel, run: StageRun, shots: list[dict[str, Any]], origin: str, by: Any,
               reason: str = ""):
    from workflow.models import GradeRecord, Shot

    _ensure_started(reel, run, by)
    record, _ = GradeRecord.objects.get_or_create(run=run)
    if record.source_id is None:
        GradeRecord.objects.filter(pk=record.pk).update(source=grade_source(reel))
    Shot.objects.filter(record=record).delete()
    Shot.objects.bulk_create([Shot(record=record, number=i, origin=origin, **s)
                              for i, s in enumerate(shots, 1)])
    _event(reel, run, "shots_set", by, from_state=run.status, to_state=run.status,
           digest=digest_of(_work(run)), reason=reason,
           data={"origin": origin, "shots": len(shots)})
    return list(Shot.objects.filter(record=record))


def _frames_of(sequence: Sequence) -> list[int]:
    import json

    plan = json.loads((Path(sequence.storage_dir) / "plan.json").read_text())
    bad = {b["file"] for b in sequence.bad_frames}
    return sorted({frame for frame, name in plan["entries"] if name not in bad})


@transaction.atomic
def shots_from_cuts(run: StageRun, *, by: AbstractBaseUser):
    """One shot per scene, from the cuts the analysis found in the sequence graded."""
    reel, run = _grade_run(run, by, "set the shots of")
    source = grade_source(reel)
    if source is None:
        raise TransitionRefused(f"{reel.accession} has no stored sequence to grade")
    report = (source.analysis or {}).get("report")
    if report is None:
        raise TransitionRefused(f"the analysis of {source} has not finished: its scene cuts "
                                "are not known yet")
    frames = _frames_of(source)
    starts = [frames[0]] + [c for c in report.get("cuts", []) if frames[0] < c <= frames[-1]]
    shots = []
    for i, first in enumerate(starts):
        following = starts[i + 1] if i + 1 < len(starts) else None
        last = max(f for f in frames if following is None or f < following)
        shots.append({"first_frame": first, "last_frame": last})
    return _set_shots(reel, run, shots, "cuts", by,
                      reason=f"{len(shots)} shot(s) from the scene cuts of {source}")


@transaction.atomic
def set_shot_grade(shot: Any, cdl: dict[str, Any] | None, *, by: AbstractBaseUser):
    """Give one shot its own CDL (None: the base grade's)."""
    from workflow.models import Shot

    shot = Shot.objects.select_related("record__run").get(pk=shot.pk)
    reel, run = _grade_run(shot.record.run, by, "grade")
    value = check_cdl(cdl, f"shot {shot.number} CDL")
    if value != shot.cdl:
        before = shot.cdl
        Shot.objects.filter(pk=shot.pk).update(cdl=value)
        _event(reel, run, "shot_graded", by, from_state=run.status, to_state=run.status,
               digest=digest_of(_work(run)),
               data={"shot": shot.number, "before": before, "after": value})
    return Shot.objects.get(pk=shot.pk)


@transaction.atomic
def copy_shot_grade(shot: Any, targets: list[int], *, by: AbstractBaseUser) -> int:
    """Copy one shot's CDL to other shots of the same reel (by shot number)."""
    from workflow.models import Shot

    shot = Shot.objects.select_related("record__run").get(pk=shot.pk)
    reel, run = _grade_run(shot.record.run, by, "grade")
    others = Shot.objects.filter(record=shot.record, number__in=targets).exclude(pk=shot.pk)
    missing = sorted(set(targets) - set(others.values_list("number", flat=True)) - {shot.number})
    if missing:
        raise TransitionRefused(f"no shot numbered {', '.join(map(str, missing))}")
    copied = others.update(cdl=shot.cdl)
    _event(reel, run, "grade_copied", by, from_state=run.status, to_state=run.status,
           digest=digest_of(_work(run)),
           data={"from": shot.number, "to": sorted(targets), "cdl": shot.cdl})
    return copied


def _grade_spec_json(record: Any) -> dict[str, Any]:
    """What every grade chunk needs: the base grade with its LUT file, and each shot's CDL."""
    base = dict(record.base or {})
    shots = [{"number": s.number, "first": s.first_frame, "last": s.last_frame, "cdl": s.cdl}
             for s in record.shots.order_by("first_frame")]
    return {"base": base, "shots": shots}


def start_grade_render(run: StageRun, *, by: AbstractBaseUser) -> Sequence:
    """Render the graded frames into a new `graded` Sequence version, in chunks on the `cpu`
    queue; a final job checks the manifest. The sequence graded is only read."""
    from django.conf import settings

    from workflow.models import GradeRecord

    with transaction.atomic():
        reel, run = _grade_run(run, by, "render")
        record = GradeRecord.objects.select_related("source").filter(run=run).first()
        if record is None or not record.base:
            raise TransitionRefused("save a base grade first")
        source = record.source or grade_source(reel)
        if source is None:
            raise TransitionRefused(f"{reel.accession} has no stored sequence to grade")
        lut = (record.base or {}).get("lut")
        if lut:
            from restoration.grading import file_sha256

            path = Path(lut["file"])
            if not path.is_file() or file_sha256(path) != lut["sha256"]:
                raise TransitionRefused(f"the LUT {lut['name']} ({path}) is missing or was "
                                        "changed since it was attached: attach it again")
        _ensure_started(reel, run, by)
        spec = _grade_spec_json(record)
        return _start_render(RENDERS[SequenceKind.GRADED], reel, run, source,
                             _frames_of(source), spec, settings.GRADE_CHUNK_FRAMES, by,
                             digest=digest_of(spec), data={"shots": len(spec["shots"])})


def _check_grade_ready(run: StageRun) -> None:
    """A grade is signed off only with its render finished: the sign-off binds its manifest."""
    from workflow.models import GradeRecord

    record = GradeRecord.objects.select_related("sequence").filter(run=run).first()
    seq = record.sequence if record else None
    _check_finished(seq, "render the grade", f"the render ({seq})", "resume it or render again")
    import json

    rendered = json.loads((Path(seq.storage_dir) / "render.json").read_text())
    if digest_of({"base": rendered["base"], "shots": rendered["shots"]}) != digest_of(
            _grade_spec_json(record)):
        raise TransitionRefused("the grade or the shots changed after the render: render again")


def _cdl_dict(cdl: Any) -> dict[str, Any] | None:
    if cdl is None:
        return None
    return {"slope": list(cdl.slope), "offset": list(cdl.offset), "power": list(cdl.power),
            "saturation": cdl.saturation}


@transaction.atomic
def shots_from_edl(run: StageRun, path: str | Path, *, by: AbstractBaseUser,
                   name: str = "", fps: float | None = None):
    """One shot per video event of a CMX3600 EDL, with the event's ASC_SOP / ASC_SAT as its
    CDL. Record timecodes are placed on the frames by the sequence's start timecode (or, with
    none, the first event starts at the first frame). What grading cannot follow (dissolves,
    wipes, speed changes) is kept on the shot as a note, never dropped."""
    from restoration.interchange import InterchangeError, read_edl, timecode_to_frames

    reel, run = _grade_run(run, by, "set the shots of")
    source = grade_source(reel)
    if source is None:
        raise TransitionRefused(f"{reel.accession} has no stored sequence to grade")
    label = name or Path(path).name
    try:
        edl = read_edl(path, fps=fps or source.fps or float(reel.frame_rate))
    except InterchangeError as exc:
        raise TransitionRefused(f"{label}: {exc}") from None
    events = sorted((e for e in edl.events if e.video), key=lambda e: e.record_in_frame)
    if not events:
        raise TransitionRefused(f"{label}: no video event to make shots from")
    if source.start_timecode:
        start = timecode_to_frames(source.start_timecode, edl.rate, edl.drop_frame)
    else:
        start = events[0].record_in_frame
    frames = _frames_of(source)
    shots, outside = [], []
    for event in events:
        first = frames[0] + event.record_in_frame - start
        last = first + event.record_out_frame - event.record_in_frame - 1
        if last < frames[0] or first > frames[-1] or last < first:
            outside.append(event.number_text)
            continue
        if shots and first <= shots[-1]["last_frame"]:
            raise TransitionRefused(f"{label}: event {event.number_text} overlaps the event "
                                    f"before it on the record side")
        shots.append({"first_frame": max(first, frames[0]), "last_frame": min(last, frames[-1]),
                      "name": (event.clip_name or f"event {event.number_text}")[:200],
                      "cdl": _cdl_dict(event.cdl), "note": "; ".join(event.unsupported)})
    if not shots:
        raise TransitionRefused(f"{label}: none of its {len(events)} video events falls on the "
                                f"frames {frames[0]}-{frames[-1]}")
    reason = f"{len(shots)} shot(s) from {label}"
    sound = len(edl.events) - len(events)
    if sound:
        reason += f"; {sound} sound-only event(s) left to the merge stage"
    if outside:
        reason += f"; event(s) {', '.join(outside[:20])} fall outside the frames"
    return _set_shots(reel, run, shots, "edl", by, reason=reason)
