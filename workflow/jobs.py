"""Background jobs: thin functions `<kind>_job(job_id)` that load rows, call `restoration`,
and hand the result to a transition. They run the same under `rqworker` and in-process.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings

from restoration.images import make_thumbnail
from workflow.models import InspectionPhoto
from workflow.runner import worker_name
from workflow.transitions import begin_job, finish_job, report_progress


def _progress(job_id: int):
    def report(done: int, total: int) -> None:
        report_progress(job_id, done, total)

    return report


def thumbnail_photo_job(job_id: int) -> None:
    job = begin_job(job_id, worker=worker_name())
    photo = InspectionPhoto.objects.get(pk=job.args["photo"])
    source = Path(settings.MEDIA_ROOT) / photo.image.name
    thumb_name = str(Path(photo.image.name).with_suffix("")) + ".thumb.jpg"
    report = make_thumbnail(source, Path(settings.MEDIA_ROOT) / thumb_name,
                            on_progress=_progress(job_id))
    InspectionPhoto.objects.filter(pk=photo.pk).update(thumbnail=thumb_name)
    finish_job(job_id, message=f"thumbnail {report.width}x{report.height}")


def always_fails_job(job_id: int) -> None:
    """A job that fails on purpose, so the failure path can be seen and tested end to end."""
    begin_job(job_id, worker=worker_name())
    report_progress(job_id, 1, 3, "about to fail")
    raise RuntimeError(f"job {job_id} failed on purpose: {settings.JOBS_BACKEND} runner")


def _plan_of(sequence):
    import json

    from restoration.inspect import Plan

    return Plan.from_json(json.loads((Path(sequence.storage_dir) / "plan.json").read_text()))


def ingest_chunk_job(job_id: int) -> None:
    """Read, check and digest one range of a scan's frames; the result is written whole or not
    at all, and a range already done is not read again (so the job may run twice)."""
    import json

    from archive.models import Sequence
    from restoration.fixity import write_atomic
    from restoration.inspect import read_frames
    from workflow.transitions import chunk_path

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.get(pk=job.args["sequence"])
    start, stop = job.args["start"], job.args["stop"]
    out = chunk_path(Path(sequence.storage_dir), start, stop)
    if out.exists():
        finish_job(job_id, message="already read before (resumed)")
        return
    plan = _plan_of(sequence)
    records = read_frames(plan, plan.entries[start:stop], workers=settings.INGEST_THREADS,
                          on_progress=_progress(job_id))
    write_atomic(out, json.dumps([r.to_json() for r in records]).encode())
    bad = sum(1 for r in records if r.errors)
    finish_job(job_id, message="files read" + (f", {bad} bad" if bad else ""))


def ingest_finish_job(job_id: int) -> None:
    """Gather the chunks in frame order into the manifest and bag-info, and record the facts."""
    import json

    from archive.models import Sequence
    from restoration.inspect import FrameRecord, summarise
    from workflow.transitions import chunk_path, finish_scan_import

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.select_related("reel").get(pk=job.args["sequence"])
    storage = Path(sequence.storage_dir)
    plan = _plan_of(sequence)
    records = []
    for start, stop in job.args["chunks"]:
        path = chunk_path(storage, start, stop)
        if not path.exists():
            raise RuntimeError(f"files {start + 1}-{stop} of {plan.pattern} were not read "
                               f"({path.name} missing): resume the import")
        records.extend(FrameRecord.from_json(d) for d in json.loads(path.read_text()))
    if [(r.frame, r.name) for r in records] != [tuple(e) for e in plan.entries]:
        raise RuntimeError(f"{plan.pattern}: the chunk results do not add up to the planned "
                           "frames: resume the import")
    report = summarise(plan, records, manifest_dir=storage, bag_info={
        "External-Identifier": sequence.reel.accession,
        "Source-Folder": sequence.root_path,
        "Sequence-Version": f"raw_scan-v{sequence.version}",
    })
    finish_scan_import(sequence.pk, report, by=job.created_by)
    finish_job(job_id, message=f"{report.frames} frames; manifest "
                               f"{report.manifest.digest[:12] if report.manifest else 'none'}")


def make_proxies_job(job_id: int) -> None:
    """Thumbnails and contact sheets of an imported sequence, for the approver's page."""
    from archive.models import Sequence
    from restoration.proxies import make_proxies, transfer_kind

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.get(pk=job.args["sequence"])
    plan = _plan_of(sequence)
    bad = {b["file"] for b in sequence.bad_frames}
    entries = [(frame, name) for frame, name in plan.entries if name not in bad]
    kind = transfer_kind((sequence.transfer or {}).get("code"))
    # every PROXY_EVERY-th frame, but at least a dozen thumbnails for a short scan
    every = max(1, min(settings.PROXY_EVERY, len(entries) // 12))
    report = make_proxies(plan.folder, entries, Path(sequence.storage_dir) / "proxies",
                          kind=kind, every=every,
                          sheet_frames=settings.PROXY_SHEET_FRAMES,
                          on_progress=_progress(job_id))
    Sequence.objects.filter(pk=sequence.pk).update(proxies={
        "kind": kind, "thumbnails": report.thumbnails, "sheets": report.sheets,
        "errors": report.errors})
    finish_job(job_id, message=f"thumbnails made, {len(report.sheets)} contact "
                               f"sheet{'s' if len(report.sheets) != 1 else ''}")


def analyze_scan_job(job_id: int) -> None:
    """Per-frame metrics of an imported scan (analysis.npz beside its manifest) and the reel's
    defect report, for the restorer who chooses the repair recipe."""
    from archive.models import Sequence
    from restoration.analysis import analyze_sequence, defect_report, save_metrics

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.get(pk=job.args["sequence"])
    plan = _plan_of(sequence)
    bad = {b["file"] for b in sequence.bad_frames}
    seen: set[int] = set()
    paths = []
    for frame, name in plan.entries:
        if name not in bad and frame not in seen:  # a duplicate's first file, as listed
            seen.add(frame)
            paths.append((frame, plan.folder / name))
    result = analyze_sequence(paths, on_progress=_progress(job_id))
    target = Path(sequence.storage_dir) / "analysis.npz"
    save_metrics(result, target)
    report = defect_report(result)
    Sequence.objects.filter(pk=sequence.pk).update(
        analysis={"file": target.name, "frames": len(result), "report": report})
    finish_job(job_id, message=f"analysed; {len(report.get('summary', []))} findings")
